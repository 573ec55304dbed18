"""Serving a model on ONNX Runtime, without TensorFlow: the CPU engine.

``onnx_serving_file(keras_path, card)`` says whether the ``.onnx`` beside a ``.keras`` may serve it: the file
exists, the card records its export (core.model.onnx_export) and both files still have the SHA-256 the card
recorded, so a retrained ``.keras`` never runs on an older network's ONNX. ``OnnxPredictor`` is a
``core.inference.predictor.Predictor`` with the forward pass on an ``onnxruntime.InferenceSession``; everything
around it (preprocessing, resizing back, the decision rule) is the Keras predictor's own code. This module never
imports TensorFlow.
"""
from __future__ import annotations

import os

import numpy as np

from core.inference.decision import Decision
from core.inference.predictor import DEFAULT_THRESHOLD, Predictor


def onnx_serving_file(keras_path: str, card: dict | None) -> tuple[str | None, str]:
    """(path of the ONNX file to serve, '') or (None, why it cannot serve this model)."""
    from core.model.onnx_export import onnx_path_for, sha256_of

    target = onnx_path_for(keras_path)
    if not os.path.isfile(target):
        return None, f"{os.path.basename(keras_path)} has no ONNX export beside it"
    record = (card or {}).get("onnx")
    if not record:
        return None, f"the card of {os.path.basename(keras_path)} records no ONNX export"
    if sha256_of(keras_path) != record.get("keras_sha256"):
        return None, f"{os.path.basename(target)} was exported from another version of {os.path.basename(keras_path)}"
    if sha256_of(target) != record.get("sha256"):
        return None, f"{os.path.basename(target)} is not the file its card recorded"
    return target, ""


class OnnxPredictor(Predictor):
    """A Predictor whose forward pass runs on ONNX Runtime (CPU). engine: 'onnx'; model: None (no Keras)."""

    engine = "onnx"

    def __init__(self, onnx_path: str, keras_path: str, card: dict | None):
        import onnxruntime as ort

        self.model = None
        self.path = keras_path
        self.onnx_path = onnx_path
        self.card = card or {}
        self.note = ""
        options = ort.SessionOptions()
        # no busy-waiting between ops: on a 2-core machine shared with other work, spinning threads measured
        # 133 ms a forward pass against 54 ms without (default.onnx, 256x256)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self._input_name = inp.name
        size = inp.shape[1] if isinstance(inp.shape[1], int) else self.card.get("input", {}).get("size", 256)
        self.image_size = int(size)
        self.channels = int(inp.shape[-1]) if isinstance(inp.shape[-1], int) else 1
        self._outputs = [o.name for o in self.session.get_outputs()]
        self.decision = Decision.from_card(self.card, DEFAULT_THRESHOLD)
        self.threshold = self.decision.threshold
        self.device = f"CPU ({os.cpu_count()} cores), ONNX Runtime {ort.__version__}"
        self.warm_up()

    def warm_up(self) -> None:
        self._run(np.zeros((1, self.image_size, self.image_size, self.channels), np.float32))

    def _run(self, batch: np.ndarray):
        got = dict(zip(self._outputs, self.session.run(None, {self._input_name: np.asarray(batch, np.float32)})))
        mask = got.get("mask")
        if mask is None:  # a classic single-output network: its one 4-D output is the mask
            mask = next(v for v in got.values() if v.ndim == 4)
        mal = got.get("malignancy")
        return mask[..., 0], None if mal is None else mal.reshape(-1)
