"""Training: exercise checks for the training notebooks, and courses (hub group + notebooks).

>>> from genesis_lab.training import checks
>>> checks.expect_close(2.0, 2.0, name="x")
"""

from __future__ import annotations

__all__ = ["checks", "courses", "hooks", "results"]
