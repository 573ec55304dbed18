"""What flip test-time augmentation would cost: the folded forward pass on a batch of 1 against a batch of 2.

    python bench/flip_cost.py MODEL.keras [--n 40] [--rounds 2]

Flip TTA runs the image and its mirror image together, so its cost is the
batch-of-2 forward pass. This prints the median of N calls for each, through
core.inference.Predictor (the BatchNorm-folded graph the app runs), in rounds
that alternate, since this machine's speed drifts.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.inference.predictor import Predictor  # noqa: E402


def median_ms(call, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(np.median(times))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    p = Predictor.load(a.model)
    x = np.random.default_rng(0).random((1, p.image_size, p.image_size, p.channels)).astype(np.float32)
    pair = np.concatenate([x, x[:, :, ::-1]], axis=0)
    p.forward_batch(pair)  # trace the batch-of-2 shape before timing it
    for r in range(1, a.rounds + 1):
        one, two = median_ms(lambda: p.forward_batch(x), a.n), median_ms(lambda: p.forward_batch(pair), a.n)
        print(f"round {r}: forward, batch of 1 {one:.1f} ms; batch of 2 (image and mirror) {two:.1f} ms; "
              f"flip TTA costs {two / one:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
