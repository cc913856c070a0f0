"""``python -m genesis_lab.service``: run the genesis service (as the hub's managed service)."""

from __future__ import annotations

from genesis_lab.service.app import serve

if __name__ == "__main__":
    serve()
