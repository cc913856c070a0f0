"""``python -m genesis_lab.cli``: the ``genesis-lab`` command."""

from __future__ import annotations

import sys

from genesis_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
