"""Loading a segmentation model once and running it on one image at a time.

``Predictor.load(path)`` reads a ``.keras`` model (ours, two outputs) or a
classic single-output U-Net saved as ``.h5``, reads the model card beside it,
compiles a cached forward function and warms it up. On a machine without a GPU
it serves the model's ONNX export instead (OnnxPredictor, below), on
ONNX Runtime and without importing TensorFlow; a model without a valid export
falls back to Keras, and ``note`` says why. ``predict(gray)`` returns
the lesion probability map at the image's original resolution, plus the
malignancy probability when the model has that head. Thresholding happens
later and is cheap, so a threshold change never re-runs the network.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from core import runtime  # noqa: F401  (sets TF log level before TensorFlow loads)
from core.cards.schema import ModelCard, read_card
from core.inference.decision import Decision
from core.inference.preprocess import probability_to_original, to_model_input

DEFAULT_THRESHOLD = 0.5


# The forward pass is not compiled with XLA: bench/profile_predict.py measured the
# BatchNorm-folded graph faster without it on this 2-core CPU, where TensorFlow fuses
# each Conv2D, bias and ReLU into one oneDNN call. (Training still uses XLA on the CPU.)
XLA_FOR_INFERENCE = False


def inference_graph(model):
    """The model with BatchNorm folded into its convolutions (core.inference.fastpath), or the model itself.

    The folded graph is checked against the original on one input; any
    difference beyond float rounding, or any failure to fold, keeps the original.
    """
    import keras

    from core.inference.fastpath import fold_batch_norm

    try:
        folded = fold_batch_norm(model)
        if folded is model:
            return model
        shape = model.input_shape[0] if isinstance(model.input_shape, list) else model.input_shape
        probe = np.random.default_rng(0).random((1, *[int(d or 64) for d in shape[1:]])).astype(np.float32)
        a = keras.tree.flatten(model(probe, training=False))
        b = keras.tree.flatten(folded(probe, training=False))
        # float16 layers (a model trained with mixed precision) round far more coarsely
        tol = 1e-4 if all(getattr(layer, "compute_dtype", "float32") == "float32" for layer in model.layers) else 1e-2
        if len(a) == len(b) and all(np.allclose(np.asarray(x), np.asarray(y), atol=tol) for x, y in zip(a, b)):
            return folded
    except Exception:  # folding is an optimisation only: any surprise keeps the trained graph
        pass
    return model


class ModelLoadError(RuntimeError):
    """The model file is missing or cannot be loaded; the message says what to do."""


@dataclass
class Prediction:
    """probability: (H, W) float32 in [0, 1] at the original resolution."""

    probability: np.ndarray
    malignancy: float | None
    inference_ms: float


def choose_engine(requested: str = "auto") -> str:
    """'onnx' or 'keras'. auto (or the BUSSEG_ENGINE environment variable when it names one): Keras where an NVIDIA
    GPU is present, ONNX Runtime on the CPU otherwise. Decided without importing TensorFlow."""
    if requested == "auto":
        requested = os.environ.get("BUSSEG_ENGINE", "auto").lower()
    if requested in ("onnx", "keras"):
        return requested
    return "keras" if runtime.nvidia_gpu_present() else "onnx"


class Predictor:
    """One loaded model, ready to segment one image at a time: build it once (``Predictor.load``), then call
    ``predict`` per image.

    model: the Keras model as saved; path: its file; card: its model card (core.cards.schema.ModelCard, an empty one when it has none);
    decision and threshold: the card's decision rule (core.inference.decision); image_size and channels: the
    network's input; device: where it runs, in words. The forward pass runs the BatchNorm-folded graph when that
    matches the saved model (inference_graph), traced once at construction so the first upload is not slow."""

    engine = "keras"

    def __init__(self, model, path: str, card: ModelCard | dict | None, note: str = ""):
        import tensorflow as tf

        self.note = note  # why this model runs on Keras where ONNX Runtime was wanted, or ''

        self.model = model
        self.path = path
        self.card = read_card(card) or ModelCard()
        shape = model.input_shape
        if isinstance(shape, list):
            shape = shape[0]
        self.channels = int(shape[-1] or 1)
        self.image_size = int(shape[1] or self.card.input.size or 256)
        # the card's threshold, no-lesion gate and malignancy calibration (core.inference.decision)
        self.decision = Decision.from_card(self.card, DEFAULT_THRESHOLD)
        self.threshold = self.decision.threshold
        self.device = runtime.describe_device()
        self.inference_model = inference_graph(model)
        net = self.inference_model
        self._forward = tf.function(lambda x: net(x, training=False), jit_compile=XLA_FOR_INFERENCE)
        self.warm_up()

    @classmethod
    def load(cls, path: str, engine: str = "auto") -> "Predictor":
        """The model at path, ready to predict: on ONNX Runtime when choose_engine(engine) says so and the model
        has a valid ONNX export (an OnnxPredictor), else on Keras with ``note`` saying why it is not on ONNX."""
        if not os.path.isfile(path):
            raise ModelLoadError(
                f"No model file at {path}. Train one on the Train page, or restore the shipped "
                "default with `git checkout weights/`."
            )
        note = ""
        if choose_engine(engine) == "onnx":
            from core.inference.onnx_export import onnx_serving_file

            card = read_card(path)
            onnx_file, why = onnx_serving_file(path, card)
            if onnx_file:
                try:
                    return OnnxPredictor(onnx_file, path, card)
                except Exception as exc:  # a broken export must not stop the model serving
                    why = f"{os.path.basename(onnx_file)} could not be loaded by ONNX Runtime ({exc})"
            note = f"Running on Keras (TensorFlow), not ONNX Runtime: {why}."
        return cls.load_keras(path, note)

    @classmethod
    def load_keras(cls, path: str, note: str = "") -> "Predictor":
        import keras

        from core.model import unet as _registered  # noqa: F401  (registers custom objects)

        try:
            # compile=False: inference needs no loss, so a classic .h5 whose
            # author used an unregistered loss still loads.
            model = keras.models.load_model(path, compile=False)
        except Exception as exc:
            raise ModelLoadError(f"{os.path.basename(path)} could not be loaded as a Keras model: {exc}") from exc
        return cls(model, path, read_card(path), note)

    def warm_up(self) -> None:
        """Trigger graph tracing (and XLA compilation) now rather than on the first upload."""
        x = np.zeros((1, self.image_size, self.image_size, self.channels), np.float32)
        try:
            self._run(x)
        except Exception:
            # The rewritten graph (or XLA, where enabled) failed on this model: run the trained
            # model as saved, in plain graph mode. A failure here is a real error and propagates.
            import tensorflow as tf

            self.inference_model = net = self.model
            self._forward = tf.function(lambda x: net(x, training=False))
            self._run(x)

    def _run(self, batch: np.ndarray):
        out = self._forward(batch)
        if isinstance(out, dict):
            mask = out["mask"].numpy()
            mal = out["malignancy"].numpy().reshape(-1) if "malignancy" in out else None
        elif isinstance(out, (list, tuple)):
            mask = out[0].numpy()
            mal = out[1].numpy().reshape(-1) if len(out) > 1 else None
        else:
            mask, mal = out.numpy(), None
        return mask[..., 0], mal

    def forward_batch(self, batch: np.ndarray) -> np.ndarray:
        """(N, S, S, C) model inputs -> (N, S, S) lesion probabilities at the model's resolution."""
        return self._run(batch)[0]

    def forward_batch_with_malignancy(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, S, S, C) model inputs -> ((N, S, S) lesion probabilities, (N,) malignancy or None without that head)."""
        return self._run(batch)

    def model_input(self, gray: np.ndarray) -> np.ndarray:
        x = to_model_input(gray, self.image_size)
        if self.channels != 1:
            x = np.repeat(x, self.channels, axis=-1)
        return x

    def predict(self, gray: np.ndarray) -> Prediction:
        """(H, W) uint8 gray -> Prediction with an (H, W) probability map."""
        t0 = time.perf_counter()
        prob, mal = self._run(self.model_input(gray)[None])
        full = probability_to_original(prob[0], gray.shape[0], gray.shape[1])
        ms = (time.perf_counter() - t0) * 1000.0
        return Prediction(full, None if mal is None else float(mal[0]), ms)


class OnnxPredictor(Predictor):
    """A Predictor whose forward pass runs on ONNX Runtime (CPU). engine: 'onnx'; model: None (no Keras)."""

    engine = "onnx"

    def __init__(self, onnx_path: str, keras_path: str, card: ModelCard | dict | None):
        import onnxruntime as ort

        self.model = None
        self.path = keras_path
        self.onnx_path = onnx_path
        self.card = read_card(card) or ModelCard()
        self.note = ""
        options = ort.SessionOptions()
        # no busy-waiting between ops: on a 2-core machine shared with other work, spinning threads measured
        # 133 ms a forward pass against 54 ms without (default.onnx, 256x256)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # no memory arena: it grows to the largest batch ever run and never shrinks, so one burst of sessions
        # sharing a pass of 8 (core.inference.shared) kept 215 MB for the server's life; without it the memory
        # goes back after each pass, at the same speed (37 against 42 ms an image at batch 8, within noise)
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self._input_name = inp.name
        size = inp.shape[1] if isinstance(inp.shape[1], int) else self.card.input.size or 256
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
