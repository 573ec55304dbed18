"""Lesion-free crops: the band beside the lesion, by hand-computed boxes."""
import numpy as np

from core.data.layouts import Case, LoadedCase
from core.training.negatives import lesion_free_box, lesion_free_crops


def test_the_largest_band_clear_of_the_lesion_box_and_its_margin():
    mask = np.zeros((100, 200), bool)
    mask[10:30, 20:50] = True  # lesion box rows 10-29, cols 20-49
    # margin 0.05: 5 rows, 10 cols. Bands: above rows 0-5 (too thin), below rows 35-100 (65x200 = 13000),
    # left cols 0-10 (too thin), right cols 60-200 (100x140 = 14000): the right band wins
    assert lesion_free_box(mask, margin=0.05, min_side=0.3) == (0, 100, 60, 200)


def test_no_band_when_the_lesion_fills_the_frame():
    mask = np.zeros((50, 50), bool)
    mask[5:45, 5:45] = True
    assert lesion_free_box(mask) is None
    assert lesion_free_box(np.zeros((10, 10), bool)) is None


def test_crops_hold_no_lesion_pixel_and_keep_centre_and_device():
    gray = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200).astype(np.uint8)
    mask = np.zeros((100, 200), bool)
    mask[10:30, 20:50] = True
    case = Case("busbra/bus_0001-l", "benign", "x.png", ["m.png"], dataset="busbra", patient="busbra:1",
                meta={"device": "GE Logiq 7"})
    normal = LoadedCase(Case("normal/n", "normal", "n.png", []), gray, np.zeros_like(mask), False)
    (crop,) = lesion_free_crops([LoadedCase(case, gray, mask, False), normal], margin=0.05, min_side=0.3)
    assert crop.case.key == "crop:busbra/bus_0001-l" and crop.case.label == "normal" and crop.case.malignant < 0
    assert crop.case.dataset == "busbra" and crop.case.patient == "busbra:1" and crop.case.device == "GE Logiq 7"
    assert crop.gray.shape == (100, 140) and not crop.mask.any()
    assert np.array_equal(crop.gray, gray[:, 60:])


def test_ultrasound_artefacts_are_reproducible_and_stay_in_range():
    from core.training.batches import ultrasound_artefacts

    x = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    assert ultrasound_artefacts(x, np.random.default_rng(1), 0.0) is x  # none drawn: the image untouched
    a = ultrasound_artefacts(x, np.random.default_rng(1), 1.0)
    b = ultrasound_artefacts(x, np.random.default_rng(1), 1.0)
    assert a.dtype == np.float32 and a.shape == x.shape and np.array_equal(a, b)
    assert not np.allclose(a, x) and 0.0 <= a.min() and a.max() <= 1.0


def test_artefact_settings_keep_usaugment_off_its_nan_corner(monkeypatch):
    # every scalar draw pinned to the low end of its range: the corner where usaugment's defaults give NaN
    from usaugment.albumentations import HazeArtifact, SpeckleReduction

    from core.training.batches import ARTEFACT_SETTINGS

    real = np.random.uniform
    monkeypatch.setattr(np.random, "uniform", lambda lo=0.0, hi=1.0, size=None: lo if size is None else real(lo, hi, size))
    x = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    scan = np.ones_like(x)
    for t in (SpeckleReduction, HazeArtifact):
        assert np.isfinite(t(**ARTEFACT_SETTINGS[t.__name__], p=1).apply(x, scan_mask=scan)).all()
    # the measured failure the settings avoid: both bilateral sigmas small
    assert not np.isfinite(SpeckleReduction(sigma_spatial=(0.15, 2.0), sigma_color=(0.02, 1.0), p=1)
                           .apply(x, scan_mask=scan)).all()


def test_an_artefact_that_yields_nan_is_skipped(monkeypatch):
    from usaugment.albumentations import DepthAttenuation

    from core.training.batches import ultrasound_artefacts

    monkeypatch.setattr(DepthAttenuation, "apply", lambda self, img, **k: np.full_like(img, np.nan))
    x = np.random.default_rng(0).random((24, 24)).astype(np.float32)
    assert np.isfinite(ultrasound_artefacts(x, np.random.default_rng(0), 1.0)).all()


def test_crops_are_drawn_by_their_own_weight_times_their_datasets():
    from core.training.dataprep import draw_weights

    keys = ["busi/a", "busbra/b", "crop:busi/a", "crop:busbra/b"]
    dataset_of = {"busi/a": "busi", "busbra/b": "busbra", "crop:busi/a": "busi", "crop:busbra/b": "busbra"}
    assert draw_weights(keys, dataset_of, None, 1.0) is None  # every image once per epoch
    assert draw_weights(keys, dataset_of, {"busi": 1.0}, 1.0) is None
    assert draw_weights(keys, dataset_of, None, 0.5).tolist() == [1.0, 1.0, 0.5, 0.5]
    # busi 1.5 x crop 0.5 = 0.75
    assert draw_weights(keys, dataset_of, {"busi": 1.5}, 0.5).tolist() == [1.5, 1.0, 0.75, 0.5]
    # one crop per lesion image at weight 0.5: crops are a third of the draws
    w = draw_weights(keys, dataset_of, None, 0.5)
    assert w[2:].sum() / w.sum() == 1 / 3
