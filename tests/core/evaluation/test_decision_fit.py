"""core.evaluation.decision_fit: the gate and the calibration chosen on validation, on hand-made cases."""
import numpy as np
import pytest

from core.data.layouts import Case, LoadedCase
from core.evaluation.decision_fit import calibration_by_dataset, choose_gate, fit_calibration, gate_objective
from core.evaluation.scoring import Scored


def scored(key, label, lesion: bool, region_prob: float, malignancy=None, dataset="busi"):
    """A 20x20 image; the ground truth is a 6x6 square when lesion; the network marks that square at region_prob."""
    gt = np.zeros((20, 20), bool)
    gt[5:11, 5:11] = lesion
    prob = np.zeros((20, 20), np.float32)
    prob[5:11, 5:11] = region_prob
    case = LoadedCase(Case(key, label, "", [], dataset), np.zeros((20, 20), np.uint8), gt, False)
    return Scored(case, prob, malignancy, 1.0)


def test_gate_objective_by_hand():
    val = [scored("benign/a", "benign", True, 0.9), scored("normal/n", "normal", False, 0.6)]
    # no gate: the lesion scores Dice 1, the normal scan is a false alarm (36 of 400 px marked): (1 + 0) / 2
    assert gate_objective(val, 0.5, None) == (0.5, 1.0, 1.0)
    # gate 0.7 empties the faint normal mask and keeps the confident lesion: (1 + 1) / 2
    assert gate_objective(val, 0.5, 0.7) == (1.0, 1.0, 0.0)
    # gate 0.95 also empties the lesion: (0 + 1) / 2
    assert gate_objective(val, 0.5, 0.95) == (0.5, 0.0, 0.0)


def test_choose_gate_picks_the_smallest_gate_that_cleans_the_normals():
    val = [scored("benign/a", "benign", True, 0.9), scored("normal/n", "normal", False, 0.6)]
    gate = choose_gate(val, 0.5)
    # 0.5, 0.525, ..., 0.6 leave the 0.6 region; 0.625 is the first gate above it
    assert gate["min_score"] == pytest.approx(0.625)
    assert gate["validation"] == {"dice_without": 1.0, "false_alarms_without": 1.0, "dice_with": 1.0,
                                  "false_alarms_with": 0.0}
    # without normal scans there is nothing to choose a gate on
    assert choose_gate(val[:1], 0.5) is None
    # a gate that cannot help is not set
    assert choose_gate([scored("benign/a", "benign", True, 0.9), scored("normal/n", "normal", False, 0.0)], 0.5) is None


def test_fit_calibration_needs_both_classes_and_reports_per_dataset():
    rng = np.random.default_rng(1)
    val = [scored(f"benign/{i}", "benign", True, 0.9, float(rng.uniform(0.05, 0.6))) for i in range(30)]
    val += [scored(f"malignant/{i}", "malignant", True, 0.9, float(rng.uniform(0.4, 0.95))) for i in range(30)]
    cal = fit_calibration(val)
    assert cal["method"] == "platt" and cal["n"] == 60 and cal["a"] > 0
    assert fit_calibration(val[:30]) is None
    per = calibration_by_dataset(val, (cal["a"], cal["b"]))
    assert set(per) == {"busi"} and per["busi"]["calibrated"]["n"] == 60
    # a logistic fit with an intercept matches the mean on the images it was fitted on: sum(p') = sum(y)
    assert per["busi"]["calibrated"]["mean_predicted"] == pytest.approx(per["busi"]["calibrated"]["observed"], abs=1e-6)
