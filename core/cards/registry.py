"""The model registry: which models exist, which one is active, what is protected.

Models live in ``weights/`` (shipped with the app; ``default.keras`` is the
shipped default) and in finished training runs under the runs folder. The
active choice is a small JSON pointer in the runs folder, so choosing a model
never copies or rewrites a model file. The shipped default cannot be deleted
through the registry.

Where the weights and runs folders are is core.locations' to say.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from core.cards.schema import ModelCard, card_paths, read_card
from core.files import read_json, write_json_atomic
from core.locations import PROJECT_ROOT, WEIGHTS_DIR, runs_dir, weights_dir  # noqa: F401  (older callers)

MODEL_EXTENSIONS = (".keras", ".h5")


def _pointer() -> str:
    return os.path.join(runs_dir(), "active_model.json")


def default_model_path() -> str:
    return os.path.join(weights_dir(), "default.keras")


def active_model_path() -> str:
    """The chosen model if it still exists, else the shipped default."""
    chosen = (read_json(_pointer(), {}) or {}).get("path")
    if chosen and os.path.isfile(chosen):
        return chosen
    return default_model_path()


def set_active_model(path: str) -> None:
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist")
    if not path.endswith(MODEL_EXTENSIONS):
        raise ValueError(f"{os.path.basename(path)} is not a .keras or .h5 model")
    write_json_atomic(_pointer(), {"path": path})


@dataclass
class ModelEntry:
    path: str
    name: str
    source: str  # "shipped", "weights" or "run"
    card: ModelCard | None  # None: the model has no card
    active: bool
    protected: bool


def list_models() -> list[ModelEntry]:
    """Models in weights/ and finished runs, with their cards."""
    active = os.path.abspath(active_model_path())
    default = os.path.abspath(default_model_path())
    found = []
    wd = weights_dir()
    if os.path.isdir(wd):
        for n in sorted(os.listdir(wd)):
            if n.endswith(MODEL_EXTENSIONS) and not n.startswith("."):
                p = os.path.abspath(os.path.join(wd, n))
                found.append(ModelEntry(p, os.path.splitext(n)[0], "shipped" if p == default else "weights",
                                        read_card(p), p == active, p == default))
    rd = runs_dir()
    if os.path.isdir(rd):
        for n in sorted(os.listdir(rd)):
            p = os.path.join(rd, n, "model.keras")
            if os.path.isfile(p):
                p = os.path.abspath(p)
                found.append(ModelEntry(p, n, "run", read_card(p), p == active, False))
    return found


def delete_model(path: str) -> None:
    """Delete a model file and its card. The shipped default is refused."""
    path = os.path.abspath(path)
    if path == os.path.abspath(default_model_path()):
        raise PermissionError("the shipped default model cannot be deleted")
    if os.path.abspath(active_model_path()) == path:
        os.remove(_pointer())
    for p in (path, *card_paths(path)):
        if os.path.exists(p):
            os.remove(p)
