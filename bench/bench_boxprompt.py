"""LiteMedSAM's cost in this process (core.inference.boxprompt), without the browser.

    python -m bench.bench_boxprompt

Prints the time to load its two ONNX sessions, the encoder per image (run once per image, then cached) and the
decoder with the postprocessing per box, over the sample images. The page loads the sessions and encodes the image
in the background once editing is switched on, so a box then costs the decoder alone (bench_ui times that in
Chromium); a box drawn before that has finished waits for it.
"""
from __future__ import annotations

import glob
import os
import statistics
import time

import cv2

from core.inference.boxprompt import BoxSegmenter
from core.locations import PROJECT_ROOT


def main() -> int:
    t = time.perf_counter()
    seg = BoxSegmenter()
    seg._load()
    load_s = time.perf_counter() - t
    images = sorted(p for p in glob.glob(os.path.join(PROJECT_ROOT, "samples", "busi", "*", "*.png"))
                    if "_mask" not in p)
    enc, dec = [], []
    for path in images:
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        enc.append(seg.segment(gray, (50, 50, 200, 200)).encoder_ms)
        dec += [seg.segment(gray, (60 + i, 60, 210, 190 + i)).decoder_ms for i in range(3)]
    print(f"LiteMedSAM: sessions load {load_s:.2f} s; encoder median {statistics.median(enc):.0f} ms "
          f"(max {max(enc):.0f}) over {len(enc)} images; decoder and postprocessing median "
          f"{statistics.median(dec):.0f} ms (max {max(dec):.0f}) over {len(dec)} boxes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
