"""Models in the catalog: the ``genesis_lab.models`` plugin for shipped models, ``load_model``,
and ``register_model`` for models trained in a session (written to the site catalog).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from genesis_lab.catalog import Entry, entry_from_mapping, get_catalog, load_plugin
from genesis_lab.catalog.remote import is_remote_entry
from genesis_lab.errors import ModelError
from genesis_lab.fileio import atomic_write_text
from genesis_lab.models.card import ModelCard

__all__ = ["ModelPlugin", "entry_for_card", "load_model", "register_model"]

SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
CONTACT = {"fn": "Genesis Mission model desk", "hasEmail": "models@genesis-lab.invalid"}


def entry_for_card(card: ModelCard, *, source: str, loader: str | None = None,
                   options: dict[str, Any] | None = None, marking: str = "public") -> Entry:  # fmt: skip
    """The catalog entry describing a model from its card."""
    derived = [
        v
        for k, v in card.training_data.items()
        if k in ("dataset_id", "genesis_id", "simulator_id") and isinstance(v, str) and "/" in v
    ]
    keywords = ["model", "surrogate", card.kind, card.target]
    data = {
        "id": card.id,
        "kind": "model",
        "domain": card.domain or card.id.split("/", 1)[0],
        "title": card.title,
        "description": f"{card.description} Held-out R² {card.metrics.get('r2', float('nan')):.3f}, "
        f"MAE {card.metrics.get('mae', float('nan')):.3g} {card.target_unit}. "
        f"Intended use: {card.intended_use}",
        "keyword": keywords,
        "modified": card.created[:10],
        "publisher": {"name": "Genesis Mission"},
        "contactPoint": CONTACT,
        "license": "BSD-3-Clause",
        "distribution": [
            {"format": "skops", "mediaType": "application/zip", "title": card.model_file}
        ],
        "provenance": {
            "source": source,
            "agency": "Genesis Mission",
            "citation": f"genesis-lab model {card.id} v{card.version}",
            "version": card.version,
            "sha256": card.model_sha256 or None,
            "derived_from": sorted(set(derived)),
            "parameters": {
                "target": card.target,
                "features": [f["name"] for f in card.features],
                "kind": card.kind,
                "metrics": card.metrics,
            },
        },
        "marking": marking,
        "loader": loader,
        "options": options or {},
        "units": {f["name"]: f["unit"] for f in card.features if f.get("unit")}
        | ({card.target: card.target_unit} if card.target_unit else {}),
    }
    return entry_from_mapping(data, source=source)


class ModelPlugin:
    """A ``genesis_lab.models`` entry point: a model folder (``model.skops`` + ``card.json``).

    >>> from genesis_lab.models.registry import ModelPlugin
    >>> ModelPlugin("melt-pool-width").catalog_entry().kind  # doctest: +SKIP
    'model'
    """

    def __init__(self, folder: str, root: Path = SHIPPED_DIR) -> None:
        self.folder = root / folder

    def card(self) -> ModelCard:
        return ModelCard.load(self.folder)

    def catalog_entry(self) -> Entry:
        return entry_for_card(self.card(), source=f"genesis_lab.models.shipped/{self.folder.name}")

    def load(self, entry: Entry) -> Any:
        from genesis_lab.models.store import load_model_dir

        return load_model_dir(self.folder)


def load_model(model_id: str) -> Any:
    """Load a catalog model by id (a shipped one or one registered on this site).

    >>> import genesis_lab as gl
    >>> m = gl.load_model("advanced-manufacturing/melt-pool-width-gp")
    >>> m.card.target
    'melt_pool_width'
    """
    entry = get_catalog().get(model_id, kind="model")
    if is_remote_entry(entry):
        return _load_remote_model(entry)
    if entry.loader:
        return load_plugin("model", entry.loader).load(entry)
    path = entry.options.get("path")
    if not path:
        raise ModelError(f"catalog entry {model_id!r} names neither a loader nor a model path")
    from genesis_lab.models.store import load_model_dir

    return _as_catalogued(entry, load_model_dir(path), f"the card at {path}")


def _as_catalogued(entry: Entry, model: Any, where: str) -> Any:
    """``model``, if its weights are those the catalog entry records."""
    if entry.provenance.sha256 and entry.provenance.sha256 != model.card.model_sha256:
        raise ModelError(
            f"model {entry.id}: the catalog records sha256 {entry.provenance.sha256[:16]}... but "
            f"{where} records {model.card.model_sha256[:16]}...; refusing to use it"
        )
    return model


def _load_remote_model(entry: Entry) -> Any:
    """In a hub session: the service decides; a site model's files come through it."""
    from genesis_lab.catalog.remote import SERVICE_KEY, download_remote_files
    from genesis_lab.errors import AccessDeniedError
    from genesis_lab.models.store import load_model_dir

    info = entry.options[SERVICE_KEY]
    if not info["may_read"]:
        raise AccessDeniedError(f"{entry.id}: {info['reason']}")
    if not info["served"]:
        if not entry.loader:
            raise ModelError(f"the genesis service serves no files for model {entry.id}")
        return load_plugin("model", entry.loader).load(entry)
    with tempfile.TemporaryDirectory(prefix="genesis-model-") as tmp:
        download_remote_files(entry, Path(tmp))
        model = load_model_dir(tmp)
    return _as_catalogued(entry, model, "the files served")


def register_model(model: Any, *, marking: str = "public", overwrite: bool = False) -> Entry:
    """Save a trained model under the data root and describe it in the user catalog folder.

    >>> entry = register_model(model)  # doctest: +SKIP
    >>> gl.load_model(entry.id)  # doctest: +SKIP
    """
    from genesis_lab.catalog import load_catalog
    from genesis_lab.settings import get_settings

    settings = get_settings()
    assert settings.data_root is not None and settings.user_catalog_dir is not None
    domain, name = model.id.split("/", 1)
    folder = settings.data_root / "models" / domain / name
    yaml_path = settings.user_catalog_dir / domain / f"{name}.model.yaml"
    if not overwrite and (yaml_path.exists() or model.id in load_catalog(warn=False)):
        raise ModelError(
            f"a model {model.id!r} is already in the catalog; pass overwrite=True or another id"
        )
    if folder.exists() and overwrite:
        shutil.rmtree(folder)
    model.save(folder)
    entry = entry_for_card(
        model.card, source=str(folder), options={"path": str(folder)}, marking=marking
    )
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"source_file"})
    atomic_write_text(yaml_path, yaml.safe_dump(data, sort_keys=False))
    get_catalog.cache_clear()
    return entry
