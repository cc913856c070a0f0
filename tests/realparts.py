"""How tests meet a missing real part: skip with a reason locally, fail under ``CI=true``."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, part: str, how: str) -> None:
    """Skip (or, under CI=true, fail) unless ``condition``; ``how`` says how to enable ``part``."""
    if condition:
        return
    message = f"{part} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI=true and a real part is missing. {message}", pytrace=False)
    pytest.skip(message)


def require_executable(name: str, part: str, how: str) -> str:
    """The path of ``name`` on PATH, or skip/fail as :func:`require` does."""
    path = shutil.which(name)
    require(path is not None, part, how)
    assert path is not None
    return path


def is_root() -> bool:
    return os.geteuid() == 0
