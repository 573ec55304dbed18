"""core.batch.ray_engine ships the model's ONNX export to its workers, so a CPU worker serves it on ONNX Runtime as the
driver does (no Ray needed for this check)."""
import os

from core.batch.ray_engine import local_model_copy, model_files
from core.inference.predictor import Predictor
from tests.helpers import ROOT


def test_workers_get_the_onnx_export_and_serve_on_onnx_runtime(monkeypatch):
    monkeypatch.setenv("BUSSEG_ENGINE", "onnx")
    files = model_files(os.path.join(ROOT, "weights", "f12_128.keras"))
    assert list(files)[0] == "f12_128.keras" and {"f12_128.card.json", "f12_128.onnx"} <= set(files)
    path = local_model_copy(files)
    assert os.path.basename(path) == "f12_128.keras"
    predictor = Predictor.load(path)
    assert predictor.engine == "onnx" and predictor.onnx_path == os.path.join(os.path.dirname(path), "f12_128.onnx")
