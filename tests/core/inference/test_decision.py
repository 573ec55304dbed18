"""core.inference.decision: the no-lesion gate and the malignancy calibration, by hand."""
import math

import numpy as np
import pytest

from core.inference.decision import (
    Decision,
    calibrate,
    calibration_summary,
    fit_platt,
    lesion_mask,
    lesion_score,
    malignancy_band,
)


def test_lesion_score_is_the_mean_probability_of_the_largest_region():
    p = np.zeros((10, 10), np.float32)
    p[0:2, 0:2] = 0.9          # 4 px, mean 0.9
    p[5:8, 5:8] = 0.6          # 9 px, mean 0.6: the largest region
    p[6, 6] = 0.9              # one brighter pixel inside it: mean (8 * 0.6 + 0.9) / 9
    assert lesion_score(p, 0.5) == pytest.approx((8 * 0.6 + 0.9) / 9)
    assert lesion_score(np.zeros((4, 4)), 0.5) == 0.0


def test_lesion_mask_empties_only_under_the_gate():
    p = np.zeros((6, 6), np.float32)
    p[1:3, 1:3] = 0.55
    assert lesion_mask(p, 0.5, 0.6).sum() == 0
    assert lesion_mask(p, 0.5, 0.5).sum() == 4
    assert lesion_mask(p, 0.5, None).sum() == 4


def test_platt_calibration_by_hand():
    assert calibrate(0.8, None) == 0.8 and calibrate(None, (1.0, 0.0)) is None
    # a = 2, b = 0 doubles the logit: logit(0.8) = ln 4, so p' = 16 / 17
    assert calibrate(0.8, (2.0, 0.0)) == pytest.approx(16 / 17)
    assert malignancy_band(0.05) == "low" and malignancy_band(0.1) == "intermediate" and malignancy_band(0.99) == "high"


def test_fit_platt_recovers_a_known_logistic_relation():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    scores = 1 / (1 + np.exp(-z))                # the raw output's logit is z
    true = 1 / (1 + np.exp(-(0.5 * z - 1.0)))    # outcomes follow a = 0.5, b = -1
    labels = (rng.random(z.size) < true).astype(int)
    a, b = fit_platt(scores.tolist(), labels.tolist())
    assert a == pytest.approx(0.5, abs=0.05) and b == pytest.approx(-1.0, abs=0.05)
    with pytest.raises(ValueError):
        fit_platt([0.2, 0.3], [0, 0])


def test_calibration_summary_by_hand():
    s = calibration_summary([0.1, 0.1, 0.9, 0.9], [0, 1, 1, 1], bins=2)
    # Brier: (0.01 + 0.81 + 0.01 + 0.01) / 4; ECE: bin 1 |0.1 - 0.5| * 2, bin 2 |0.9 - 1| * 2, over 4
    assert s["brier"] == pytest.approx(0.84 / 4) and s["ece"] == pytest.approx((0.8 + 0.2) / 4)
    assert s["n"] == 4 and s["observed"] == 0.75


def test_decision_reads_the_card():
    d = Decision.from_card({"threshold": 0.4, "lesion_gate": {"min_score": 0.7},
                            "malignancy_calibration": {"method": "platt", "a": 0.5, "b": -0.2}})
    assert d == Decision(0.4, 0.7, (0.5, -0.2))
    assert Decision.from_card(None) == Decision(0.5, None, None)
    assert math.isclose(calibrate(0.5, d.platt), 1 / (1 + math.exp(0.2)))
