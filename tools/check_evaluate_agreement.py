"""Cross-check: core.evaluate's mean Dice against Dice computed independently from core.predict's masks.

    python tools/check_evaluate_agreement.py --data DIR [--weights PATH] [--out DIR]

DIR is in any layout core reads (BUSI's or BUS-BRA's). Runs both commands on the lesion images of the folder
(at the model card's threshold and decision rule). Then, using only Pillow and numpy, it recomputes each image's
Dice from the written `<stem>_pred.png` and the union of the ground-truth mask
files. It prints both means and their difference.
"""
from __future__ import annotations

import argparse
import csv
import os
import tempfile

import numpy as np
from PIL import Image


def independent_dice(gt_paths: list[str], pred_path: str) -> float:
    gt = None
    for p in gt_paths:
        arr = np.array(Image.open(p).convert("L")) > 0
        gt = arr if gt is None else gt | arr
    pred = np.array(Image.open(pred_path)) > 127
    inter = np.logical_and(gt, pred).sum()
    total = gt.sum() + pred.sum()
    return 1.0 if total == 0 else 2.0 * inter / total


def main(argv=None) -> int:
    from core import evaluate, predict
    from core.cards.registry import active_model_path
    from core.data.layouts import scan_datasets

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default=active_model_path())
    ap.add_argument("--out", default=tempfile.mkdtemp(prefix="agreement_"))
    a = ap.parse_args(argv)
    ds = scan_datasets([a.data])
    lesion_images = [c.image_path for c in ds.cases if c.label != "normal"]
    ev_out, pred_out = os.path.join(a.out, "evaluate"), os.path.join(a.out, "predict")
    evaluate.main(["--data", a.data, "--weights", a.weights, "--out", ev_out])
    predict.main([*lesion_images, "--out", pred_out, "--weights", a.weights])
    rows = {r["key"]: r for r in csv.DictReader(open(os.path.join(ev_out, "per_image.csv")))}
    ours, theirs, stems = [], [], {}
    for c in ds.cases:
        if c.label == "normal":
            continue
        stem = os.path.splitext(os.path.basename(c.image_path))[0]
        pred_png = os.path.join(pred_out, f"{stem}_pred.png")
        if stem in stems or not os.path.exists(pred_png):
            continue  # predict names outputs by stem; a clash across folders would be ambiguous
        stems[stem] = c
        ours.append(float(rows[c.key]["dice"]))
        theirs.append(independent_dice(c.mask_paths, pred_png))
    print(f"lesion images compared: {len(ours)}")
    print(f"core.evaluate mean Dice:                {np.mean(ours):.5f}")
    print(f"independent mean Dice from predict PNGs: {np.mean(theirs):.5f}")
    print(f"difference: {abs(np.mean(ours) - np.mean(theirs)):.6f} (max per image {np.max(np.abs(np.subtract(ours, theirs))):.6f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
