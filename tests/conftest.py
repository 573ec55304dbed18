"""Shared test fixtures: temporary dataset folders, a tiny model, isolated weights and runs folders, a local Ray.

Plain helpers (synthetic images, DICOM bytes, the project root) live in tests/helpers.py; tests import them from
there, never from this file.
"""
from __future__ import annotations

import pytest

from tests.helpers import require_ray, write_busbra_folder, write_busi_folder


@pytest.fixture
def busbra_folder(tmp_path):
    return write_busbra_folder(tmp_path / "BUSBRA")


@pytest.fixture
def busi_folder(tmp_path):
    return write_busi_folder(tmp_path / "Dataset_BUSI_with_GT")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """An untrained two-output U-Net (32×32, 4 filters, depth 2) saved as .keras with a card."""
    import keras

    from core.cards.modelcard import write_card
    from core.files import save_model_atomic
    from core.model.unet import build_unet

    d = tmp_path_factory.mktemp("tiny_model")
    path = str(d / "default.keras")
    # seeded: an untrained network's outputs depend on its draw, and a page test that expects nothing marked at a
    # high threshold failed on one draw in many (a few pixels above 0.95)
    keras.utils.set_random_seed(0)
    model = build_unet((32, 32, 1), base_filters=4, depth=2)
    save_model_atomic(model, path)
    write_card(path, {"name": "tiny", "threshold": 0.5, "input": {"size": 32}, "test_metrics": {}})
    return path


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch, tiny_model_path):
    """Point the registry at a temporary weights folder (holding the tiny model) and runs folder."""
    import shutil

    weights = tmp_path / "weights"
    weights.mkdir()
    for ext in (".keras", ".card.json"):
        src = tiny_model_path.replace(".keras", ext)
        shutil.copy(src, weights / f"default{ext}")
    monkeypatch.setenv("BUSI_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("BUSI_RUNS_DIR", str(tmp_path / "runs"))
    return weights, tmp_path / "runs"


@pytest.fixture(scope="module")
def local_ray():
    """One small local Ray for a whole test module (starting one costs seconds), shut down after it."""
    ray = require_ray()
    from core.batch.ray_engine import local_runtime_env

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=local_runtime_env())
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory):
    """A real Orthanc with DICOMweb on localhost, its own storage folder, for one test module."""
    from tests.helpers import Orthanc

    server = Orthanc(str(tmp_path_factory.mktemp("orthanc")))
    yield server
    server.stop()
