"""Which preprocessing for BUSI's wide frames and BUS-BRA's tight crops: squash-resize or letterbox?

    python experiments/scripts/preprocess_choice.py --weights MODEL --data DIR [--data DIR] [--manifest split.json --side test]

Rule, fixed before running: the product keeps its one path (squash-resize to S x S, what every shipped model
trained on) unless letterboxing (pad to a square with black, resize, crop back) scores a higher mean lesion Dice
on BOTH datasets for the same model, at inference. Training with letterbox is the fuller test; this measures how
much the aspect-ratio distortion costs a model that trained with resize and strong anisotropic augmentation.
Prints mean lesion Dice per dataset for each path and the paired difference.
"""
from __future__ import annotations

import argparse

import numpy as np

from core.data.layouts import load_cases, scan_datasets
from core.data.split import read_manifest
from core.inference.predictor import Predictor, lesion_mask
from core.inference.preprocess import normalise, probability_to_original, resize_image
from core.metrics.intervals import paired_difference
from core.metrics.scores import dice


def letterbox_probability(p: Predictor, gray: np.ndarray) -> np.ndarray:
    h, w = gray.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    padded = np.zeros((side, side), np.uint8)
    padded[top:top + h, left:left + w] = gray
    prob = p.forward_batch(normalise(resize_image(padded, p.image_size))[None])[0]
    return probability_to_original(prob, side, side)[top:top + h, left:left + w]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--manifest")
    ap.add_argument("--side", default="test")
    a = ap.parse_args(argv)
    p = Predictor.load(a.weights)
    cases = scan_datasets(a.data).cases
    if a.manifest:
        keep = set(read_manifest(a.manifest)[a.side])
        cases = [c for c in cases if c.key in keep]
    loaded = [lc for lc in load_cases(cases) if lc.mask.any()]
    by = {}
    for lc in loaded:
        squash = lesion_mask(p.predict(lc.gray).probability, p.threshold, p.decision)
        box = lesion_mask(letterbox_probability(p, lc.gray), p.threshold, p.decision)
        by.setdefault(lc.case.dataset, []).append((dice(lc.mask, squash), dice(lc.mask, box)))
    for name, pairs in sorted(by.items()):
        s, b = np.array(pairs).T
        d = paired_difference(s, b)
        print(f"{name}: n={len(pairs)} lesion images; resize {s.mean():.3f}, letterbox {b.mean():.3f}; "
              f"letterbox - resize {d['mean']:+.3f} ({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
