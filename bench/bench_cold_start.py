"""Cold start: process start plus one image through ``python -m core.predict``, on ONNX Runtime and on Keras.

    python -m bench.bench_cold_start [--repeats 3] [--image samples/busi/benign/...png]

Each repeat is a fresh Python process (wall clock from launch to exit, outputs written); the Keras row forces
BUSSEG_ENGINE=keras in the same run, as the baseline. The bar (issue 31) is 2.5 s.
"""
from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cold_start_seconds(image: str, engine: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "BUSSEG_ENGINE": engine}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "core.predict", image, "--out", out], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--image", default=sorted(p for p in glob.glob(os.path.join(ROOT, "samples", "**", "*.png"),
                                                                   recursive=True) if "_mask" not in p)[0])
    a = ap.parse_args(argv)
    for engine in ("onnx", "keras"):
        times = [cold_start_seconds(a.image, engine) for _ in range(a.repeats)]
        print(f"{engine}: cold start (process + one image) median {statistics.median(times):.2f} s, "
              f"runs {', '.join(f'{t:.2f}' for t in times)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
