"""Exercise checks for the training notebooks: each says what is wrong and how to fix it.

A :class:`Workbook` records pass/fail per exercise into the notebook's results file, which
``genesis-lab course progress`` collects without anyone opening the notebook.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from genesis_lab.errors import CourseError
from genesis_lab.training.results import record_result

__all__ = [
    "CheckFailed",
    "Workbook",
    "describe",
    "expect_between",
    "expect_close",
    "expect_dataarray",
    "expect_dataset",
    "expect_entries",
    "expect_equal",
    "expect_keys",
    "expect_true",
    "expect_type",
]


class CheckFailed(AssertionError):
    """An exercise check did not pass; the message says what is wrong and what to do.

    In Jupyter only the message is shown (no traceback), since the learner's code is not broken
    in the Python sense.
    """

    def _render_traceback_(self) -> list[str]:  # IPython's hook for custom tracebacks
        return [f"\x1b[31m✗ {self}\x1b[0m"]


def describe(obj: Any) -> str:
    """A short phrase naming what ``obj`` is, for messages.

    >>> describe(None), describe([1, 2]), describe(3.0)
    ('None', 'a list of 2 items', 'a float (3)')
    """
    if obj is None:
        return "None"
    cls = type(obj)
    module = cls.__module__.split(".")[0]
    if module == "xarray":
        names = ", ".join(map(repr, list(getattr(obj, "data_vars", {}))[:5]))
        what = f"an xarray.{cls.__name__}"
        return f"{what} with variables {names}" if names else what
    if module == "pandas":
        return f"a pandas {cls.__name__}"
    if module == "numpy":
        shape = getattr(obj, "shape", None)
        return f"a numpy {cls.__name__} of shape {shape}" if shape else f"a numpy {cls.__name__}"
    if isinstance(obj, bool):
        return f"a bool ({obj})"
    if isinstance(obj, int | float):
        return f"a {cls.__name__} ({obj:g})"
    if isinstance(obj, str):
        return f"a str ({obj[:40]!r})"
    if isinstance(obj, list | tuple | set | dict):
        return f"a {cls.__name__} of {len(obj)} items"
    return f"a {cls.__module__}.{cls.__name__}"


def _fail(message: str, hint: str = "") -> None:
    raise CheckFailed(f"{message} — {hint}" if hint else message)


def expect_true(condition: bool, message: str, hint: str = "") -> None:
    """Fail with ``message`` (and ``hint``) unless ``condition``.

    >>> expect_true(1 < 2, "one should be less than two")
    """
    if not condition:
        _fail(message, hint)


def expect_type(obj: Any, kind: type | tuple[type, ...], name: str, hint: str = "") -> None:
    """Fail unless ``obj`` is an instance of ``kind``.

    >>> expect_type(3, int, "n")
    """
    if not isinstance(obj, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        _fail(f"expected `{name}` to be a {wanted}; you have {describe(obj)}", hint)


def expect_dataset(
    obj: Any,
    variables: Sequence[str] = (),
    dims: Sequence[str] = (),
    *,
    name: str = "ds",
    hint: str = "use ds = gl.open_dataset(ID) (or sim.run / gl.sweep)",
) -> None:
    """Fail unless ``obj`` is an ``xarray.Dataset`` with ``variables`` and ``dims``.

    >>> import xarray as xr
    >>> expect_dataset(xr.Dataset({"t": ("x", [1.0])}), ["t"], ["x"])
    """
    import xarray as xr

    want = f" with a {variables[0]!r} variable" if len(variables) == 1 else ""
    if len(variables) > 1:
        want = f" with variables {', '.join(map(repr, variables))}"
    if not isinstance(obj, xr.Dataset):
        _fail(f"expected `{name}` to be an xarray.Dataset{want}; you have {describe(obj)}", hint)
    missing = [v for v in variables if v not in obj.variables]
    if missing:
        have = ", ".join(map(repr, list(obj.data_vars)[:8]))
        _fail(
            f"`{name}` has no variable {missing[0]!r}; its variables are {have}",
            "check the spelling, or that you opened the right dataset",
        )
    missing_dims = [d for d in dims if d not in obj.dims]
    if missing_dims:
        _fail(
            f"`{name}` has no dimension {missing_dims[0]!r}; its dimensions are "
            f"{', '.join(map(repr, obj.dims))}",
            hint,
        )


def expect_dataarray(
    obj: Any, dims: Sequence[str] | None = None, *, name: str = "da", hint: str = ""
) -> None:
    """Fail unless ``obj`` is an ``xarray.DataArray`` with exactly ``dims`` (if given).

    >>> import xarray as xr
    >>> expect_dataarray(xr.DataArray([1.0], dims="x"), ["x"])
    """
    import xarray as xr

    if not isinstance(obj, xr.DataArray):
        extra = ""
        if isinstance(obj, xr.Dataset):
            extra = " — pick one variable with ds['name']"
        _fail(f"expected `{name}` to be an xarray.DataArray; you have {describe(obj)}{extra}", hint)
    if dims is not None and tuple(obj.dims) != tuple(dims):
        _fail(
            f"expected `{name}` to have dimensions {tuple(dims)}; it has {tuple(obj.dims)}",
            hint or "reduce over the other dimensions (.mean(dim=...), .sel(...))",
        )


def expect_close(
    value: Any,
    expected: float,
    *,
    rel: float = 1e-6,
    abs_tol: float = 0.0,
    name: str = "value",
    unit: str = "",
    hint: str = "",
) -> None:
    """Fail unless ``value`` is a number within ``rel`` (relative) or ``abs_tol`` of ``expected``.

    >>> expect_close(1.0001, 1.0, rel=1e-3)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"expected `{name}` to be a number; you have {describe(value)}", hint)
        return
    u = f" {unit}" if unit else ""
    if math.isnan(number):
        _fail(f"`{name}` is NaN", hint or "look for a division by zero or missing data")
    if not math.isclose(number, expected, rel_tol=rel, abs_tol=abs_tol):
        ratio = number / expected if expected else float("nan")
        scale = ""
        for factor, word in ((1e3, "1000"), (1e6, "a million"), (3600.0, "3600"), (60.0, "60")):
            if math.isfinite(ratio) and (
                math.isclose(ratio, factor, rel_tol=0.02)
                or math.isclose(ratio, 1 / factor, rel_tol=0.02)
            ):
                scale = f" (off by a factor of {word} — check the units)"
                break
        _fail(
            f"`{name}` is {number:.6g}{u}, expected {expected:.6g}{u} "
            f"(within {rel:.0e} relative){scale}",
            hint,
        )


def expect_between(
    value: Any, lo: float, hi: float, *, name: str = "value", hint: str = ""
) -> None:
    """Fail unless ``lo <= value <= hi``.

    >>> expect_between(0.5, 0, 1)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        _fail(f"expected `{name}` to be a number; you have {describe(value)}", hint)
        return
    if not lo <= number <= hi:
        _fail(f"`{name}` is {number:.6g}, expected between {lo:g} and {hi:g}", hint)


def expect_equal(value: Any, expected: Any, *, name: str = "value", hint: str = "") -> None:
    """Fail unless ``value == expected``.

    >>> expect_equal("a", "a")
    """
    if value != expected:
        _fail(f"`{name}` is {value!r}, expected {expected!r}", hint)


def expect_keys(mapping: Any, keys: Iterable[str], *, name: str = "result", hint: str = "") -> None:
    """Fail unless ``mapping`` is a mapping holding every key of ``keys``.

    >>> expect_keys({"a": 1}, ["a"])
    """
    if not isinstance(mapping, Mapping):
        _fail(f"expected `{name}` to be a dict; you have {describe(mapping)}", hint)
    missing = [k for k in keys if k not in mapping]
    if missing:
        _fail(
            f"`{name}` has no key {missing[0]!r}; its keys are {', '.join(map(repr, mapping))}",
            hint,
        )


def expect_entries(
    hits: Any,
    *,
    kind: str | None = None,
    domain: str | None = None,
    min_count: int = 1,
    name: str = "hits",
) -> None:
    """Fail unless ``hits`` is a list of catalog entries, all of ``kind`` and ``domain``.

    >>> import genesis_lab as gl
    >>> expect_entries(gl.search("neutron", kind="dataset"), kind="dataset")
    """
    if not isinstance(hits, list | tuple):
        _fail(
            f"expected `{name}` to be a list of catalog entries; you have {describe(hits)}",
            "use hits = gl.search(TEXT, kind=..., domain=...)",
        )
    if len(hits) < min_count:
        _fail(
            f"`{name}` holds {len(hits)} entries, expected at least {min_count}",
            "search with fewer or other words; `genesis-lab catalog list` shows every entry",
        )
    for e in hits:
        if not hasattr(e, "kind") or not hasattr(e, "id"):
            _fail(
                f"`{name}` holds {describe(e)}, not catalog entries", "keep what gl.search returns"
            )
        if kind and e.kind != kind:
            _fail(f"`{name}` holds {e.id!r}, a {e.kind}, not a {kind}", f"pass kind={kind!r}")
        if domain and getattr(e, "domain", None) != domain:
            _fail(f"`{name}` holds {e.id!r} from another domain", f"pass domain={domain!r}")


class Workbook:
    """The exercises of one notebook; each outcome is recorded in its results file.

    >>> import tempfile
    >>> book = Workbook("demo", folder=Path(tempfile.mkdtemp()))
    >>> with book.exercise("one"):
    ...     expect_close(2 + 2, 4, name="sum")
    ✓ one
    >>> book.passed
    {'one': True}
    """

    def __init__(
        self, notebook: str, exercises: Sequence[str] = (), *, folder: Path | None = None
    ) -> None:
        self.notebook = notebook
        self.exercises = list(exercises)
        self.folder = folder
        self.passed: dict[str, bool] = {}
        self.not_recorded: str | None = None
        """Why an outcome could not be recorded (None while every one was)."""

    @contextlib.contextmanager
    def exercise(self, exercise_id: str) -> Iterator[None]:
        """Run the checks of ``exercise_id`` inside this block and record the outcome."""
        try:
            yield
        except CheckFailed as exc:
            self._record(exercise_id, False, str(exc))
            raise
        except Exception as exc:
            msg = f"your code raised {type(exc).__name__}: {exc}"
            self._record(exercise_id, False, msg)
            raise
        self._record(exercise_id, True, "passed")
        print(f"✓ {exercise_id}")

    def _record(self, exercise_id: str, passed: bool, message: str) -> None:
        self.passed[exercise_id] = passed
        try:
            record_result(self.notebook, exercise_id, passed, message, folder=self.folder)
        except CourseError as exc:
            self.not_recorded = str(exc)
            print(f"! {exercise_id}: not recorded: {exc}")

    def summary(self) -> str:
        """One line: how many exercises passed, and which are left; or that they were not
        recorded, and why.

        >>> book = Workbook("demo", ["one"])
        >>> book.passed, book.not_recorded = {"one": True}, "the service answered 403"
        >>> book.summary()
        '1/1 exercises pass, but not recorded: the service answered 403'
        """
        names = self.exercises or list(self.passed)
        done = [e for e in names if self.passed.get(e)]
        left = [e for e in names if not self.passed.get(e)]
        if self.not_recorded:
            return f"{len(done)}/{len(names)} exercises pass, but not recorded: {self.not_recorded}"
        tail = f"; still to do: {', '.join(left)}" if left else " — well done!"
        return f"{len(done)}/{len(names)} exercises pass{tail}"
