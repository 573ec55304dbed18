"""What the forward-pass A/B scripts share (onnx_shapes_ab, openvino_ab, onnx_rewrite_ab): the 45 real inputs,
an ONNX Runtime session with the product's options, and rounds that interleave the engines image by image, the
order swapped each round, so this machine's drift hits both alike."""
import glob
import time

import numpy as np
import onnxruntime as ort


def ab_files() -> list[str]:
    """45 real images: every 25th of BUSI and every 60th of BUS-BRA."""
    return (sorted(glob.glob("../shared/busi/Dataset_BUSI_with_GT/*/*).png"))[::25]
            + sorted(glob.glob("../shared/busbra/BUSBRA/Images/*.png"))[::60])


def product_session(path: str) -> ort.InferenceSession:
    """An ONNX Runtime session with core.inference.predictor.OnnxPredictor's options."""
    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def interleaved_round(runners: dict, xs: list, rnd: int) -> dict[str, float]:
    """Median ms per input of each runner over xs, one image at a time, runners alternated per input (the order
    flipped on odd rounds)."""
    times = {k: [] for k in runners}
    order = list(runners) if rnd % 2 == 0 else list(runners)[::-1]
    for x in xs:
        for k in order:
            t0 = time.perf_counter()
            runners[k](x)
            times[k].append((time.perf_counter() - t0) * 1000)
    return {k: float(np.median(v)) for k, v in times.items()}
