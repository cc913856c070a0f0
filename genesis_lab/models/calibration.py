"""Honest uncertainty: calibrate a Gaussian process's intervals, and say what its fit ran into.

A GP's own standard deviation is often too small (or too large) on simulator data, which has no
noise and is rarely stationary. Split-conformal calibration fixes the 95 % interval: rows held
back from the fit give standardised errors ``|y - mean| / std``, and the factor that makes
95 % of them fall inside ``mean ± 1.96 · factor · std`` scales every later standard deviation.
For new rows like the held-back ones the interval then covers at least 95 % on average
(Vovk et al., *Algorithmic Learning in a Random World*, 2005; Lei et al., JASA 113, 2018).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["LEVEL", "MIN_ROWS", "ROUGH_ROWS", "calibration_scale", "fit_note", "z_of"]

LEVEL = 0.95
"""The interval the calibration is made for."""

MIN_ROWS = 19
"""Fewest held-back rows for which a 95 % conformal quantile is finite: ceil(0.95 (n+1)) <= n."""

ROUGH_ROWS = 40
"""Under this many held-back rows the card says the calibration is rough (its coverage has a
standard deviation of sqrt(0.95 · 0.05 / n), 3.4 points at 40 rows)."""


def z_of(level: float) -> float:
    """The standard normal quantile of a central interval: 1.96 for 0.95.

    >>> round(z_of(0.95), 4), round(z_of(0.6827), 3)
    (1.96, 1.0)
    """
    from scipy.stats import norm

    if not 0 < level < 1:
        from genesis_lab.errors import ModelError

        raise ModelError(f"level={level!r} must be between 0 and 1 (for example 0.95)")
    return float(norm.ppf(0.5 + level / 2))


def calibration_scale(abs_z: Sequence[float] | np.ndarray, level: float = LEVEL) -> float:
    """The factor for the standard deviation so ``level`` of held-back rows lie inside.

    The split-conformal quantile is the ``ceil(level (n + 1))``-th smallest ``|z|``; with fewer
    than :data:`MIN_ROWS` rows that rank does not exist and the largest ``|z|`` is used.

    >>> round(calibration_scale(np.arange(1, 40) * 0.1), 4)  # 39 rows: the 38th smallest, 3.8
    1.9388
    """
    z = np.sort(np.abs(np.asarray(abs_z, dtype=np.float64)))
    if z.size == 0:
        return 1.0
    rank = min(math.ceil(level * (z.size + 1)), z.size)
    return float(z[rank - 1] / z_of(level))


_BOUND = re.compile(
    r"dimension (\d+) of parameter (\S+) is close to the specified (upper|lower) bound"
)


def _parameter_words(name: str, dim: int, features: Sequence[str]) -> str:
    if name.endswith("noise_level"):
        return "the noise level"
    if name.endswith("constant_value"):
        return "the signal variance"
    if name.endswith("length_scale"):
        feature = features[dim] if dim < len(features) else f"feature {dim}"
        return f"the length scale of {feature}"
    return name


def fit_note(
    messages: Iterable[str], features: Sequence[str], *, calibrated: bool = True
) -> str | None:
    """One sentence for the card from a fit's warnings (``None`` when there were none).

    >>> fit_note(["The optimal value found for dimension 0 of parameter k2__noise_level is "
    ...           "close to the specified lower bound 1e-08. Increasing ..."], ["power"])
    "The fit put the noise level at its lower bound (the data look noise-free, as a deterministic simulator's are); the 95 % intervals are calibrated on held-back rows all the same."
    """
    bounds: list[str] = []
    other = 0
    for message in messages:
        m = _BOUND.search(message)
        if m is None:
            other += 1
            continue
        dim, name, side = int(m.group(1)), m.group(2), m.group(3)
        what = _parameter_words(name, dim, features)
        if what == "the noise level" and side == "lower":
            what += (
                " at its lower bound (the data look noise-free, as a deterministic simulator's are)"
            )
        else:
            what += f" at its {side} bound"
        if what not in bounds:
            bounds.append(what)
    parts = []
    if bounds:
        parts.append("put " + ", ".join(bounds))
    if other:
        parts.append(f"reported {other} other optimiser warning{'s' if other > 1 else ''}")
    if not parts:
        return None
    tail = (
        "; the 95 % intervals are calibrated on held-back rows all the same" if calibrated else ""
    )
    return f"The fit {' and '.join(parts)}{tail}."
