"""From the network's outputs to what the clinician is shown: the no-lesion gate and the calibrated malignancy band.

Both are fitted on validation images after training and stored on the model card, so the app, ``core.predict``
and ``core.evaluate`` apply exactly the same rule:

- **No-lesion gate.** A lesion mask is shown only when the image's lesion score (``lesion_score``: the mean
  probability inside the largest region the threshold marks) reaches the card's gate. On a normal scan the
  network often marks a faint, low-confidence region; the gate removes it without touching confident masks.
- **Malignancy calibration.** The head's probability is recalibrated by Platt scaling on the logit,
  ``p' = sigmoid(a * logit(p) + b)``, fitted on validation lesions. Even calibrated, it is worded in bands
  (``malignancy_band``), never shown as a bare percentage: the head separates benign from malignant far less
  well on other hospitals' images than on its own.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.cards.schema import ModelCard, read_card

# Band edges for the calibrated malignancy probability. BI-RADS 4 starts at a 2 % likelihood of malignancy and
# 4C/5 at 50 %; a coarse three-band wording keeps the estimate from sounding more precise than it is.
BANDS = (("low", 0.0, 0.10), ("intermediate", 0.10, 0.50), ("high", 0.50, 1.01))


@dataclass(frozen=True)
class Decision:
    """The card's decision rule. gate: minimum lesion_score for a mask to be shown (None: no gate).
    platt: (a, b) for the malignancy recalibration (None: the head's raw output, uncalibrated)."""

    threshold: float = 0.5
    gate: float | None = None
    platt: tuple[float, float] | None = None

    @classmethod
    def from_card(cls, card: ModelCard | dict | None, default_threshold: float = 0.5) -> Decision:
        """The rule a card states; default_threshold where it states no threshold."""
        card = read_card(card) or ModelCard()
        gate = card.lesion_gate.min_score if card.lesion_gate else None
        cal = card.malignancy_calibration
        platt = (float(cal.a), float(cal.b)) if cal and cal.method == "platt" else None
        threshold = default_threshold if card.threshold is None else card.threshold
        return cls(float(threshold), None if gate is None else float(gate), platt)


def lesion_score(probability: np.ndarray, threshold: float) -> float:
    """Mean probability inside the largest connected region at or above the threshold; 0 when nothing is marked.

    probability: (H, W) float in [0, 1]. The largest region is the one a clinician's eye goes to; its mean
    (not its peak) is what separates a faint false alarm from a lesion the network is sure of."""
    mask = lesion_mask(probability, threshold).astype(np.uint8)
    if not mask.any():
        return 0.0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return float(probability[labels == largest].mean())


def lesion_mask(probability: np.ndarray, threshold: float, gate: float | None = None) -> np.ndarray:
    """The one mask rule: (H, W) bool, the pixels whose probability reaches the threshold, emptied when a gate is
    given and the image's lesion_score is under it. The app, core.predict, core.evaluate and training all call this."""
    mask = probability >= threshold
    if gate is not None and mask.any() and lesion_score(probability, threshold) < gate:
        return np.zeros_like(mask)
    return mask


def calibrate(p: float | None, platt: tuple[float, float] | None) -> float | None:
    """Platt-scaled probability sigmoid(a * logit(p) + b); p itself when there is no calibration."""
    if p is None or platt is None:
        return p
    q = min(max(float(p), 1e-6), 1 - 1e-6)
    z = platt[0] * math.log(q / (1 - q)) + platt[1]
    return 1.0 / (1.0 + math.exp(-z))


def malignancy_band(p: float) -> str:
    """'low', 'intermediate' or 'high' for a calibrated probability."""
    return next(name for name, lo, hi in BANDS if lo <= p < hi)


def fit_platt(scores: list[float], labels: list[int]) -> tuple[float, float]:
    """(a, b) minimising the log loss of sigmoid(a * logit(score) + b) against 0/1 labels (Newton's method).

    Plain numpy rather than a library call so the fit is exact and testable by hand; it needs both classes."""
    s = np.clip(np.asarray(scores, np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(labels, np.float64)
    if len(set(y.tolist())) < 2:
        raise ValueError("calibration needs benign and malignant lesions")
    x = np.log(s / (1 - s))
    X = np.stack([x, np.ones_like(x)], axis=1)
    w = np.array([1.0, 0.0])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ w)))
        grad = X.T @ (p - y)
        # a tiny ridge keeps the Hessian invertible when the scores separate the classes perfectly
        hess = X.T @ (X * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def calibration_summary(probabilities: list[float], labels: list[int], bins: int = 5) -> dict:
    """How well probabilities match outcomes: Brier score, expected calibration error (equal-width bins), the mean
    predicted against the observed malignant share, and n."""
    p = np.asarray(probabilities, np.float64)
    y = np.asarray(labels, np.float64)
    if not len(p):
        return {"n": 0}
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece = sum(abs(p[idx == b].mean() - y[idx == b].mean()) * (idx == b).sum() for b in range(bins) if (idx == b).any())
    return {"n": int(len(p)), "brier": float(np.mean((p - y) ** 2)), "ece": float(ece / len(p)),
            "mean_predicted": float(p.mean()), "observed": float(y.mean())}
