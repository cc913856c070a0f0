"""The model card: what a model was trained on (with checksums), how well it does, and its limits.

It is saved as ``card.json`` beside the model file and describes the catalog entry.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from genesis_lab.errors import ModelError
from genesis_lab.fileio import atomic_write_text

__all__ = ["ModelCard"]


@dataclass
class ModelCard:
    """Everything a user should know before trusting a model's predictions.

    >>> card = ModelCard(id="semiconductors/demo", title="Demo", kind="linear", target="y",
    ...                  features=[{"name": "x", "unit": "m", "min": 0.0, "max": 1.0}])
    >>> ModelCard.from_dict(card.to_dict()) == card
    True
    """

    id: str
    title: str
    kind: str
    target: str
    features: list[dict[str, Any]]
    version: str = "1"
    description: str = ""
    domain: str = ""
    target_unit: str = ""
    estimator: str = ""
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    intended_use: str = ""
    limitations: list[str] = field(default_factory=list)
    libraries: dict[str, str] = field(default_factory=dict)
    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    model_file: str = "model.skops"
    model_sha256: str = ""
    trusted_types: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"model card has unknown fields {unknown}; allowed: {sorted(known)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ModelError(f"model card is incomplete: {exc}") from exc

    def save(self, folder: Path) -> Path:
        """Write ``card.json`` atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "card.json"
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n")
        return path

    @classmethod
    def load(cls, folder: Path) -> ModelCard:
        path = folder / "card.json"
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"cannot read the model card {path}: {exc}") from exc

    def _repr_html_(self) -> str:
        """The card in a notebook: target, feature ranges, held-out figures, limitations."""
        from genesis_lab.catalog.html_view import html_card

        c = self
        unit = f" {c.target_unit}" if c.target_unit else ""
        rows: list[tuple[str, object]] = [
            ("target", f"{c.target}{unit}"),
            *(
                (f"feature {f['name']}", f"{f['min']:.4g} to {f['max']:.4g} {f.get('unit', '')}")
                for f in c.features
            ),
            *((f"held-out {k}", f"{v:.4g}") for k, v in c.metrics.items()),
            ("trained on", f"{c.training_data.get('rows', '?')} rows"),
            *(
                [
                    (
                        "calibration",
                        f"std x {c.calibration['std_scale']:.3g} from "
                        f"{c.calibration['rows']} held-back rows",
                    )
                ]
                if c.calibration
                else []
            ),
            *(("limitation", x) for x in c.limitations),
        ]
        return html_card(c.title, rows, subtitle=f"{c.id} v{c.version} · {c.kind} · {c.estimator}")

    def to_markdown(self) -> str:
        """The card as a short Markdown page."""
        feats = "\n".join(
            f"| {f['name']} | {f.get('unit', '')} | {f.get('min', ''):.4g} | {f.get('max', ''):.4g} |"
            for f in self.features
        )
        metrics = "\n".join(f"- {k}: {v:.4g}" for k, v in self.metrics.items())
        limits = "\n".join(f"- {x}" for x in self.limitations)
        data = "\n".join(f"- {k}: {v}" for k, v in self.training_data.items())
        calib = "\n".join(f"- {k}: {v}" for k, v in self.calibration.items()) or "- none"
        return (
            f"# {self.title}\n\n`{self.id}` version {self.version} ({self.kind}, {self.estimator})"
            f"\n\n{self.description}\n\n## Target\n{self.target} [{self.target_unit}]\n\n"
            f"## Features\n| name | unit | min | max |\n|---|---|---|---|\n{feats}\n\n"
            f"## Training data\n{data}\n\n## Held-out metrics\n{metrics}\n\n"
            f"## Uncertainty calibration\n{calib}\n\n"
            f"## Intended use\n{self.intended_use}\n\n## Limitations\n{limits}\n"
        )
