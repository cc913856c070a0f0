"""The exception tree of genesis-lab: every message says what went wrong and how to fix it.

::

    GenesisError
     ├── SettingsError                 a GENESIS_* variable or the site file is invalid
     ├── CatalogError
     │    ├── EntryValidationError     a catalog entry (YAML or plugin) has a bad field
     │    └── UnknownAssetError        no entry with that id (also a KeyError)
     ├── AccessDeniedError             the caller's clearances do not cover the asset's marking
     ├── DataError
     │    ├── ChecksumMismatchError    the bytes read are not the bytes the catalog recorded
     │    └── UnsupportedFormatError   no loader for a distribution's format
     ├── ParameterError                a parameter is unknown, of the wrong type or out of bounds
     ├── SimulationError               a simulator failed to produce its output
     ├── ComputeError
     │    ├── AllocationError          not a member, budget spent, or limits exceeded
     │    └── SchedulerError           a batch-scheduler command failed (command, exit code, output)
     ├── ModelError                    a model cannot be trained, saved or loaded (tampered file)
     ├── CampaignError                 a campaign is misconfigured or its store is unreadable
     │    └── UnknownOutputError       an objective or constraint names no output of the experiment
     ├── PipelineError
     │    ├── ChallengeNotFoundError   no challenge with that id (also a KeyError)
     │    └── RunFailedError           a pipeline run failed; carries the cell and error
     ├── ScheduleError                 a schedule definition is invalid
     ├── AuditError                    the audit log fails verification
     ├── CourseError                   a course is unknown, misconfigured or its storage unusable
     └── MissingDependencyError        an optional extra is not installed (also an ImportError)

    GenesisWarning (a UserWarning)
     └── ExtrapolationWarning          a model is asked to predict outside its training ranges
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AllocationError",
    "AuditError",
    "CampaignError",
    "CatalogError",
    "ChallengeNotFoundError",
    "ChecksumMismatchError",
    "ComputeError",
    "CourseError",
    "DataError",
    "EntryValidationError",
    "ExtrapolationWarning",
    "GenesisError",
    "GenesisWarning",
    "MissingDependencyError",
    "ModelError",
    "ParameterError",
    "PipelineError",
    "RunFailedError",
    "ScheduleError",
    "SchedulerError",
    "SettingsError",
    "SimulationError",
    "UnknownAssetError",
    "UnknownOutputError",
    "UnsupportedFormatError",
]


class GenesisError(Exception):
    """Base class of every error genesis-lab raises on purpose."""


class SettingsError(GenesisError):
    """A ``GENESIS_*`` variable or the site file holds an invalid value."""


class CatalogError(GenesisError):
    """The catalog cannot answer a request."""


class EntryValidationError(CatalogError):
    """A catalog entry failed validation; names the file, the entry and the field."""

    def __init__(self, message: str, *, source: str = "", entry: str = "", field: str = ""):
        super().__init__(message)
        self.source = source
        self.entry = entry
        self.field = field


class UnknownAssetError(CatalogError, KeyError):
    """No catalog entry has the id asked for; the message lists the closest ids."""

    def __init__(
        self, asset_id: str, suggestions: list[str] | tuple[str, ...] = (), kind: str = ""
    ):
        self.asset_id = asset_id
        self.suggestions = list(suggestions)
        what = f"{kind} " if kind else ""
        hint = (
            f" Closest ids: {', '.join(self.suggestions)}."
            if self.suggestions
            else " Run `genesis-lab catalog list` to see the ids there are."
        )
        super().__init__(f"No {what}entry with id {asset_id!r} in the catalog.{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


class AccessDeniedError(GenesisError):
    """The caller's clearances do not cover the asset's access marking."""


class DataError(GenesisError):
    """A dataset cannot be opened."""


class ChecksumMismatchError(DataError):
    """The bytes read differ from the sha256 the catalog entry records."""


class UnsupportedFormatError(DataError):
    """No loader handles a distribution's format; the message lists those that do."""


class ParameterError(GenesisError, ValueError):
    """A parameter is unknown, of the wrong type or outside its bounds; names it and its bounds."""


class SimulationError(GenesisError):
    """A simulator could not produce its output."""


class ComputeError(GenesisError):
    """A cluster cannot be started or used."""


class AllocationError(ComputeError):
    """The allocation cannot be used: not a member, budget spent, or a request beyond its limits."""


class SchedulerError(ComputeError):
    """A batch-scheduler command failed; carries the command, exit code, stdout and stderr."""

    def __init__(
        self,
        message: str,
        *,
        command: list[str] | tuple[str, ...] = (),
        returncode: int | None = None,
        stdout: str = "",
        stderr: str = "",
    ):
        super().__init__(message)
        self.command = list(command)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


class ModelError(GenesisError):
    """A model cannot be trained, saved or loaded (for example a tampered model file)."""


class CampaignError(GenesisError):
    """A campaign is misconfigured or its trial store cannot be read."""


class UnknownOutputError(CampaignError, ParameterError):
    """An objective or constraint names an output the experiment does not produce.

    ``field`` is the name given and ``allowed`` the outputs there are.
    """

    def __init__(self, message: str, *, field: str = "", allowed: list[str] | None = None):
        super().__init__(message)
        self.field = field
        self.allowed = list(allowed or [])


class PipelineError(GenesisError):
    """A challenge pipeline cannot be run."""


class ChallengeNotFoundError(PipelineError, KeyError):
    """No challenge has the id asked for."""

    def __str__(self) -> str:
        return str(self.args[0])


class RunFailedError(PipelineError):
    """A pipeline run failed; ``cell`` and ``ename``/``evalue`` say where and why."""

    def __init__(
        self,
        message: str,
        *,
        run_id: str = "",
        cell: int | None = None,
        ename: str = "",
        evalue: str = "",
    ):
        super().__init__(message)
        self.run_id = run_id
        self.cell = cell
        self.ename = ename
        self.evalue = evalue


class ScheduleError(GenesisError):
    """A schedule definition is invalid (cron expression, owner, allocation)."""


class AuditError(GenesisError):
    """The audit log fails verification: a record was edited, reordered or deleted."""


class CourseError(GenesisError):
    """A course is unknown or misconfigured, or its storage cannot be set up."""


class MissingDependencyError(GenesisError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str = ""):
        self.package = package
        self.extra = extra
        what = f" to {purpose}" if purpose else ""
        super().__init__(
            f"The package {package!r} is needed{what} but is not installed. "
            f"Install it with: pip install 'genesis-lab[{extra}]'"
        )


class GenesisWarning(UserWarning):
    """Base class of every warning genesis-lab issues on purpose."""


class ExtrapolationWarning(GenesisWarning):
    """A model was asked to predict outside the feature ranges its card records."""
