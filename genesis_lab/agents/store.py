"""The campaign store: a spec file and an append-only JSON-lines file of trials, per campaign.

Each trial is written (flushed and fsynced) the moment it finishes, so a campaign killed
mid-way resumes from here without running a finished trial again.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from genesis_lab.errors import CampaignError
from genesis_lab.fileio import atomic_write_text

__all__ = ["CampaignStore", "campaigns_root", "list_campaigns"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def campaigns_root() -> Path:
    """``settings.state_dir / "campaigns"``."""
    from genesis_lab.settings import get_settings

    state = get_settings().state_dir
    assert state is not None
    return state / "campaigns"


def list_campaigns(root: Path | None = None) -> list[str]:
    """Names of the campaigns in the store, sorted."""
    root = root or campaigns_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "campaign.json").is_file())


class CampaignStore:
    """The files of one campaign: ``campaign.json`` (spec) and ``trials.jsonl`` (trials).

    >>> import tempfile, pathlib
    >>> s = CampaignStore("demo", root=pathlib.Path(tempfile.mkdtemp()))
    >>> s.append({"number": 0, "status": "complete"}); s.close(); len(s.trials())
    1
    """

    def __init__(self, name: str, root: Path | None = None) -> None:
        if not _NAME.match(name):
            raise CampaignError(
                f"campaign name {name!r} is not allowed: use letters, digits, '.', '_' or '-' "
                "(at most 128, starting with a letter or digit)"
            )
        self.name = name
        self.dir = (root or campaigns_root()) / name
        self.spec_path = self.dir / "campaign.json"
        self.trials_path = self.dir / "trials.jsonl"
        self._handle: Any = None

    def exists(self) -> bool:
        return self.spec_path.is_file()

    def read_spec(self) -> dict[str, Any]:
        if not self.exists():
            raise CampaignError(
                f"no campaign named {self.name!r} in {self.dir.parent}; "
                "`genesis-lab campaign list` shows the ones there are"
            )
        try:
            return json.loads(self.spec_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CampaignError(f"{self.spec_path} cannot be read: {exc}") from exc

    def write_spec(self, spec: dict[str, Any]) -> None:
        """Write the spec atomically (temp file in the same folder, then ``os.replace``)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(spec, indent=2, default=str)
        atomic_write_text(self.spec_path, text, mode=0o600, fsync=True)

    def trials(self) -> list[dict[str, Any]]:
        """Every complete record; a last line cut short by a crash is ignored."""
        if not self.trials_path.is_file():
            return []
        out = []
        with self.trials_path.open("rb") as fh:
            lines = fh.read().split(b"\n")
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                if i == len(lines) - 1:  # torn final write: the trial did not finish
                    break
                raise CampaignError(
                    f"{self.trials_path} line {i + 1} is not valid JSON ({exc}); "
                    "the store was edited or damaged"
                ) from exc
        return out

    def _open(self) -> Any:
        if self._handle is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._repair_tail()
            self._handle = self.trials_path.open("ab")
        return self._handle

    def _repair_tail(self) -> None:
        """Cut a torn last line so the next record starts on its own line."""
        if not self.trials_path.is_file():
            return
        data = self.trials_path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with self.trials_path.open("r+b") as fh:
                fh.truncate(keep)

    def append(self, record: dict[str, Any]) -> None:
        """Append one trial record and make it durable before returning."""
        fh = self._open()
        fh.write(json.dumps(record, default=str, separators=(",", ":")).encode() + b"\n")
        fh.flush()
        os.fsync(fh.fileno())

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
