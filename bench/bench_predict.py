"""Benchmark: the whole predict path with the default model against the classic 64-filter U-Net.

    python bench/bench_predict.py [--data DIR ...] [--weights PATH] [--n 30]

Prints, from one run (this machine's speed drifts, so only same-run ratios mean much):
  - per-image latency of the whole predict path (decode bytes, preprocess, forward,
    resize back, threshold, measure), median over >= 30 images;
  - per-image latency of a bare forward pass of the classic U-Net (64 filters, 256²);
  - their ratio;
  - training throughput (images/s) of the default configuration.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace

import numpy as np

from core import runtime
from core.cards.schema import Architecture, read_card


def image_files(data: list[str] | None, n: int) -> list[str]:
    """Up to n image files: from the data folders if given (the default model's test split first, alternating
    datasets so each kind of image is timed), else the samples."""
    from core.data.layouts import scan_datasets
    from core.locations import SAMPLES_DIR, WEIGHTS_DIR

    cases = scan_datasets(data or [os.path.join(SAMPLES_DIR, "busi")]).cases
    manifest = os.path.join(WEIGHTS_DIR, "default.split.json")
    if data and os.path.isfile(manifest):
        test = set(json.load(open(manifest))["split"]["test"])
        by_dataset: dict[str, list] = {}
        for c in sorted(cases, key=lambda c: (c.key not in test, c.key)):
            by_dataset.setdefault(c.dataset, []).append(c)
        # round-robin over datasets: BUSI's wide frames and BUS-BRA's tight crops differ in size
        cases = [c for group in zip(*by_dataset.values()) for c in group]
    files = [c.image_path for c in cases]
    return (files * (n // max(1, len(files)) + 1))[:n]


def bench_predict_path(weights: str, files: list[str]) -> dict:
    from core.analysis.measure import measure
    from core.data.imageio import decode_image
    from core.inference.decision import lesion_mask
    from core.inference.predictor import Predictor

    t0 = time.perf_counter()
    p = Predictor.load(weights)
    load_s = time.perf_counter() - t0
    blobs = [open(f, "rb").read() for f in files]
    times = []
    for data in blobs:
        t = time.perf_counter()
        img = decode_image(data, "x.png")
        pred = p.predict(img.gray)
        measure(lesion_mask(pred.probability, p.threshold, p.decision.gate))
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": float(np.median(times)), "p90_ms": float(np.percentile(times, 90)), "n": len(times),
            "load_and_warm_up_s": load_s, "image_size": p.image_size}


def bench_classic_forward(runs: int = 12, xla: bool = False) -> dict:
    """Bare forward of the classic U-Net; xla=True compiles it with XLA, which is faster for it on this CPU.

    Our predict path runs the BatchNorm-folded graph without XLA (bench/profile_predict.py shows why);
    the ratio against the classic's faster form is printed too, so the bar is not met by handicapping it.
    """
    import tensorflow as tf

    from core.model.unet import build_classic_unet

    model = build_classic_unet((256, 256, 1), 64)
    fwd = tf.function(lambda x: model(x, training=False), jit_compile=xla)
    x = np.random.default_rng(0).random((1, 256, 256, 1)).astype(np.float32)
    fwd(x).numpy()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fwd(x).numpy()
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": float(np.median(times)), "n": runs, "params": int(model.count_params())}


def bench_training(image_size: int, base_filters: int, depth: int = 4, steps: int = 6, batch: int = 8) -> float:
    from core.model.unet import build_unet, compile_model

    _, jit, _ = runtime.training_setup()
    model = compile_model(build_unet((image_size, image_size, 1), base_filters, depth), jit_compile=jit)
    rng = np.random.default_rng(0)
    x = rng.random((batch, image_size, image_size, 1)).astype(np.float32)
    y = {"mask": (x > 0.5).astype(np.float32), "malignancy": np.ones((batch, 1), np.float32)}
    model.train_on_batch(x, y)  # graph building and XLA compilation
    t = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return steps * batch / (time.perf_counter() - t)


def main(argv=None) -> int:
    from core.cards.registry import default_model_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", help="dataset folder to draw images from, repeatable (default: the samples)")
    ap.add_argument("--weights", default=default_model_path())
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--update-card", action="store_true",
                    help="write the measured speed into the model's card (the card's own figure is taken mid-training)")
    a = ap.parse_args(argv)
    files = image_files(a.data, a.n)
    ours = bench_predict_path(a.weights, files)
    classic = bench_classic_forward()
    classic_xla = bench_classic_forward(xla=True)
    card = read_card(a.weights)
    arch = card.architecture if card else Architecture()
    f = 16 if arch.base_filters is None else arch.base_filters
    depth = 4 if arch.depth is None else arch.depth
    train_rate = {s: bench_training(s, f, depth) for s in (128, 256)}
    out = {
        "device": runtime.describe_device(), "cpu": platform.processor() or platform.machine(),
        "predict_path": ours, "classic_unet64_forward": classic,
        "ratio_predict_path_to_classic_forward": ours["median_ms"] / classic["median_ms"],
        "classic_unet64_forward_xla": classic_xla,
        "ratio_predict_path_to_classic_forward_xla": ours["median_ms"] / classic_xla["median_ms"],
        "training_images_per_s": {f"{s}x{s}, {f} filters{'' if depth == 4 else f', depth {depth}'}, batch 8": r for s, r in train_rate.items()},
    }
    print(f"device: {out['device']}")
    print(f"whole predict path, {os.path.basename(a.weights)} ({ours['image_size']}²), median of {ours['n']} images: "
          f"{ours['median_ms']:.1f} ms (p90 {ours['p90_ms']:.1f} ms; load + warm-up {ours['load_and_warm_up_s']:.1f} s)")
    print(f"classic U-Net (64 filters, {classic['params'] / 1e6:.1f} M params) bare forward at 256², "
          f"median of {classic['n']}: {classic['median_ms']:.1f} ms")
    print(f"ratio (ours / classic): {out['ratio_predict_path_to_classic_forward']:.3f}")
    print(f"classic U-Net bare forward compiled with XLA, median of {classic_xla['n']}: "
          f"{classic_xla['median_ms']:.1f} ms; ratio (ours / classic XLA): "
          f"{out['ratio_predict_path_to_classic_forward_xla']:.3f}")
    for k, v in out["training_images_per_s"].items():
        print(f"training throughput, {k}: {v:.2f} images/s")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    if a.update_card and card:
        from core.cards.modelcard import write_card

        speed = {
            "predict_path_ms_median": round(ours["median_ms"], 1), "predict_path_ms_p90": round(ours["p90_ms"], 1),
            "classic_unet64_forward_ms_median_same_run": round(classic["median_ms"], 1),
            "ratio_to_classic": round(out["ratio_predict_path_to_classic_forward"], 3),
            "classic_unet64_forward_xla_ms_median_same_run": round(classic_xla["median_ms"], 1),
            "ratio_to_classic_xla": round(out["ratio_predict_path_to_classic_forward_xla"], 3),
            "training_images_per_s": {k: round(v, 2) for k, v in out["training_images_per_s"].items()},
            "measured_on": f"{out['device']}, bench/bench_predict.py, {time.strftime('%Y-%m-%d')}",
            "note": "whole predict path: decode, grayscale, resize, forward, resize back, threshold, measure; "
                    "one image at a time, median over the images listed",
        }
        write_card(a.weights, replace(card, speed=speed))
        print(f"speed written into {os.path.splitext(a.weights)[0]}.card.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
