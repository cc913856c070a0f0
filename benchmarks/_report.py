"""One printed line per claim: the measured figure beside its target, both from the same run.

Each ``bench_*.py`` lists the claims it makes in a module-level ``CLAIMS`` tuple of names; the
runner (``run.py``) fails a claim that was listed but never measured. Figures that are no claim
(context beside a claim) go through :func:`context`, which is printed and never counted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

RESULTS: list[dict] = []
CONTEXT: list[dict] = []


def claim(
    name: str, value: float, target: float, *, op: str = "<=", unit: str = "x", details: str = ""
) -> bool:
    """Print and record one claim; ``op`` is ``<=`` or ``>=``."""
    ok = value <= target if op == "<=" else value >= target
    line = f"{'PASS' if ok else 'FAIL'}  {name}: {value:.3g}{unit} (target {op} {target:g}{unit})"
    if details:
        line += f"  [{details}]"
    print(line, flush=True)
    RESULTS.append({"name": name, "value": value, "target": target, "op": op, "ok": ok})
    return ok


def context(name: str, value: float, *, unit: str = "", details: str = "") -> None:
    """Print one figure that is context, not a claim: it has no target and is not counted."""
    line = f"INFO  {name}: {value:.3g}{unit} (context, not a claim)"
    if details:
        line += f"  [{details}]"
    print(line, flush=True)
    CONTEXT.append({"name": name, "value": value})


def interleaved(
    a: Callable[[], object], b: Callable[[], object], pairs: int = 10
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately ``pairs`` times (A/B, B/A, ...); seconds per call."""
    ta, tb = [], []
    for i in range(pairs):
        order = ((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta))
        for fn, bucket in order:
            t0 = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - t0)
    return ta, tb


def median(xs: list[float]) -> float:
    return statistics.median(xs)
