"""Interleaved A/B: the plain tf2onnx export of default.onnx against the same graph with every shape written in
(ONNX Runtime's symbolic shape inference); 3 rounds of 45 real inputs, one image at a time, the product's session
options. Rule and outcome: experiments/LOG.md, "Shapes written into the ONNX export".

Run on the commit before the export wrote shapes in (on later commits the shipped file is annotated already):

    PYTHONPATH=. python3 experiments/scripts/onnx_shapes_ab.py
"""
import numpy as np
import onnx
from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference

from core.data.imageio import read_image_file
from core.inference.predictor import Predictor
from experiments.scripts.interleaved import ab_files, interleaved_round, product_session

ANNOTATED = "/tmp/annotated.onnx"



def main() -> None:
    onnx.save(SymbolicShapeInference.infer_shapes(onnx.load("weights/default.onnx"), auto_merge=True), ANNOTATED)
    p = Predictor.load("weights/default.keras")
    xs = [p.model_input(read_image_file(f).gray)[None].astype(np.float32) for f in ab_files()]
    sessions = {"plain": product_session("weights/default.onnx"), "annotated": product_session(ANNOTATED)}
    runners = {k: (lambda x, s=s: s.run(None, {"image": x})) for k, s in sessions.items()}
    for run in runners.values():
        run(xs[0])
    for rnd in range(3):
        medians = interleaved_round(runners, xs, rnd)
        print(f"round {rnd + 1} ({len(xs)} inputs): "
              + ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items()), flush=True)
    diff = max(float(np.abs(a - b).max()) for x in xs for a, b in zip(runners["plain"](x), runners["annotated"](x)))
    print("largest output difference", diff)


if __name__ == "__main__":
    main()
