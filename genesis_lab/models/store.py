"""Save and load models without pickle: skops files, a checksum in the card, an allow-list.

Loading refuses a file whose sha256 differs from its card, or that holds any type outside
:data:`ALLOWED_TYPES`, so opening a shared model cannot run code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from genesis_lab.errors import MissingDependencyError, ModelError
from genesis_lab.fileio import atomic_path
from genesis_lab.models.card import ModelCard

__all__ = ["ALLOWED_TYPES", "load_model_dir", "save_model"]

ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.gaussian_process.kernels.ConstantKernel",
        "sklearn.gaussian_process.kernels.Matern",
        "sklearn.gaussian_process.kernels.Product",
        "sklearn.gaussian_process.kernels.Sum",
        "sklearn.gaussian_process.kernels.WhiteKernel",
        "sklearn.gaussian_process.kernels.RBF",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.Interval",
    }
)
"""Types beyond skops' defaults that our learners need; anything else is refused on load."""


def _skops():
    try:
        import skops.io as sio
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise MissingDependencyError("skops", "models", "save and load models") from exc
    return sio


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_model(model, folder: Path) -> Path:
    """Write ``model.skops`` and ``card.json`` (with the file's sha256) into ``folder``.

    >>> model.save("shipped/melt-pool-width")  # doctest: +SKIP
    """
    sio = _skops()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / model.card.model_file
    with atomic_path(target) as tmp:
        sio.dump(model.estimator, tmp)
        untrusted = sio.get_untrusted_types(file=tmp)
        bad = sorted(set(untrusted) - ALLOWED_TYPES)
        if bad:
            raise ModelError(
                f"model {model.id} holds types {bad} that loading would refuse; "
                "use a learner from genesis_lab.models.train.KINDS"
            )
        model.card.model_sha256 = _sha256(tmp)
        model.card.trusted_types = sorted(untrusted)
    model.card.save(folder)
    return folder


def load_model_dir(folder: str | Path):
    """Load a model saved by :func:`save_model`, refusing tampered or unsafe files.

    >>> from genesis_lab.models.store import load_model_dir
    >>> m = load_model_dir("genesis_lab/models/shipped/melt-pool-width")  # doctest: +SKIP
    """
    from genesis_lab.models.train import Model

    sio = _skops()
    folder = Path(folder)
    card = ModelCard.load(folder)
    path = folder / card.model_file
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    digest = _sha256(path)
    if digest != card.model_sha256:
        raise ModelError(
            f"model file {path} has sha256 {digest[:16]}..., but its card records "
            f"{card.model_sha256[:16]}...; the file was changed after it was saved. "
            "Refusing to load it: get the model again from its publisher."
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:
        raise ModelError(f"model file {path} is not a valid skops file: {exc}") from exc
    bad = sorted(set(untrusted) - ALLOWED_TYPES)
    if bad:
        raise ModelError(
            f"model file {path} holds types outside the allow-list: {bad}. Refusing to load it."
        )
    try:
        estimator = sio.load(path, trusted=list(untrusted))
    except Exception as exc:
        raise ModelError(f"model file {path} could not be loaded: {exc}") from exc
    return Model(estimator, card)
