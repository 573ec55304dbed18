"""core.metrics on tiny masks with hand-computed answers."""
import math

import numpy as np
import pytest

from core.metrics import scores as M

# gt: 4 pixels (2×2 top-left); pred: 6 pixels (2×3 top-left) -> tp 4, fp 2, fn 0, tn 10
GT = np.zeros((4, 4), bool)
GT[:2, :2] = True
PRED = np.zeros((4, 4), bool)
PRED[:2, :3] = True


def test_confusion_counts():
    assert M.confusion(GT, PRED) == (4, 2, 0, 10)


def test_hand_computed_figures():
    assert M.dice(GT, PRED) == pytest.approx(8 / 10)
    assert M.iou(GT, PRED) == pytest.approx(4 / 6)
    assert M.sensitivity(GT, PRED) == 1.0
    assert M.specificity(GT, PRED) == pytest.approx(10 / 12)
    assert M.area_error(GT, PRED) == pytest.approx(0.5)
    rep = M.segmentation_report(GT, PRED)
    assert rep["pixel_accuracy"] == pytest.approx(14 / 16)


def test_empty_ground_truth_and_prediction():
    empty = np.zeros((4, 4), bool)
    assert M.dice(empty, empty) == 1.0 and M.iou(empty, empty) == 1.0
    assert M.dice(empty, PRED) == 0.0 and M.dice(GT, empty) == 0.0
    assert math.isnan(M.sensitivity(empty, PRED))
    assert M.hausdorff95(empty, empty) == 0.0
    assert math.isnan(M.hausdorff95(GT, empty))
    assert math.isnan(M.area_error(empty, PRED))


def test_hausdorff_of_a_shifted_square():
    a = np.zeros((20, 20), bool)
    a[5:10, 5:10] = True
    b = np.roll(a, 3, axis=1)
    # every boundary point of one square is 0..3 px from the other's boundary; the 95th percentile is 3
    assert M.hausdorff95(a, b) == pytest.approx(3.0)
    assert M.hausdorff95(a, a) == 0.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shapes differ"):
        M.dice(GT, np.zeros((3, 3), bool))


def test_auc_and_false_alarm():
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert math.isnan(M.roc_auc([1, 1], [0.2, 0.3]))
    img = np.zeros((100, 100), bool)
    img[:5, :10] = True  # 50 px = 0.5%
    assert M.false_alarm(img)
    img[:5, 9] = False  # 45 px < 0.5%
    assert not M.false_alarm(img)
