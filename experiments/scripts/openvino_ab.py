"""Interleaved A/B: the shipped default's ONNX file on ONNX Runtime (the product's session options) against the same
file compiled by OpenVINO for the CPU; 3 rounds of 45 real inputs, one image at a time, order swapped each round;
then the 12 shipped samples through both for the largest probability difference and the masks at the default's
threshold. Rule and outcome: experiments/LOG.md, "OpenVINO as the CPU engine".

    python3 -m pip install openvino==2026.4.1   (not a project dependency: the rule did not adopt it)
    PYTHONPATH=. python3 experiments/scripts/openvino_ab.py
"""
import glob
import time

import numpy as np
import openvino as ov

from core.data.imageio import read_image_file
from core.inference.predictor import OnnxPredictor
from experiments.scripts.interleaved import ab_files, interleaved_round

ONNX = "weights/default.onnx"


def openvino_infer(path: str):
    core = ov.Core()
    compiled = core.compile_model(core.read_model(path), "CPU", {
        "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    names = [o.get_any_name() for o in compiled.outputs]

    def run(x):
        request.infer({0: x})
        return {n: request.get_output_tensor(i).data.copy() for i, n in enumerate(names)}
    return run


def main() -> None:
    p = OnnxPredictor(ONNX, "weights/default.keras", "weights/default.card.json")
    names = p._outputs

    def ort_run(x):
        return dict(zip(names, p.session.run(None, {p._input_name: x})))

    t0 = time.perf_counter()
    ov_run = openvino_infer(ONNX)
    print(f"OpenVINO read+compile {1000 * (time.perf_counter() - t0):.0f} ms")
    engines = {"onnxruntime": ort_run, "openvino": ov_run}
    xs = [p.model_input(read_image_file(f).gray)[None].astype(np.float32) for f in ab_files()]
    for run in engines.values():
        run(xs[0])
    for rnd in range(3):
        medians = interleaved_round(engines, xs, rnd)
        a, b = medians["onnxruntime"], medians["openvino"]
        print(f"round {rnd + 1} ({len(xs)} inputs): onnxruntime {a:.1f} ms, openvino {b:.1f} ms, "
              f"openvino {100 * (b - a) / a:+.1f} %", flush=True)
    samples = sorted(glob.glob("samples/busi/*/*.png"))
    samples = [f for f in samples if "_mask" not in f][:12]
    diff, same = 0.0, 0
    for f in samples:
        x = p.model_input(read_image_file(f).gray)[None].astype(np.float32)
        a, b = ort_run(x), ov_run(x)
        diff = max(diff, max(float(np.abs(a[k] - b[k]).max()) for k in names))
        same += int(np.array_equal(a["mask"] >= p.threshold, b["mask"] >= p.threshold))
    print(f"{len(samples)} samples: largest output difference {diff:.2e}, identical masks {same}/{len(samples)}")


if __name__ == "__main__":
    main()
