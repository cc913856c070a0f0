"""A first-time user's spawn (their Unix account and home created on the way) against the same
user's next spawn, on the project hub run as root (sessions as accounts of their own).

Run: ``.venv/bin/python benchmarks/bench_accounts.py`` (as root; needs ``make proxy``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _report import claim, context
from fixtures.hub import _shutdown, hub_base, start_hub

CLAIMS = ("first-time user's spawn (account created) / returning user's spawn",)
USERS = 6
FORM = {"allocation": "open-local", "memory": "512MiB"}


def spawn_seconds(hub, name: str) -> float:
    t0 = time.perf_counter()
    r = hub.spawn(name, FORM)
    if r.status_code not in (201, 202):
        raise RuntimeError(f"spawn of {name} refused: {r.status_code} {r.text[-300:]}")
    hub.wait_ready(name, timeout=180)
    return time.perf_counter() - t0


def main() -> None:
    if os.geteuid() != 0:
        print("SKIP  bench_accounts: run as root (accounts are created only by a root hub)")
        return
    base = hub_base("bench-accounts")
    hub = start_hub(base)
    try:
        names = [hub.new_user() for _ in range(USERS)]
        for name in names:
            hub.user_token(name)  # log in first: only the spawn is timed
        first, again = [], []
        for name in names:  # first spawn, stop, second spawn, stop: pairs side by side
            first.append(spawn_seconds(hub, name))
            hub.stop_server(name)
            again.append(spawn_seconds(hub, name))
            hub.stop_server(name)
        ratio = statistics.median(first) / statistics.median(again)
        claim(CLAIMS[0], ratio, 1.3,
              details=f"median first {statistics.median(first):.2f} s, returning "
              f"{statistics.median(again):.2f} s, {USERS} users")  # fmt: skip
        context("first spawn, slowest", max(first), unit=" s")
    finally:
        _shutdown(hub)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
