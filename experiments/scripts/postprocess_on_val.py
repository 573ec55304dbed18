"""Does cleaning the thresholded mask help? Measured on the validation split only, with train-only models.

    python3 bench/postprocess_on_val.py [--data BUSI_DIR] [NAME=MODEL.keras ...]

By default it scores D5B (``weights/d5_256.keras``) and its seed-1 twin
(``runs/d5_b256_seed1/model.keras``): both were trained on the train split
alone, so their validation images are truly held out. For each model and each
mask clean-up below, the threshold is chosen on validation the way training
does, and mean lesion Dice, false alarms and misses are printed.

Clean-ups compared (each maps a binary mask to a binary mask):
- ``raw``: the thresholded mask, as the app shows it today;
- ``fill``: holes inside a predicted lesion filled (lesions are solid);
- ``drop25``: connected regions smaller than 25 % of the largest removed;
- ``drop25+fill``: both;
- ``largest``: only the largest region kept (reported for information only).

Rule, written before any figure existed (2026-11-24): a clean-up is adopted by
the app, ``core.evaluate`` and ``core.predict`` only if, for BOTH models, it
raises validation mean lesion Dice by at least 0.01 over ``raw`` and does not
raise the false-alarm rate. Among those that qualify, the one with the larger
gain averaged over the two models is adopted. ``largest`` is never adopted: it
would hide a second lesion from the clinician. The test split is not read.

Outcome (2026-11-24, ``python3 bench/postprocess_on_val.py``, 4 min): no clean-up qualifies.
Validation mean lesion Dice, threshold re-chosen for each:
  D5B        raw 0.706, fill 0.706, drop25 0.707, drop25+fill 0.707, largest 0.708 (misses 13 -> 15)
  D5B-seed1  raw 0.718, fill 0.718, drop25 0.718, drop25+fill 0.718, largest 0.711
False alarms were unchanged (3/16 and 1/16). The app keeps the raw thresholded mask. The misses
are lesions the models give almost no probability to (for 11 of D5B's 13, the highest probability
inside the lesion is below 0.7, for 8 below 0.2), which no clean-up of the mask can recover.
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.data.layouts import load_cases, scan_busi  # noqa: E402
from core.evaluation.folder import manifest_for  # noqa: E402
from core.evaluation.scoring import Scored, predict_cases, summarise
from core.inference.predictor import Predictor  # noqa: E402
from core.metrics.scores import false_alarm, segmentation_report  # noqa: E402
from core.data.split import read_manifest  # noqa: E402

THRESHOLDS = [round(t, 2) for t in np.arange(0.2, 0.81, 0.05)]


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every background region not connected to the image border filled."""
    m = mask.astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros_like(m)
    cv2.drawContours(out, contours, -1, 1, thickness=cv2.FILLED)
    return out.astype(bool)


def drop_small(mask: np.ndarray, fraction: float) -> np.ndarray:
    """The mask without 8-connected regions smaller than fraction × the largest region."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= fraction * areas.max()) + 1
    return np.isin(labels, keep)


CLEANUPS = {
    "raw": lambda m: m,
    "fill": fill_holes,
    "drop25": lambda m: drop_small(m, 0.25),
    "drop25+fill": lambda m: fill_holes(drop_small(m, 0.25)),
    "largest": lambda m: drop_small(m, 1.0),
}


def rows_for(scored: list[Scored], threshold: float, clean) -> list[dict]:
    rows = []
    for s in scored:
        pred = clean(s.probability >= threshold)
        gt = s.case.mask
        rows.append({"key": s.case.case.key, "label": s.case.case.label, **segmentation_report(gt, pred),
                     "false_alarm": bool(false_alarm(pred)) if not gt.any() else None,
                     "malignancy_probability": s.malignancy, "inference_ms": s.inference_ms})
    return rows


def best_threshold(scored: list[Scored], clean) -> tuple[float, list[dict]]:
    """The threshold maximising mean Dice over all images, as core.evaluate.choose_threshold does."""
    best = None
    for t in THRESHOLDS:
        rows = rows_for(scored, t, clean)
        score = float(np.mean([r["dice"] for r in rows]))
        if best is None or score > best[0] + 1e-9:
            best = (score, t, rows)
    return best[1], best[2]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", help="NAME=PATH (default: D5B and its seed-1 twin)")
    ap.add_argument("--data", default="../shared/busi/Dataset_BUSI_with_GT")
    a = ap.parse_args(argv)
    named = dict(m.split("=", 1) for m in a.models) or {
        "D5B": "weights/d5_256.keras", "D5B-seed1": "runs/d5_b256_seed1/model.keras"}
    manifest = manifest_for(next(iter(named.values())))
    wanted = set(read_manifest(manifest)["val"])
    loaded = load_cases([c for c in scan_busi(a.data).cases if c.key in wanted], [])
    print(f"validation split of {manifest}: {len(loaded)} images")
    gains: dict[str, list[float]] = {k: [] for k in CLEANUPS}
    for name, path in named.items():
        scored = predict_cases(Predictor.load(path), loaded)
        base = None
        for cname, clean in CLEANUPS.items():
            t, rows = best_threshold(scored, clean)
            s = summarise(rows)
            misses = sum(1 for r in rows if r["gt_area_px"] > 0 and r["dice"] < 0.3)
            if base is None:
                base = s
            gain = s["dice_mean"] - base["dice_mean"]
            gains[cname].append(gain)
            qualifies = gain >= 0.01 and s["false_alarm_rate"] <= base["false_alarm_rate"]
            print(f"{name:10s} {cname:12s} threshold {t:.2f}  Dice mean {s['dice_mean']:.3f} "
                  f"median {s['dice_median']:.3f}  gain {gain:+.3f}  misses {misses}  "
                  f"false alarms {s['false_alarm_rate']:.3f}  {'qualifies' if qualifies else ''}", flush=True)
    for cname, g in gains.items():
        print(f"{cname:12s} mean gain over models {np.mean(g):+.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
