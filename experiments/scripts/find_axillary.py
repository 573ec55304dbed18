"""List the BUSI images whose burned-in label names the axilla: axillary lymph nodes, filed under benign.

    python bench/find_axillary.py --data ../shared/busi/Dataset_BUSI_with_GT --out /tmp/axillary_proposed.txt

BUSI files some scans of axillary lymph nodes as benign lesions, and the
scanner burned a label such as "RT AXILLA", "lt axilla" or "LT AX" into the
frame. These images were most of the models' complete misses on validation
(bench/RESULTS.md). The script finds the labels by template matching: two
word templates cut from BUSI images themselves ("AXILLA" from benign (210),
"axilla" from benign (235)), matched on bright text pixels at five scales.
Scores of 0.59 and over were all axilla labels when checked by eye. Between
0.50 and 0.57 the short "LT AX" labels (0.55-0.57) mix with other labels
("lt12 above nippl", "LT10:00"), so the script only proposes there: it
prints every score of 0.35 and over and writes the keys scoring 0.5 or more
to --out. bench/axillary_keys.txt is that list after a look at each frame,
with the rejected ones named in its header.
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.data.layouts import load_cases, scan_busi  # noqa: E402

# (case key, rows, columns) of each word template in its own BUSI image
TEMPLATES = [("benign/benign (210)", (347, 368), (55, 136)), ("benign/benign (235)", (365, 386), (289, 344))]
SCALES = (0.8, 0.9, 1.0, 1.1, 1.25)
THRESHOLD = 0.5


def text_pixels(gray: np.ndarray) -> np.ndarray:
    """Bright, thin strokes: pixels well above their 15-pixel neighbourhood (burned-in text is drawn near
    white, but some frames are dim overall, so a fixed level would miss them)."""
    background = cv2.blur(gray.astype(np.float32), (15, 15))
    return ((gray.astype(np.float32) - background > 40) & (gray > 120)).astype(np.float32)


def label_score(gray: np.ndarray, templates: list[np.ndarray]) -> float:
    text = text_pixels(gray)  # once per image, not once per template and scale
    best = 0.0
    for t in templates:
        for s in SCALES:
            ts = cv2.resize(t, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            if ts.shape[0] < gray.shape[0] and ts.shape[1] < gray.shape[1] and ts.any():
                best = max(best, float(cv2.matchTemplate(text, ts, cv2.TM_CCOEFF_NORMED).max()))
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="file for the proposed keys, one per line")
    a = ap.parse_args(argv)
    loaded = {lc.case.key: lc for lc in load_cases(scan_busi(a.data).cases, [])}
    templates = [text_pixels(loaded[k].gray)[r0:r1, c0:c1] for k, (r0, r1), (c0, c1) in TEMPLATES]
    scores = sorted(((label_score(lc.gray, templates), k) for k, lc in loaded.items()), reverse=True)
    for s, k in scores:
        if s >= 0.35:
            print(f"{s:.2f} {k}{'  <- proposed' if s >= THRESHOLD else ''}")
    keys = sorted(k for s, k in scores if s >= THRESHOLD)
    with open(a.out, "w") as fh:
        fh.write("".join(k + "\n" for k in keys))
    print(f"{len(keys)} of {len(loaded)} images proposed as carrying an axilla label; keys in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
