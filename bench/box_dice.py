"""LiteMedSAM's Dice with boxes around the lesions, and the U-Net refined by it, on the shipped model's test split.

    python -m bench.box_dice [--busi DIR] [--busbra DIR] [--split weights/default.split.json] [--json OUT]

On each lesion image of the split's test side (BUSI and BUS-BRA), against the ground truth (the union of its mask
files), it scores:

- box, padded 5 %: each ground-truth lesion (8-connected component of at least 10 px) boxed tightly, each edge moved out by 5 % of
  the box's width (left, right) or height (top, bottom); LiteMedSAM's masks for the boxes, united;
- box, jittered 10 %: the tight box with each edge moved in or out by up to 10 % of the box's width or height,
  uniformly at random (numpy seed 0, drawn in the split's order);
- U-Net: the shipped default's mask as core.evaluate scores it (its threshold and no-lesion gate);
- refine: the U-Net's mask redrawn by LiteMedSAM from the tight box of each of its connected lesions
  (``python -m core.predict --refine``), and from the largest lesion's box only;

each as a mean Dice with its 95 % percentile-bootstrap interval, and refine minus U-Net paired per image. On the
normal (no-lesion) images it counts how many masks are non-empty for the U-Net and for refine. LiteMedSAM's training
data may include BUSI (weights/litemedsam.card.md), so its figures on BUSI may be optimistic.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from core.locations import PROJECT_ROOT

SHARED = os.path.join(os.path.dirname(PROJECT_ROOT), "shared")


def padded(box, frac: float, shape) -> tuple[float, float, float, float]:
    """A tight box (x0, y0, x1, y1) with each edge moved out by frac of its width or height, clipped to the image."""
    x0, y0, x1, y1 = box
    dx, dy = frac * (x1 - x0 + 1), frac * (y1 - y0 + 1)
    h, w = shape
    return max(0.0, x0 - dx), max(0.0, y0 - dy), min(w - 1.0, x1 + dx), min(h - 1.0, y1 + dy)


def jittered(box, frac: float, shape, rng) -> tuple[float, float, float, float]:
    """Each edge moved by a uniform draw in [-frac, frac] of the box's width or height, clipped; never inverted."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0 + 1, y1 - y0 + 1
    d = rng.uniform(-frac, frac, 4)
    h, w = shape
    nx0, ny0 = x0 + d[0] * bw, y0 + d[1] * bh
    nx1, ny1 = max(nx0 + 1, x1 + d[2] * bw), max(ny0 + 1, y1 + d[3] * bh)
    return max(0.0, nx0), max(0.0, ny0), min(w - 1.0, nx1), min(h - 1.0, ny1)


def main(argv=None) -> int:
    from core.data.layouts import load_cases, scan_datasets
    from core.data.split import read_manifest
    from core.inference.boxprompt import MIN_LESION_PX, BoxSegmenter, lesion_boxes, refine
    from core.inference.decision import lesion_mask
    from core.inference.predictor import Predictor
    from core.metrics.intervals import mean_interval, paired_difference
    from core.metrics.scores import dice

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--busi", default=os.path.join(SHARED, "busi", "Dataset_BUSI_with_GT"))
    ap.add_argument("--busbra", default=os.path.join(SHARED, "busbra", "BUSBRA"))
    ap.add_argument("--weights", default=os.path.join(PROJECT_ROOT, "weights", "default.keras"))
    ap.add_argument("--split", default=os.path.join(PROJECT_ROOT, "weights", "default.split.json"))
    ap.add_argument("--limit", type=int, help="only the first N test images (a quick look)")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args(argv)
    wanted = list(read_manifest(a.split)["test"])
    dataset = scan_datasets([a.busi, a.busbra])
    by_key = {c.key: c for c in dataset.cases}
    cases = [by_key[k] for k in wanted if k in by_key][: a.limit]
    missing = [k for k in wanted if k not in by_key]
    loaded = load_cases(cases, [])
    predictor = Predictor.load(a.weights)
    seg = BoxSegmenter()
    rng = np.random.default_rng(0)
    names = ("box_pad5", "box_jitter10", "unet", "refine_each", "refine_largest")
    scores: dict[str, dict[str, list[float]]] = {}
    normal: dict[str, dict[str, int]] = {}
    t0 = time.perf_counter()
    for lc in loaded:
        ds = lc.case.dataset
        prob = predictor.predict(lc.gray).probability
        unet = lesion_mask(prob, predictor.threshold, predictor.decision.gate if predictor.decision else None)
        each = refine(seg, lc.gray, unet)
        largest = refine(seg, lc.gray, unet, largest_only=True)
        if not lc.mask.any():
            n = normal.setdefault(ds, {"images": 0, "unet_marked": 0, "refine_marked": 0})
            n["images"] += 1
            n["unet_marked"] += int(unet.any())
            n["refine_marked"] += int(each.any())
            continue
        pad = np.zeros(lc.gray.shape, bool)
        jit = np.zeros(lc.gray.shape, bool)
        for box in lesion_boxes(lc.mask, min_px=MIN_LESION_PX):
            pad |= seg.segment(lc.gray, padded(box, 0.05, lc.gray.shape)).mask
            jit |= seg.segment(lc.gray, jittered(box, 0.10, lc.gray.shape, rng)).mask
        row = dict(zip(names, (pad, jit, unet, each, largest)))
        for k, m in row.items():
            scores.setdefault(ds, {n: [] for n in names})[k].append(float(dice(lc.mask, m)))
    seconds = time.perf_counter() - t0
    out = {"split": os.path.relpath(a.split, PROJECT_ROOT), "missing_test_images": missing, "datasets": {},
           "seconds": round(seconds, 1), "normal_images": normal}
    for ds, s in sorted(scores.items()):
        rec = {"lesion_images": len(s["unet"])}
        for k in names:
            ci = mean_interval(s[k])
            rec[k] = {"mean_dice": float(np.mean(s[k])), "ci95": ci, "median_dice": float(np.median(s[k]))}
        rec["refine_each_minus_unet"] = paired_difference(s["unet"], s["refine_each"])
        rec["refine_largest_minus_unet"] = paired_difference(s["unet"], s["refine_largest"])
        out["datasets"][ds] = rec
        print(f"{ds}: {rec['lesion_images']} lesion images")
        for k in names:
            r = rec[k]
            lo, hi = r["ci95"] or (float("nan"), float("nan"))
            print(f"  {k:15s} mean Dice {r['mean_dice']:.3f} ({lo:.3f}-{hi:.3f}), median {r['median_dice']:.3f}")
        for k in ("refine_each_minus_unet", "refine_largest_minus_unet"):
            d = rec[k]
            print(f"  {k}: {d['mean']:+.3f} ({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f}), {d['verdict']}; "
                  f"better on {d['better_on']}, worse on {d['worse_on']} of {d['n']}")
    for ds, n in sorted(normal.items()):
        print(f"{ds}: normal images {n['images']}: marked by the U-Net {n['unet_marked']}, after refine "
              f"{n['refine_marked']}")
    if missing:
        print(f"{len(missing)} test images not found under the data folders: {missing[:5]}")
    print(f"{len(loaded)} images in {seconds:.0f} s")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
