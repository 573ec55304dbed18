"""Scoring a model on labelled images, at each image's original resolution.

Library: ``predict_cases`` runs the model once per image; ``score_predictions``
turns probability maps into per-image rows at a threshold; ``summarise``
aggregates rows overall and per class (lesion Dice/IoU, false alarms on
normal images, malignancy AUC), with 95 % intervals (core.intervals) for the
three headline figures. The same functions serve the training
command's model card, the Evaluate page and the command line:

    python -m core.evaluate --data DIR [--weights PATH] [--threshold T] [--out DIR] [--split test] [--mirror]
"""
from __future__ import annotations

import argparse
import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from core.data import CLASS_LABEL, CLASSES, LoadedCase
from core.inference import mask_at
from core.intervals import (auc_interval, format_bounds, format_interval, mean_interval, paired_difference,
                            proportion_interval)
from core.metrics import false_alarm, roc_auc, segmentation_report
from core.modelcard import format_size_summary

ROW_FIELDS = ["key", "dataset", "device", "class", "label", "width", "height", "dice", "iou", "sensitivity", "specificity", "pixel_accuracy",
              "hd95_px", "gt_area_px", "pred_area_px", "area_error", "false_alarm", "malignancy_probability",
              "inference_ms"]


@dataclass
class Scored:
    case: LoadedCase
    probability: np.ndarray
    malignancy: float | None
    inference_ms: float


def predict_cases(predictor, loaded: list[LoadedCase], progress=None, mirror: bool = False) -> list[Scored]:
    """Run the model on each case once (with its mirror image too when mirror=True; see
    Predictor.predict); progress(i, n) is called after each image."""
    out = []
    for i, lc in enumerate(loaded):
        p = predictor.predict(lc.gray, mirror=mirror)
        out.append(Scored(lc, p.probability, p.malignancy, p.inference_ms))
        if progress:
            progress(i + 1, len(loaded))
    return out


def score_predictions(scored: list[Scored], threshold: float) -> list[dict]:
    """One row of figures per image, computed on full-resolution masks."""
    rows = []
    for s in scored:
        pred = mask_at(s.probability, threshold)
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


def class_table(per_class: dict) -> list[dict]:
    """summarise's per-class figures as rows for a person to read; None where a figure does not apply."""
    r3 = lambda v: None if v is None else round(v, 3)  # noqa: E731
    return [{"class": c, "images": v["n_images"], "mean Dice": r3(v.get("dice_mean")), "mean IoU": r3(v.get("iou_mean")),
             "HD95 median (px)": None if v.get("hd95_median_px") is None else round(v["hd95_median_px"], 1),
             "mean sensitivity": r3(v.get("sensitivity_mean")), "false-alarm rate": r3(v.get("false_alarm_rate"))}
            for c, v in per_class.items()]


def size_table(by_size: list[dict]) -> list[dict]:
    """size_summary's bands as rows for a person to read: rounded figures and the interval as text."""
    return [{"lesion size (share of the image)": b["band"], "lesions": b["n"], "mean Dice": round(b["dice_mean"], 3),
             "95 % interval": format_bounds(b.get("dice_mean_ci")) or "—",
             f"missed (Dice < {MISSED_DICE})": b["n_missed"], "nothing marked": b["n_unmarked"]} for b in by_size]


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


def manifest_for(model_path: str) -> str | None:
    """The split manifest that belongs to a model: name.split.json beside it, or a run's split.json."""
    stem = os.path.splitext(model_path)[0]
    for p in (f"{stem}.split.json", os.path.join(os.path.dirname(model_path), "split.json")):
        if os.path.isfile(p):
            return p
    return None


def seen_in_training(model_path: str, keys) -> int | None:
    """How many of these case keys the model trained on or chose its checkpoint and threshold on
    (its manifest's train and val sides); None when it has no manifest to tell."""
    from core.split import read_manifest

    manifest = manifest_for(model_path)
    if manifest is None:
        return None
    split = read_manifest(manifest)
    seen = set(split.get("train", [])) | set(split.get("val", []))
    return sum(k in seen for k in keys)


@dataclass
class Evaluation:
    model: str
    threshold: float
    rows: list[dict]
    summary: dict
    scored: list[Scored]
    problems: list[str]
    seen: int | None = None  # images here that the model trained or was tuned on: its figures on them are optimistic
    mirror: bool = False  # each image's answer was averaged with its mirror image's


def evaluate_folder(predictor, data: str, threshold: float | None = None, split: str | None = None,
                    progress=None, manifest: str | None = None, mirror: bool = False) -> Evaluation:
    """Score a model on a BUSI-shaped folder, or only on one side of a split manifest
    (the model's own unless ``manifest`` names another, e.g. to compare two models on the same images)."""
    from core.audit import group_cases
    from core.data import load_cases, scan_busi
    from core.split import read_manifest

    dataset = scan_busi(data)
    cases = dataset.cases
    problems = list(dataset.problems)
    if split:
        manifest = manifest or manifest_for(predictor.path)
        if manifest is None:
            raise FileNotFoundError(f"{os.path.basename(predictor.path)} has no split manifest beside it; "
                                    "evaluate the whole folder instead")
        wanted = set(read_manifest(manifest)[split])
        cases = [c for c in cases if c.key in wanted]
        if not cases:
            raise ValueError(f"none of the model's {split} images are in {dataset.root}")
    loaded = load_cases(cases, problems)
    threshold = predictor.threshold if threshold is None else threshold
    scored = predict_cases(predictor, loaded, progress, mirror)
    rows = score_predictions(scored, threshold)
    conflicted = group_cases(loaded).conflicted_keys if len(loaded) > 1 else set()
    return Evaluation(predictor.path, threshold, rows, summarise(rows, conflicted), scored, problems,
                      seen_in_training(predictor.path, [r["key"] for r in rows]), mirror)


def seen_warning(ev: Evaluation) -> str:
    """Plain words when some scored images are not held out for this model; '' when all are (or unknown)."""
    if not ev.seen:
        return ""
    return (f"{ev.seen} of these {len(ev.rows)} images were in {os.path.basename(ev.model)}'s training or validation "
            "split, so these figures are optimistic. For held-out figures, score only its test split.")


def roc_points(rows: list[dict]) -> tuple[list[float], list[float]]:
    """False- and true-positive rates of the malignancy score over benign/malignant lesions."""
    from sklearn.metrics import roc_curve

    lab = [(CLASS_LABEL[r["label"]], r["malignancy_probability"]) for r in rows
           if CLASS_LABEL.get(r["label"], -1) >= 0 and r["malignancy_probability"] is not None]
    if len({y for y, _ in lab}) < 2:
        return [], []
    fpr, tpr, _ = roc_curve([y for y, _ in lab], [p for _, p in lab])
    return fpr.tolist(), tpr.tolist()


def calibration_points(rows: list[dict], bins: int = 5) -> tuple[list[float], list[float]]:
    """Mean predicted malignancy vs observed malignant fraction, in equal-width bins."""
    from sklearn.calibration import calibration_curve

    lab = [(CLASS_LABEL[r["label"]], r["malignancy_probability"]) for r in rows
           if CLASS_LABEL.get(r["label"], -1) >= 0 and r["malignancy_probability"] is not None]
    if len({y for y, _ in lab}) < 2:
        return [], []
    frac, mean = calibration_curve([y for y, _ in lab], [p for _, p in lab], n_bins=bins)
    return mean.tolist(), frac.tolist()


def dice_difference(before_rows: list[dict], after_rows: list[dict]) -> dict | None:
    """Paired comparison of lesion Dice between two models' rows: mean of after − before over the images both
    scored, with a 95 % bootstrap interval (core.intervals.paired_difference); None with fewer than two shared."""
    before = {r["key"]: r["dice"] for r in before_rows if r["gt_area_px"] > 0}
    after = {r["key"]: r["dice"] for r in after_rows if r["gt_area_px"] > 0}
    keys = sorted(set(before) & set(after))
    return paired_difference([before[k] for k in keys], [after[k] for k in keys]) if len(keys) >= 2 else None


def interval_caption(summary: dict) -> str:
    """One line of the headline figures' 95 % intervals, for the pages; '' when there are none."""
    parts = [f"{name} {format_bounds(summary[key], percent=percent)}"
             for key, name, percent in (("dice_mean_ci", "mean Dice", False), ("false_alarm_rate_ci", "false alarms", True),
                                        ("malignancy_auc_ci", "AUC", False)) if summary.get(key)]
    return ("95 % intervals: " + " · ".join(parts) + " (how far each could move on another sample this size)") if parts else ""


def format_summary(ev: Evaluation) -> str:
    s = ev.summary
    f = lambda v, d=3: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
    ci = lambda c: f" ({format_interval(c)})" if c else ""  # noqa: E731
    lines = [f"model: {ev.model}  threshold: {ev.threshold}" + ("  (each image averaged with its mirror image)"
                                                                 if ev.mirror else ""),
             f"images: {s['n_images']} ({s['n_lesion']} with a lesion, {s['n_normal']} normal)",
             f"lesion images: mean Dice {f(s['dice_mean'])}{ci(s.get('dice_mean_ci'))}, median Dice {f(s['dice_median'])}, "
             f"mean IoU {f(s['iou_mean'])}, HD95 median {f(s['hd95_median_px'], 1)} px",
             *([f"  missed or mostly missed (Dice < {MISSED_DICE}): {s['n_missed']} of {s['n_lesion']}, "
                f"{s['n_unmarked']} of them with nothing marked"] if s['n_lesion'] else []),
             *([f"  by lesion size (share of the image): {format_size_summary(s['by_size'])}"] if s.get('by_size') else []),
             f"normal images: false-alarm rate {f(s['false_alarm_rate'])}{ci(s.get('false_alarm_rate_ci'))}",
             f"malignancy AUC: {f(s['malignancy_auc'])}{ci(s.get('malignancy_auc_ci'))} (n={s['n_auc']})"]
    for c, v in s["per_class"].items():
        lines.append(f"  {c:9s} n={v['n_images']:3d}  Dice {f(v['dice_mean'])}  IoU {f(v['iou_mean'])}"
                     + (f"  false alarms {f(v['false_alarm_rate'])}" if v.get("false_alarm_rate") is not None else ""))
    warning = seen_warning(ev)
    if warning:
        lines.append("note: " + warning)
    if ev.problems:
        lines.append(f"skipped {len(ev.problems)} files: " + "; ".join(ev.problems[:5]))
    return "\n".join(lines)


def main(argv=None) -> int:
    import sys

    from core.inference import ModelLoadError, Predictor
    from core.registry import active_model_path

    ap = argparse.ArgumentParser(description="Evaluate a segmentation model on a labelled BUSI-shaped folder.")
    ap.add_argument("--data", required=True, help="BUSI-shaped folder")
    ap.add_argument("--weights", help="model file; default: the active model")
    ap.add_argument("--threshold", type=float, help="default: the model card's")
    ap.add_argument("--split", choices=["train", "val", "test"], help="only this side of the model's split manifest")
    ap.add_argument("--out", help="folder for per_image.csv and summary.json")
    ap.add_argument("--mirror", action="store_true",
                    help="also run each image's left-right mirror and average the two answers (about 1.8x the forward time)")
    a = ap.parse_args(argv)
    try:
        predictor = Predictor.load(a.weights or active_model_path())
        from tqdm import tqdm

        bar = tqdm(unit="img", file=sys.stderr)
        ev = evaluate_folder(predictor, a.data, a.threshold, a.split,
                             progress=lambda i, n: (setattr(bar, "total", n), bar.update(1)), mirror=a.mirror)
        bar.close()
    except (ModelLoadError, FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_summary(ev))
    # a train+val refit trained on its validation images too (core.train --fit-on train+val)
    if a.split == "train" or (a.split == "val" and predictor.card.get("val_metrics_on_trained_images")):
        print(f"note: the model trained on its {a.split} images, so these are not held-out figures", file=sys.stderr)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        write_rows_csv(os.path.join(a.out, "per_image.csv"), ev.rows)
        from core.files import write_json_atomic

        write_json_atomic(os.path.join(a.out, "summary.json"), {"model": ev.model, "threshold": ev.threshold,
                                                                "mirror": ev.mirror, "data": os.path.abspath(a.data),
                                                                **ev.summary})
        print(f"per-image figures in {os.path.join(a.out, 'per_image.csv')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
