"""Segmentation and classification metrics in plain numpy.

Every figure the product reports (training cards, the Evaluate page, the
Segment page's ground-truth comparison) comes from these functions, applied
to boolean masks at the image's original resolution. Conventions for empty
masks: when both ground truth and prediction are empty, Dice and IoU are 1
(perfect agreement); when exactly one is empty they are 0.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def confusion(gt: np.ndarray, pred: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) pixel counts of two same-shaped boolean masks."""
    gt = np.asarray(gt, bool)
    pred = np.asarray(pred, bool)
    if gt.shape != pred.shape:
        raise ValueError(f"mask shapes differ: ground truth {gt.shape}, prediction {pred.shape}")
    tp = int(np.count_nonzero(gt & pred))
    fp = int(np.count_nonzero(~gt & pred))
    fn = int(np.count_nonzero(gt & ~pred))
    tn = int(gt.size - tp - fp - fn)
    return tp, fp, fn, tn


def _dice(tp: int, fp: int, fn: int) -> float:
    denom = 2 * tp + fp + fn
    return 1.0 if denom == 0 else 2.0 * tp / denom


def _iou(tp: int, fp: int, fn: int) -> float:
    denom = tp + fp + fn
    return 1.0 if denom == 0 else tp / denom


def _rate(hit: int, miss: int) -> float:
    return float("nan") if hit + miss == 0 else hit / (hit + miss)


def dice(gt: np.ndarray, pred: np.ndarray) -> float:
    tp, fp, fn, _ = confusion(gt, pred)
    return _dice(tp, fp, fn)


def iou(gt: np.ndarray, pred: np.ndarray) -> float:
    tp, fp, fn, _ = confusion(gt, pred)
    return _iou(tp, fp, fn)


def sensitivity(gt: np.ndarray, pred: np.ndarray) -> float:
    """Recall of lesion pixels; NaN when the ground truth has no lesion."""
    tp, _, fn, _ = confusion(gt, pred)
    return _rate(tp, fn)


def specificity(gt: np.ndarray, pred: np.ndarray) -> float:
    """Recall of background pixels; NaN when the image is all lesion."""
    _, fp, _, tn = confusion(gt, pred)
    return _rate(tn, fp)


def _surface(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels of a mask: the mask minus its 8-connected erosion."""
    eroded = ndimage.binary_erosion(mask, structure=np.ones((3, 3), bool), border_value=0)
    return mask & ~eroded


def hausdorff95(gt: np.ndarray, pred: np.ndarray) -> float:
    """95th-percentile symmetric Hausdorff distance between the boundaries, in pixels.

    0 when both masks are empty; NaN when exactly one is empty (the distance
    is undefined, and averaging an arbitrary penalty would hide that).
    """
    gt = np.asarray(gt, bool)
    pred = np.asarray(pred, bool)
    if gt.shape != pred.shape:
        raise ValueError(f"mask shapes differ: ground truth {gt.shape}, prediction {pred.shape}")
    if not gt.any() and not pred.any():
        return 0.0
    if not gt.any() or not pred.any():
        return float("nan")
    sg, sp = _surface(gt), _surface(pred)
    # distance from every pixel to the nearest boundary pixel of the other mask
    dist_to_gt = ndimage.distance_transform_edt(~sg)
    dist_to_pred = ndimage.distance_transform_edt(~sp)
    d = np.concatenate([dist_to_gt[sp], dist_to_pred[sg]])
    return float(np.percentile(d, 95))


def area_error(gt: np.ndarray, pred: np.ndarray) -> float:
    """Signed relative area error, (pred - gt) / gt; NaN when gt is empty."""
    tp, fp, fn, _ = confusion(gt, pred)
    return float("nan") if tp + fn == 0 else fp / (tp + fn) - fn / (tp + fn)


def segmentation_report(gt: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """All per-image segmentation figures at once."""
    tp, fp, fn, tn = confusion(gt, pred)
    return {
        "dice": _dice(tp, fp, fn),
        "iou": _iou(tp, fp, fn),
        "sensitivity": _rate(tp, fn),
        "specificity": _rate(tn, fp),
        "pixel_accuracy": (tp + tn) / max(1, tp + fp + fn + tn),
        "hd95_px": hausdorff95(gt, pred),
        "gt_area_px": tp + fn,
        "pred_area_px": tp + fp,
        "area_error": float("nan") if tp + fn == 0 else fp / (tp + fn) - fn / (tp + fn),
    }


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve; NaN unless both classes are present."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return float("nan")
    return float(roc_auc_score(labels, scores))


def false_alarm(pred: np.ndarray, min_fraction: float = 0.005) -> bool:
    """A prediction on a lesion-free image is a false alarm when it covers >= min_fraction of it."""
    pred = np.asarray(pred, bool)
    return bool(np.count_nonzero(pred) >= min_fraction * pred.size)
