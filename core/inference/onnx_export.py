"""Exporting a trained Keras model to ONNX beside its ``.keras`` file, for CPU serving on ONNX Runtime.

The ``.keras`` file stays the source of truth (training, GPU serving). ``export_onnx(keras_path)`` writes
``<stem>.onnx`` next to it with Keras 3's ONNX export (tf2onnx underneath), checks ONNX Runtime's outputs against
the Keras model's on a probe input, and only then moves the file into place, so a failed or half-written export
never replaces a good one. It returns the record the model card keeps under ``"onnx"``: which file, the SHA-256
of both files (core.inference.predictor refuses an ONNX file whose ``.keras`` has changed since), the
exporter's versions and the largest difference measured.

    python -m core.inference.onnx_export weights/default.keras [more.keras ...]
"""
from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from dataclasses import replace

import numpy as np

from core.cards.schema import ModelCard, read_card

# an export whose outputs differ from Keras by more than this on the probe is refused
EXPORT_TOLERANCE = 1e-4


def onnx_path_for(keras_path: str) -> str:
    return os.path.splitext(keras_path)[0] + ".onnx"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _keras_outputs(model, x) -> dict[str, np.ndarray]:
    import keras

    out = model(x, training=False)
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    flat = keras.tree.flatten(out)
    names = list(getattr(model, "output_names", None) or [f"output_{i}" for i in range(len(flat))])
    return {n: np.asarray(v) for n, v in zip(names, flat)}


def _write_shapes(path: str) -> bool:
    """Write every intermediate tensor's shape into the exported graph, batch dimension symbolic (ONNX Runtime's
    symbolic shape inference). tf2onnx leaves most of them unknown, and ONNX Runtime fuses a residual block's Add
    and ReLU into its convolution only where it can tell that both inputs have one shape: the shipped default had 7
    of its 13 Adds run on their own, each through two extra reshapes. False (the graph kept as exported) where the
    inference fails; the outputs are checked against Keras either way."""
    import onnx
    from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

    try:
        inferred = SymbolicShapeInference.infer_shapes(onnx.load(path), auto_merge=True)
    except Exception:  # an op the inference does not know: serve the graph as exported
        return False
    if inferred is None:
        return False
    onnx.save(inferred, path)
    return True


def export_onnx(keras_path: str, model=None) -> dict:
    """Write ``<stem>.onnx`` beside ``keras_path`` and return the card's export record.

    model: the loaded Keras model when the caller has it (saves loading it again); it must be the model saved at
    keras_path. Raises RuntimeError when the exported graph disagrees with Keras; the old ``.onnx`` then stays.
    """
    import keras
    import onnx
    import onnxruntime as ort
    import tf2onnx

    from core.model import unet as _registered  # noqa: F401  (registers custom objects)

    if model is None:
        model = keras.models.load_model(keras_path, compile=False)
    shape = model.input_shape[0] if isinstance(model.input_shape, list) else model.input_shape
    probe = np.random.default_rng(0).random((2, *[int(d or 256) for d in shape[1:]])).astype(np.float32)
    expected = _keras_outputs(model, probe)  # also builds a model that was never called, which export needs
    target = onnx_path_for(keras_path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=folder)
    os.close(fd)
    try:
        t0 = time.perf_counter()
        model.export(tmp, format="onnx", verbose=False)
        shapes_written = _write_shapes(tmp)
        seconds = time.perf_counter() - t0
        session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: probe})
        names = [o.name for o in session.get_outputs()]
        diffs = {}
        for name, value in zip(names, got):
            ref = expected.get(name)
            if ref is None and len(expected) == 1:
                ref = next(iter(expected.values()))
            if ref is None or ref.shape != value.shape:
                raise RuntimeError(f"the ONNX output {name} {value.shape} has no Keras output to match")
            diffs[name] = float(np.max(np.abs(ref - value)))
        worst = max(diffs.values())
        if not worst <= EXPORT_TOLERANCE:
            raise RuntimeError(f"the ONNX export differs from the Keras model by {worst:.2e} (> {EXPORT_TOLERANCE})")
        opset = max((o.version for o in onnx.load(tmp, load_external_data=False).opset_import
                     if o.domain in ("", "ai.onnx")), default=None)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model file is readable like the .keras beside it
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return {
        "file": os.path.basename(target),
        "sha256": sha256_of(target),
        "keras_sha256": sha256_of(keras_path),
        "exporter": f"keras {keras.__version__} Model.export(format='onnx'), tf2onnx {tf2onnx.__version__}",
        "opset": opset,
        "checked_with": f"onnxruntime {ort.__version__}",
        "max_abs_difference": diffs,
        "check": "a random 2-image batch through Keras and ONNX Runtime",
        "shapes_written": shapes_written,
        "export_seconds": round(seconds, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def onnx_serving_file(keras_path: str, card: ModelCard | dict | None) -> tuple[str | None, str]:
    """(path of the ONNX file to serve, '') or (None, why it cannot serve this model)."""
    target = onnx_path_for(keras_path)
    if not os.path.isfile(target):
        return None, f"{os.path.basename(keras_path)} has no ONNX export beside it"
    record = (read_card(card) or ModelCard()).onnx
    if not record:
        return None, f"the card of {os.path.basename(keras_path)} records no ONNX export"
    if sha256_of(keras_path) != record.keras_sha256:
        return None, f"{os.path.basename(target)} was exported from another version of {os.path.basename(keras_path)}"
    if sha256_of(target) != record.sha256:
        return None, f"{os.path.basename(target)} is not the file its card recorded"
    return target, ""


def export_and_record(keras_path: str, model=None, log=print) -> dict | None:
    """Export beside ``keras_path`` and write the record onto its card. Returns the record, or None (logged) when
    the export failed: the model still serves through Keras, so a failed export never fails a run."""
    from core.cards.modelcard import write_card

    try:
        record = export_onnx(keras_path, model)
    except Exception as exc:  # the Keras model is the product; ONNX is an optimisation
        log(f"ONNX export of {keras_path} failed, the model will run on Keras: {exc}")
        return None
    card = read_card(keras_path)
    if card is not None:
        write_card(keras_path, replace(card, onnx=record))
    log(f"exported {record['file']} (largest difference from Keras {max(record['max_abs_difference'].values()):.1e})")
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Export .keras models to ONNX beside them, recorded on their cards.")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args(argv)
    failed = [p for p in a.models if export_and_record(p) is None]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
