"""Scoring predictions against ground truth: per-image rows, then summaries with 95 % intervals.

``predict_cases`` runs the model once per image; ``score_predictions`` turns probability maps into per-image rows
at a threshold; ``summarise`` aggregates rows overall, per class and per size band (lesion Dice/IoU, false alarms
on normal images, malignancy AUC); ``summarise_by`` does so per dataset or per device. The training card, the
Evaluate page and the command line all use these functions.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from core.data.layouts import CLASS_LABEL, CLASSES, LoadedCase
from core.inference.decision import Decision, calibrate, lesion_mask, lesion_score
from core.metrics.intervals import auc_interval, mean_interval, paired_difference, proportion_interval
from core.metrics.scores import false_alarm, roc_auc, segmentation_report

ROW_FIELDS = ["key", "dataset", "device", "class", "label", "width", "height", "dice", "iou", "sensitivity", "specificity", "pixel_accuracy",
              "hd95_px", "gt_area_px", "pred_area_px", "area_error", "false_alarm", "lesion_score", "malignancy_probability",
              "malignancy_calibrated",
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


def score_predictions(scored: list[Scored], threshold: float, decision: Decision | None = None) -> list[dict]:
    """One row of figures per image, computed on full-resolution masks: the masks the product shows, so with the
    decision's no-lesion gate, and its calibrated malignancy probability, when a decision is given."""
    rows = []
    for s in scored:
        pred = lesion_mask(s.probability, threshold, decision.gate if decision else None)
        gt = s.case.mask
        rep = segmentation_report(gt, pred)
        rows.append({
            "key": s.case.case.key,
            "dataset": s.case.case.dataset,
            "device": s.case.case.device,
            # "class" is the column name a reader looks for; "label" stays for older readers of these files
            "class": s.case.case.label,
            "label": s.case.case.label,
            "width": gt.shape[1],
            "height": gt.shape[0],
            **rep,
            "false_alarm": bool(false_alarm(pred)) if not gt.any() else None,
            "malignancy_probability": s.malignancy,
            "malignancy_calibrated": calibrate(s.malignancy, decision.platt if decision else None),
            "lesion_score": lesion_score(s.probability, threshold),
            "inference_ms": s.inference_ms,
        })
    return rows


def _mean(values) -> float | None:
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.mean(vals)) if vals else None


def _median(values) -> float | None:
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return float(np.median(vals)) if vals else None


# A lesion image scored below this Dice is "missed or mostly missed": the figure a clinician needs,
# since such misses (not rough edges) pull the mean Dice far below the median.
MISSED_DICE = 0.3


def _lesion_summary(rows: list[dict]) -> dict:
    missed = [r["dice"] < MISSED_DICE for r in rows if r["dice"] is not None]
    return {
        "n": len(rows),
        "n_missed": sum(missed),
        "missed_rate": (sum(missed) / len(missed)) if missed else None,
        # a lesion with nothing marked anywhere: the miss a clinician cannot see on the screen
        "n_unmarked": sum(1 for r in rows if r.get("pred_area_px") == 0),
        "dice_mean": _mean(r["dice"] for r in rows),
        "dice_median": _median(r["dice"] for r in rows),
        "iou_mean": _mean(r["iou"] for r in rows),
        "sensitivity_mean": _mean(r["sensitivity"] for r in rows),
        "specificity_mean": _mean(r["specificity"] for r in rows),
        "hd95_median_px": _median(r["hd95_px"] for r in rows),
        "area_error_mean": _mean(r["area_error"] for r in rows),
        "abs_area_error_mean": _mean(abs(r["area_error"]) for r in rows if r["area_error"] is not None),
    }


# Lesion size as its share of the image. Round cut-points, for reporting only: they were picked from the
# edges of a first five-band look at the default's test split (2, 5, 10, 20 %), and nothing is chosen with them.
SIZE_BANDS = (("under 2 %", 0.0, 0.02), ("2–10 %", 0.02, 0.10), ("10 % or more", 0.10, math.inf))


def lesion_share(row: dict) -> float | None:
    """The ground-truth lesion's area as a fraction of the image; None for a row without its size."""
    if not row.get("width") or not row.get("height"):
        return None
    return row["gt_area_px"] / (row["width"] * row["height"])


def size_summary(lesion_rows: list[dict]) -> list[dict]:
    """Mean Dice, misses and wholly unmarked lesions in each size band (SIZE_BANDS), empty bands left out.

    A single mean hides where a model fails; the bands let a clinician weigh the figures against the size of
    the lesion in front of them. Each band's mean carries its interval: the bands hold few lesions."""
    out = []
    for name, lo, hi in SIZE_BANDS:
        band = [r for r in lesion_rows if (share := lesion_share(r)) is not None and lo <= share < hi]
        if band:
            s = _lesion_summary(band)
            out.append({"band": name, "n": s["n"], "dice_mean": s["dice_mean"],
                        "dice_mean_ci": _as_list(mean_interval(r["dice"] for r in band)),
                        "n_missed": s["n_missed"], "n_unmarked": s["n_unmarked"]})
    return out


def _as_list(ci) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def summarise(rows: list[dict], excluded_from_auc: set[str] | None = None) -> dict:
    """Overall and per-class figures. Lesion metrics use images whose ground truth has a lesion."""
    excluded_from_auc = excluded_from_auc or set()
    lesion = [r for r in rows if r["gt_area_px"] > 0]
    normal = [r for r in rows if r["gt_area_px"] == 0]
    overall = _lesion_summary(lesion)
    alarms = [r["false_alarm"] for r in normal]
    labelled = [r for r in lesion if CLASS_LABEL.get(r["label"], -1) >= 0
                and r["malignancy_probability"] is not None and r["key"] not in excluded_from_auc]
    auc_labels = [CLASS_LABEL[r["label"]] for r in labelled]
    auc_scores = [r["malignancy_probability"] for r in labelled]
    auc = roc_auc(auc_labels, auc_scores) if labelled else float("nan")
    # lesion presence: how well the image-level score the gate uses tells lesion images from normal scans. Only
    # datasets with normal scans of their own take part: ranking one centre's lesions against another centre's
    # normals would measure how the centres' images differ, not whether a lesion is there
    with_normals = {r.get("dataset") for r in normal}
    ranked = [r for r in rows if r.get("lesion_score") is not None and r.get("dataset") in with_normals]
    presence_labels = [1 if r["gt_area_px"] > 0 else 0 for r in ranked]
    presence_scores = [r["lesion_score"] for r in ranked]
    presence = roc_auc(presence_labels, presence_scores) if presence_scores else float("nan")
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
        # 95 % intervals: how far each figure could move on another sample of the same size
        "dice_mean_ci": _as_list(mean_interval(r["dice"] for r in lesion)),
        "false_alarm_rate_ci": _as_list(proportion_interval(sum(alarms), len(alarms))),
        "malignancy_auc_ci": None if math.isnan(auc) else _as_list(auc_interval(auc_labels, auc_scores)),
        "n_auc": len(labelled),
        "presence_auc": None if math.isnan(presence) else presence,
        "presence_auc_ci": None if math.isnan(presence) else _as_list(auc_interval(presence_labels, presence_scores)),
        "inference_ms_median": _median(r["inference_ms"] for r in rows),
        "per_class": per_class,
        "by_size": size_summary(lesion),
    }


def summarise_by(rows: list[dict], column: str, excluded_from_auc: set[str] | None = None) -> dict[str, dict]:
    """summarise() for each value of a row column ("dataset", "device"), in sorted order."""
    values = sorted({r.get(column) or "unknown" for r in rows})
    return {v: summarise([r for r in rows if (r.get(column) or "unknown") == v], excluded_from_auc) for v in values}


def choose_threshold(scored: list[Scored], candidates=None) -> float:
    """The threshold that maximises mean Dice over all images (normals score 1 when left empty)."""
    candidates = candidates if candidates is not None else [round(t, 2) for t in np.arange(0.2, 0.81, 0.05)]
    best, best_score = 0.5, -1.0
    for t in candidates:
        s = np.mean([r["dice"] for r in score_predictions(scored, t)])
        if s > best_score + 1e-9:
            best, best_score = float(t), float(s)
    return best


def rows_csv_text(rows: list[dict]) -> str:
    """Per-image rows as CSV text (NaN and None become empty cells)."""
    import io

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ROW_FIELDS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in r.items()})
    return buf.getvalue()


def write_rows_csv(path: str, rows: list[dict]) -> None:
    from core.files import write_text_atomic

    write_text_atomic(path, rows_csv_text(rows))


def dice_difference(before_rows: list[dict], after_rows: list[dict]) -> dict | None:
    """Paired comparison of lesion Dice between two models' rows: mean of after − before over the images both
    scored, with a 95 % bootstrap interval (core.intervals.paired_difference); None with fewer than two shared."""
    before = {r["key"]: r["dice"] for r in before_rows if r["gt_area_px"] > 0}
    after = {r["key"]: r["dice"] for r in after_rows if r["gt_area_px"] > 0}
    keys = sorted(set(before) & set(after))
    return paired_difference([before[k] for k in keys], [after[k] for k in keys]) if len(keys) >= 2 else None

