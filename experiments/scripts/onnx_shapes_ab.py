"""Interleaved A/B: the plain tf2onnx export of default.onnx against the same graph with every shape written in
(ONNX Runtime's symbolic shape inference); 3 rounds of 45 real inputs, one image at a time, the product's session
options. Rule and outcome: experiments/LOG.md, "Shapes written into the ONNX export".

Run on the commit before the export wrote shapes in (on later commits the shipped file is annotated already):

    PYTHONPATH=. python3 experiments/scripts/onnx_shapes_ab.py
"""
import glob
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

from core.data.imageio import read_image_file
from core.inference.predictor import Predictor

ANNOTATED = "/tmp/annotated.onnx"


def session(path: str) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main() -> None:
    onnx.save(SymbolicShapeInference.infer_shapes(onnx.load("weights/default.onnx"), auto_merge=True), ANNOTATED)
    p = Predictor.load("weights/default.keras")
    files = (sorted(glob.glob("../shared/busi/Dataset_BUSI_with_GT/*/*).png"))[::25]
             + sorted(glob.glob("../shared/busbra/BUSBRA/Images/*.png"))[::60])
    xs = [p.model_input(read_image_file(f).gray)[None].astype(np.float32) for f in files]
    sessions = {"plain": session("weights/default.onnx"), "annotated": session(ANNOTATED)}
    for s in sessions.values():
        s.run(None, {"image": xs[0]})
    diff = 0.0
    for rnd in range(3):
        times = {k: [] for k in sessions}
        order = list(sessions) if rnd % 2 == 0 else list(sessions)[::-1]
        for x in xs:
            outs = {}
            for k in order:
                t0 = time.perf_counter()
                outs[k] = sessions[k].run(None, {"image": x})
                times[k].append((time.perf_counter() - t0) * 1000)
            diff = max(diff, max(float(np.abs(a - b).max()) for a, b in zip(outs["plain"], outs["annotated"])))
        print(f"round {rnd + 1} ({len(xs)} inputs): "
              + ", ".join(f"{k} {np.median(v):.1f} ms" for k, v in times.items()), flush=True)
    print("largest output difference", diff)


if __name__ == "__main__":
    main()
