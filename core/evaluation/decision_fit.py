"""Fitting the model card's decision rule on validation images: the no-lesion gate and the malignancy calibration.

Both are chosen on the validation split only, by rules fixed here before any figure is seen, and then stored on
the card (core.inference.decision applies them everywhere):

- ``choose_gate``: the gate that maximises the mean of two figures a clinician weighs equally, mean lesion Dice
  and the share of normal scans left clean (1 - false-alarm rate); the smallest such gate wins a tie. Without
  normal scans in validation there is nothing to choose it on, and no gate is set.
- ``fit_calibration``: Platt scaling of the malignancy head on the validation lesions that have a class.
"""
from __future__ import annotations

import numpy as np

from core.data.layouts import CLASS_LABEL
from core.evaluation.scoring import Scored
from core.inference.decision import Decision, calibrate, calibration_summary, fit_platt, lesion_mask
from core.metrics.scores import dice, false_alarm


def gate_objective(scored: list[Scored], threshold: float, gate: float | None) -> tuple[float, float, float]:
    """(objective, mean lesion Dice, false-alarm rate) of this gate on these images."""
    lesion, alarms = [], []
    for s in scored:
        mask = lesion_mask(s.probability, threshold, gate)
        if s.case.mask.any():
            lesion.append(dice(s.case.mask, mask))
        else:
            alarms.append(bool(false_alarm(mask)))
    d = float(np.mean(lesion)) if lesion else 0.0
    fa = float(np.mean(alarms)) if alarms else 0.0
    return 0.5 * d + 0.5 * (1 - fa), d, fa


def gate_candidates(threshold: float) -> list[float]:
    """The gates a fit chooses from: the threshold up to 0.95, in steps of 0.025."""
    return [round(g, 3) for g in np.arange(threshold, 0.951, 0.025)]


def choose_gate(scored: list[Scored], threshold: float, candidates=None) -> dict | None:
    """The no-lesion gate chosen on these (validation) images, with the figures behind the choice; None when the
    images hold no normal scan or no gate beats having none."""
    if not any(not s.case.mask.any() for s in scored):
        return None
    candidates = candidates if candidates is not None else gate_candidates(threshold)
    # the lesion score of an image is fixed; only the comparison with the gate changes
    none_obj, none_dice, none_fa = gate_objective(scored, threshold, None)
    best = (none_obj, None, none_dice, none_fa)
    for g in candidates:
        obj, d, fa = gate_objective(scored, threshold, g)
        if obj > best[0] + 1e-9:
            best = (obj, g, d, fa)
    if best[1] is None:
        return None
    return {"score": "mean probability of the largest marked region", "min_score": best[1],
            "validation": {"dice_without": none_dice, "false_alarms_without": none_fa,
                           "dice_with": best[2], "false_alarms_with": best[3]},
            "how_chosen": ("Chosen on the validation split as the gate that maximises the mean of lesion Dice and the "
                           "share of normal scans left clean; there it moved mean lesion Dice from "
                           f"{none_dice:.3f} to {best[2]:.3f} and false alarms from {none_fa:.0%} to {best[3]:.0%}.")}


def _labelled(scored: list[Scored], excluded: set[str]) -> tuple[list[float], list[int], list[Scored]]:
    keep = [s for s in scored if s.case.mask.any() and s.malignancy is not None
            and CLASS_LABEL.get(s.case.case.label, -1) >= 0 and s.case.case.key not in excluded]
    return [s.malignancy for s in keep], [CLASS_LABEL[s.case.case.label] for s in keep], keep


def fit_calibration(scored: list[Scored], excluded: set[str] | None = None, fitted_on: str = "") -> dict | None:
    """Platt scaling of the malignancy head on these (validation) lesions; None without both classes."""
    scores, labels, _ = _labelled(scored, excluded or set())
    if len(set(labels)) < 2:
        return None
    a, b = fit_platt(scores, labels)
    return {"method": "platt", "a": a, "b": b, "n": len(labels),
            "fitted_on": fitted_on or f"{len(labels)} validation lesions"}


def calibration_by_dataset(scored: list[Scored], platt: tuple[float, float] | None,
                           excluded: set[str] | None = None) -> dict:
    """For each dataset: calibration_summary of the raw head and of the calibrated probability."""
    _, _, keep = _labelled(scored, excluded or set())
    out = {}
    for name in sorted({s.case.case.dataset for s in keep}):
        part = [s for s in keep if s.case.case.dataset == name]
        labels = [CLASS_LABEL[s.case.case.label] for s in part]
        out[name] = {"raw": calibration_summary([s.malignancy for s in part], labels),
                     "calibrated": calibration_summary([calibrate(s.malignancy, platt) for s in part], labels)}
    return out


def fit_decision(val: list[Scored], threshold: float, excluded: set[str] | None = None) -> tuple[Decision, dict, dict]:
    """The whole rule from validation: (Decision, gate entry or {}, calibration entry or {}) for the card."""
    gate = choose_gate(val, threshold) or {}
    cal = fit_calibration(val, excluded) or {}
    platt = (cal["a"], cal["b"]) if cal else None
    return Decision(threshold, gate.get("min_score"), platt), gate, cal

