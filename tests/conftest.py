"""Shared test fixtures: synthetic ultrasound-like images with known lesions, tiny models.

Images are speckle (gamma-distributed) backgrounds with a darker elliptical
"lesion", so masks are known exactly and no patient data is needed.
"""
from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SAMPLES = os.path.join(ROOT, "samples", "busi")


def synthetic_case(h=96, w=112, lesion=True, seed=0, centre=None, axes=None):
    """(gray uint8 (h, w), mask bool (h, w)) with a hypoechoic ellipse as the lesion."""
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.gamma(2.0, 40.0, size=(h, w)).clip(0, 255)
    img = cv2.GaussianBlur(img.astype(np.float32), (3, 3), 0)
    mask = np.zeros((h, w), np.uint8)
    if lesion:
        cy, cx = centre or (int(rng.integers(h // 3, 2 * h // 3)), int(rng.integers(w // 3, 2 * w // 3)))
        ay, ax = axes or (int(rng.integers(h // 8, h // 4)), int(rng.integers(w // 8, w // 4)))
        cv2.ellipse(mask, (cx, cy), (ax, ay), 0, 0, 360, 1, -1)
        img[mask.astype(bool)] *= 0.25
    return img.clip(0, 255).astype(np.uint8), mask.astype(bool)


def png_bytes(arr, mode=None) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    im.save(buf, format="PNG")
    return buf.getvalue()


def write_busi_folder(root, n_per_class=4, size=(96, 112), rgb_images=True):
    """A BUSI-shaped folder: mixed image modes (L and RGB) and mask modes (1, L, RGB, RGBA), a _mask_1."""
    root = str(root)
    h, w = size
    k = 0
    for label in ("benign", "malignant", "normal"):
        os.makedirs(os.path.join(root, label))
        for i in range(1, n_per_class + 1):
            k += 1
            gray, mask = synthetic_case(h, w, lesion=label != "normal", seed=k)
            stem = os.path.join(root, label, f"{label} ({i})")
            image_mode = "RGB" if (rgb_images and i % 2 == 0) else "L"
            Image.fromarray(gray).convert(image_mode).save(stem + ".png")
            mask_mode = ["1", "L", "RGB", "RGBA"][i % 4]
            m = Image.fromarray(mask.astype(np.uint8) * 255).convert(mask_mode)
            m.save(stem + "_mask.png")
            if label == "benign" and i == 1:
                # a second mask file with an extra lesion, which must be merged in
                extra = np.zeros_like(mask)
                extra[2:8, 2:8] = True
                Image.fromarray(extra.astype(np.uint8) * 255).save(stem + "_mask_1.png")
    return root


@pytest.fixture
def busi_folder(tmp_path):
    return write_busi_folder(tmp_path / "Dataset_BUSI_with_GT")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """An untrained two-output U-Net (32×32, 4 filters, depth 2) saved as .keras with a card."""
    from core.cards.modelcard import write_card
    from core.files import save_model_atomic
    from core.model.unet import build_unet

    d = tmp_path_factory.mktemp("tiny_model")
    path = str(d / "default.keras")
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


def require_ray():
    """Ray, or skip the test with the reason; in CI (CI=true) fail instead, so the Ray checks cannot silently
    vanish (.ci/run installs requirements-scale.txt), as the browser test does for Chromium."""
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is not installed; .ci/run should have installed requirements-scale.txt")
        pytest.skip("ray not installed (pip install -r requirements-scale.txt)")
    return ray


@pytest.fixture(scope="module")
def local_ray():
    """One small local Ray for a whole test module (starting one costs seconds), shut down after it."""
    ray = require_ray()
    from core.inference.ray_batch import local_runtime_env

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=local_runtime_env())
    try:
        yield ray
    finally:
        ray.shutdown()
