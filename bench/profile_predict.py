"""Benchmark: where the whole predict path spends its time, stage by stage.

    python bench/profile_predict.py [--data BUSI_DIR] [--weights PATH ...] [--n 30]

For each model, prints the median milliseconds per image of each stage of the
path that bench/bench_predict.py times as one figure: decode the file's bytes,
resize and normalise, the network's forward pass, resize the probability map
back, threshold and measure. Only the split between stages is meant to be
read here; the ratio against the classic U-Net comes from bench_predict.py.

It then times the bare forward pass four ways, interleaved in rounds so that
drift in this machine's speed hits all four alike: the trained graph and the
BatchNorm-folded graph (core.inference.fastpath), each with and without XLA. The
Predictor runs the folded graph without XLA because of these figures.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench.bench_predict import image_files

STAGES = ("decode", "preprocess", "forward", "resize_back", "threshold_measure", "total")


def profile_model(weights: str, blobs: list[bytes]) -> dict[str, float]:
    """Median ms per stage over the given image files, one image at a time (as the app runs)."""
    from core.analysis.measure import measure
    from core.data.imageio import decode_image
    from core.inference.decision import lesion_mask
    from core.inference.predictor import Predictor
    from core.inference.preprocess import probability_to_original

    p = Predictor.load(weights)
    times: dict[str, list[float]] = {s: [] for s in STAGES}
    for data in blobs:
        marks = [time.perf_counter()]
        img = decode_image(data, "x.png")
        marks.append(time.perf_counter())
        x = p.model_input(img.gray)[None]
        marks.append(time.perf_counter())
        prob, _ = p._run(x)
        marks.append(time.perf_counter())
        full = probability_to_original(prob[0], *img.gray.shape)
        marks.append(time.perf_counter())
        measure(lesion_mask(full, p.threshold))
        marks.append(time.perf_counter())
        for stage, a, b in zip(STAGES, marks, marks[1:]):
            times[stage].append((b - a) * 1000)
        times["total"].append((marks[-1] - marks[0]) * 1000)
    return {s: float(np.median(v)) for s, v in times.items()}


def forward_variants(weights: str, rounds: int = 3, runs: int = 10) -> dict[str, float]:
    """Median ms of a bare 1-image forward pass: trained/folded graph, with/without XLA."""
    import keras
    import tensorflow as tf

    from core.inference.fastpath import fold_batch_norm
    from core.model import unet as _registered  # noqa: F401

    model = keras.models.load_model(weights, compile=False)
    folded = fold_batch_norm(model)
    size = int(model.input_shape[1])
    x = np.random.default_rng(0).random((1, size, size, 1)).astype(np.float32)
    fns = {}
    for name, net in (("trained", model), ("folded", folded)):
        for xla in (True, False):
            fn = tf.function(lambda z, net=net: net(z, training=False), jit_compile=xla)
            fn(x)  # trace and compile outside the timing
            fns[f"{name}{' +XLA' if xla else ''}"] = fn
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            for _ in range(runs):
                t = time.perf_counter()
                keras.tree.map_structure(lambda v: v.numpy(), fn(x))
                times[k].append((time.perf_counter() - t) * 1000)
    return {k: float(np.median(v)) for k, v in times.items()}


def main(argv=None) -> int:
    from core.cards.registry import default_model_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append",
                    help="dataset folder to draw images from, repeatable (default: the shipped samples)")
    ap.add_argument("--weights", nargs="+", default=[default_model_path()])
    ap.add_argument("--n", type=int, default=30)
    a = ap.parse_args(argv)
    blobs = [open(f, "rb").read() for f in image_files(a.data, a.n)]
    print("median ms per image: " + " | ".join(STAGES))
    for w in a.weights:
        row = profile_model(w, blobs)
        print(f"{os.path.basename(w)}: " + " | ".join(f"{row[s]:.1f}" for s in STAGES))
    print("bare forward pass, median ms (trained graph / BatchNorm folded, with and without XLA):")
    for w in a.weights:
        row = forward_variants(w)
        print(f"{os.path.basename(w)}: " + ", ".join(f"{k} {v:.1f}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
