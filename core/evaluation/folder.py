"""Evaluating a model on a labelled folder (any understood layout), or on one side of its split manifest."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from core.data.layouts import CLASS_LABEL
from core.evaluation.scoring import Scored, predict_cases, score_predictions, summarise, summarise_by
from core.inference.decision import lesion_mask


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
    from core.data.split import read_manifest

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
    by_dataset: dict = field(default_factory=dict)  # summarise() per dataset
    by_device: dict = field(default_factory=dict)  # summarise() per scanner, where the layout names it
    gate: float | None = None  # the model's no-lesion gate, applied to every mask scored here

    def scored_mask(self, i: int) -> np.ndarray:
        """Image i's predicted mask exactly as its row was scored: at this threshold, with the no-lesion gate."""
        return lesion_mask(self.scored[i].probability, self.threshold, self.gate)


def evaluate_folder(predictor, data: str | list[str], threshold: float | None = None, split: str | None = None,
                    progress=None, manifest: str | None = None) -> Evaluation:
    """Score a model on one or more labelled folders (any understood layout), or only on one side of a split
    manifest (the model's own unless ``manifest`` names another, e.g. to compare two models on the same images)."""
    from core.data.dataset_audit import group_cases
    from core.data.layouts import load_cases, scan_datasets
    from core.data.split import read_manifest

    dataset = scan_datasets([data] if isinstance(data, str) else list(data))
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
    scored = predict_cases(predictor, loaded, progress)
    rows = score_predictions(scored, threshold, predictor.decision)
    conflicted = group_cases(loaded).conflicted_keys if len(loaded) > 1 else set()
    return Evaluation(predictor.path, threshold, rows, summarise(rows, conflicted), scored, problems,
                      seen_in_training(predictor.path, [r["key"] for r in rows]),
                      summarise_by(rows, "dataset", conflicted), summarise_by(rows, "device", conflicted),
                      predictor.decision.gate if predictor.decision else None)


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
    """Mean predicted malignancy vs observed malignant fraction, in equal-width bins: the calibrated probability
    where the model has a calibration (what the Segment page words in bands), else the head's raw output."""
    from sklearn.calibration import calibration_curve

    def shown(r):
        return r["malignancy_calibrated"] if r.get("malignancy_calibrated") is not None else r["malignancy_probability"]

    lab = [(CLASS_LABEL[r["label"]], shown(r)) for r in rows
           if CLASS_LABEL.get(r["label"], -1) >= 0 and shown(r) is not None]
    if len({y for y, _ in lab}) < 2:
        return [], []
    frac, mean = calibration_curve([y for y, _ in lab], [p for _, p in lab], n_bins=bins)
    return mean.tolist(), frac.tolist()

