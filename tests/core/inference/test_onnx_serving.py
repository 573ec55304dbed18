"""CPU serving on ONNX Runtime: the shipped exports agree with Keras, load without TensorFlow, and a model without a
valid export falls back to Keras with a note."""
import glob
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from core.inference.predictor import Predictor
from core.locations import WEIGHTS_DIR

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SAMPLES = sorted(p for p in glob.glob(os.path.join(ROOT, "samples", "**", "*.png"), recursive=True)
                 if "_mask" not in p)
SHIPPED = [os.path.join(WEIGHTS_DIR, n) for n in ("default.keras", "f12_128.keras")]


@pytest.mark.parametrize("keras_path", SHIPPED, ids=os.path.basename)
def test_shipped_onnx_matches_keras_on_the_samples(keras_path):
    from core.data.imageio import read_image_file

    onnx = Predictor.load(keras_path, engine="onnx")
    keras = Predictor.load(keras_path, engine="keras")
    assert onnx.engine == "onnx" and onnx.note == "", onnx.note
    assert keras.engine == "keras"
    assert len(SAMPLES) >= 10
    for path in SAMPLES:
        gray = read_image_file(path).gray
        a, b = onnx.predict(gray), keras.predict(gray)
        assert np.max(np.abs(a.probability - b.probability)) <= 1e-4, path
        assert np.array_equal(a.probability >= onnx.threshold, b.probability >= keras.threshold), path
        assert abs(a.malignancy - b.malignancy) <= 1e-4


def test_predicting_on_onnx_never_imports_tensorflow(tmp_path):
    code = f"""
import sys
from core.predict import main
from core.inference.predictor import Predictor
from core.data.imageio import read_image_file
p = Predictor.load({SHIPPED[0]!r})
assert p.engine == "onnx", p.note
p.predict(read_image_file({SAMPLES[0]!r}).gray)
assert main([{SAMPLES[0]!r}, "--out", {str(tmp_path)!r}]) == 0
bad = [m for m in ("tensorflow", "keras") if m in sys.modules]
assert not bad, bad
print("no tensorflow")
"""
    env = {**os.environ, "BUSSEG_ENGINE": "auto", "CUDA_VISIBLE_DEVICES": "-1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "no tensorflow" in out.stdout
    assert (tmp_path / "predictions.csv").read_text().count("\n") == 2


def _copy_model(tmp_path, with_onnx=True):
    for suffix in (".keras", ".card.json", ".card.md") + ((".onnx",) if with_onnx else ()):
        shutil.copyfile(os.path.join(WEIGHTS_DIR, "f12_128" + suffix), tmp_path / ("m" + suffix))
    return str(tmp_path / "m.keras")


def test_a_model_without_onnx_falls_back_to_keras_with_a_note(tmp_path):
    p = Predictor.load(_copy_model(tmp_path, with_onnx=False), engine="onnx")
    assert p.engine == "keras"
    assert "no ONNX export" in p.note


def test_an_onnx_file_from_another_keras_file_is_not_served(tmp_path):
    path = _copy_model(tmp_path)
    card_path = tmp_path / "m.card.json"
    card = json.loads(card_path.read_text())
    card["onnx"]["keras_sha256"] = "0" * 64  # as if the .keras had been retrained since the export
    card_path.write_text(json.dumps(card))
    p = Predictor.load(path, engine="onnx")
    assert p.engine == "keras" and "another version" in p.note


def test_export_writes_the_onnx_file_and_records_it_on_the_card(tmp_path):
    from core.cards.modelcard import write_card
    from core.inference.onnx_export import export_and_record
    from core.model.unet import build_unet
    from tests.helpers import card_json

    model = build_unet((32, 32, 1), base_filters=4, depth=2)
    path = str(tmp_path / "tiny.keras")
    model.save(path)
    write_card(path, {"name": "tiny", "threshold": 0.5})
    record = export_and_record(path, log=lambda *_: None)
    assert record and os.path.isfile(tmp_path / "tiny.onnx")
    assert card_json(path)["onnx"] == record
    assert max(record["max_abs_difference"].values()) <= 1e-4
    p = Predictor.load(path, engine="onnx")
    assert p.engine == "onnx" and p.image_size == 32
    x = np.random.default_rng(1).random((1, 32, 32, 1)).astype(np.float32)
    k = Predictor.load(path, engine="keras")
    assert np.max(np.abs(p.forward_batch(x) - k.forward_batch(x))) <= 1e-4


def test_the_export_writes_shapes_in_so_every_residual_add_fuses_into_its_convolution(tmp_path):
    import onnx
    import onnxruntime as ort

    from core.inference.onnx_export import export_onnx
    from core.model.unet import build_unet

    path = str(tmp_path / "blocks.keras")
    build_unet((32, 32, 1), base_filters=8, depth=2).save(path)  # 8, 16, 32 channels: ONNX Runtime's blocked layout
    record = export_onnx(path)
    assert record["shapes_written"] is True
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(tmp_path / "blocks.onnx"), options, providers=["CPUExecutionProvider"])
    left = [n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node if n.domain == ""]
    assert "Add" not in left  # as exported by tf2onnx alone, 3 of its residual Adds ran on their own


def test_the_onnx_session_gives_memory_back_after_a_large_batch():
    """No memory arena (it keeps the largest batch's memory for the server's life): a pass of 8 images, then the
    process's resident size is back within 40 MB of where it was after a pass of 1 (with the arena: +215 MB)."""
    from core.analysis.memory import release_unused_memory

    def rss_mb():
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024

    p = Predictor.load(SHIPPED[0], engine="onnx")
    assert not p.session.get_session_options().enable_cpu_mem_arena
    p.forward_batch(np.zeros((1, p.image_size, p.image_size, 1), np.float32))
    release_unused_memory()
    before = rss_mb()
    p.forward_batch(np.zeros((8, p.image_size, p.image_size, 1), np.float32))
    release_unused_memory()
    assert rss_mb() - before < 40
