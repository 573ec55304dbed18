"""Scoring a model on labelled images, at each image's original resolution.

Library: ``predict_cases`` runs the model once per image; ``score_predictions``
turns probability maps into per-image rows at a threshold; ``summarise``
aggregates rows overall and per class (lesion Dice/IoU, false alarms on
normal images, malignancy AUC). The same functions serve the training
command's model card, the Evaluate page and the command line:

    python -m core.evaluate --data DIR [--weights PATH] [--threshold T] [--out DIR] [--split test]
"""
from __future__ import annotations

import argparse
import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from core.data import CLASS_LABEL, CLASSES, LoadedCase
from core.metrics import false_alarm, roc_auc, segmentation_report

ROW_FIELDS = ["key", "label", "width", "height", "dice", "iou", "sensitivity", "specificity", "pixel_accuracy",
              "hd95_px", "gt_area_px", "pred_area_px", "area_error", "false_alarm", "malignancy_probability",
              "inference_ms"]


@dataclass
class Scored:
    case: LoadedCase
    probability: np.ndarray
    malignancy: float | None
    inference_ms: float


def predict_cases(predictor, loaded: list[LoadedCase], progress=None) -> list[Scored]:
    """Run the model on each case once; progress(i, n) is called after each image."""
    out = []
    for i, lc in enumerate(loaded):
        p = predictor.predict(lc.gray)
        out.append(Scored(lc, p.probability, p.malignancy, p.inference_ms))
        if progress:
            progress(i + 1, len(loaded))
    return out


def score_predictions(scored: list[Scored], threshold: float) -> list[dict]:
    """One row of figures per image, computed on full-resolution masks."""
    rows = []
    for s in scored:
        pred = s.probability >= threshold
        gt = s.case.mask
        rep = segmentation_report(gt, pred)
        rows.append({
            "key": s.case.case.key,
            "label": s.case.case.label,
            "width": gt.shape[1],
            "height": gt.shape[0],
            **rep,
            "false_alarm": bool(false_alarm(pred)) if not gt.any() else None,
            "malignancy_probability": s.malignancy,
            "inference_ms": s.inference_ms,
        })
    return rows


def _mean(values) -> float | None:
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def _median(values) -> float | None:
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(vals)) if vals else None


def _lesion_summary(rows: list[dict]) -> dict:
    return {
        "n": len(rows),
        "dice_mean": _mean(r["dice"] for r in rows),
        "dice_median": _median(r["dice"] for r in rows),
        "iou_mean": _mean(r["iou"] for r in rows),
        "sensitivity_mean": _mean(r["sensitivity"] for r in rows),
        "specificity_mean": _mean(r["specificity"] for r in rows),
        "hd95_median_px": _median(r["hd95_px"] for r in rows),
        "area_error_mean": _mean(r["area_error"] for r in rows),
        "abs_area_error_mean": _mean(abs(r["area_error"]) for r in rows if r["area_error"] is not None),
    }


def summarise(rows: list[dict], excluded_from_auc: set[str] | None = None) -> dict:
    """Overall and per-class figures. Lesion metrics use images whose ground truth has a lesion."""
    excluded_from_auc = excluded_from_auc or set()
    lesion = [r for r in rows if r["gt_area_px"] > 0]
    normal = [r for r in rows if r["gt_area_px"] == 0]
    overall = _lesion_summary(lesion)
    alarms = [r["false_alarm"] for r in normal]
    labelled = [r for r in lesion if CLASS_LABEL.get(r["label"], -1) >= 0
                and r["malignancy_probability"] is not None and r["key"] not in excluded_from_auc]
    auc = roc_auc([CLASS_LABEL[r["label"]] for r in labelled], [r["malignancy_probability"] for r in labelled]) if labelled else float("nan")
    per_class = {}
    for c in CLASSES:
        rc = [r for r in rows if r["label"] == c]
        if rc:
            per_class[c] = {**_lesion_summary([r for r in rc if r["gt_area_px"] > 0]),
                            "n_images": len(rc),
                            "false_alarm_rate": _mean(r["false_alarm"] for r in rc if r["gt_area_px"] == 0)}
    return {
        "n_images": len(rows),
        "n_lesion": len(lesion),
        "n_normal": len(normal),
        **overall,
        "false_alarm_rate": (sum(alarms) / len(alarms)) if alarms else None,
        "malignancy_auc": None if math.isnan(auc) else auc,
        "n_auc": len(labelled),
        "inference_ms_median": _median(r["inference_ms"] for r in rows),
        "per_class": per_class,
    }


def choose_threshold(scored: list[Scored], candidates=None) -> float:
    """The threshold that maximises mean Dice over all images (normals score 1 when left empty)."""
    candidates = candidates if candidates is not None else [round(t, 2) for t in np.arange(0.2, 0.81, 0.05)]
    best, best_score = 0.5, -1.0
    for t in candidates:
        s = np.mean([r["dice"] for r in score_predictions(scored, t)])
        if s > best_score + 1e-9:
            best, best_score = float(t), float(s)
    return best


def write_rows_csv(path: str, rows: list[dict]) -> None:
    from core.files import write_text_atomic
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROW_FIELDS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()})
    write_text_atomic(path, buf.getvalue())
