"""core.analysis: pairing uploads, threshold views from a cached probability, bad masks."""
import numpy as np
import pytest

from core.analysis import segment as an
from core.data.imageio import ImageReadError
from tests.helpers import png_bytes, synthetic_case


class CountingPredictor:
    """Stands in for the network: a fixed probability ramp, counting calls."""

    threshold = 0.5
    path = "fake.keras"

    def __init__(self):
        self.calls = 0

    def predict(self, gray):
        from core.inference.predictor import Prediction

        self.calls += 1
        h, w = gray.shape
        return Prediction(np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1)), 0.7, 1.0)


def test_busi_named_masks_pair_with_their_images():
    ups, msgs = an.pair_uploads([("case (1).png", b"i"), ("case (1)_mask.png", b"m"),
                                 ("case (1)_mask_1.png", b"m1"), ("other_mask.png", b"x")])
    assert [u.name for u in ups] == ["case (1).png"]
    assert [n for n, _ in ups[0].masks] == ["case (1)_mask.png", "case (1)_mask_1.png"]
    assert msgs and "other_mask.png" in msgs[0]


def test_threshold_changes_reuse_the_probability_map():
    p = CountingPredictor()
    gray, mask = synthetic_case(20, 40)
    a = an.analyse(p, an.Upload("x.png", png_bytes(gray), [("x_mask.png", png_bytes(mask.astype(np.uint8) * 255))]))
    areas = [an.view_at(a, t).measurements.area_px for t in (0.25, 0.5, 0.75)]
    assert p.calls == 1
    assert areas[0] > areas[1] > areas[2] > 0
    v = an.view_at(a, 0.5)
    assert v.dice is not None and 0 <= v.dice <= 1


def test_mask_of_the_wrong_size_gives_a_message_not_a_crash():
    gray, _ = synthetic_case(20, 40)
    a = an.analyse(CountingPredictor(), an.Upload("x.png", png_bytes(gray),
                                                  [("x_mask.png", png_bytes(np.zeros((10, 10), np.uint8)))]))
    assert a.gt_mask is None and "10×10" in a.mask_message and "40×20" in a.mask_message


def test_unreadable_image_raises_a_named_error():
    with pytest.raises(ImageReadError, match="bad.png"):
        an.analyse(CountingPredictor(), an.Upload("bad.png", b"junk"))


def test_typed_spacing_gives_mm_and_exports_are_complete():
    gray, _ = synthetic_case(20, 40)
    a = an.analyse(CountingPredictor(), an.Upload("x.png", png_bytes(gray)))
    v = an.view_at(a, 0.5, typed_mm_per_px=0.5)
    assert v.measurements.area_mm2 == pytest.approx(v.measurements.area_px * 0.25)
    row = an.summary_row(a, v, 0.5)
    assert b"lesion_area_mm2" in an.rows_to_csv([row]) and b'"file": "x.png"' in an.rows_to_json([row])
    assert an.mask_png(v).startswith(b"\x89PNG") and an.overlay_png(a, v, 0.4).startswith(b"\x89PNG")



def _analysis_with(probability, malignancy, decision):
    gray = np.zeros(probability.shape, np.uint8)
    from core.data.imageio import DecodedImage

    return an.Analysis("x.png", DecodedImage("x.png", gray), probability, malignancy, 1.0, decision=decision)


def test_malignancy_is_worded_in_calibrated_bands_never_as_a_percentage():
    from core.inference.decision import Decision

    prob = np.zeros((8, 8), np.float32)
    # platt (1, 0) leaves p unchanged: 0.05 is low, 0.3 intermediate, 0.7 high
    for p, band in ((0.05, "low"), (0.3, "intermediate"), (0.7, "high")):
        text = an.malignancy_words(_analysis_with(prob, p, Decision(platt=(1.0, 0.0))),
                                   {"cross_centre_auc": {"BUS-BRA": {"auc": 0.66}}})
        assert f"**{band}**" in text and "%" not in text.split("(calibrated")[0] and "AUC 0.66 (BUS-BRA)" in text
    # a strong recalibration moves the band: sigmoid(1 * logit(0.7) - 2) = 0.24
    assert "**intermediate**" in an.malignancy_words(_analysis_with(prob, 0.7, Decision(platt=(1.0, -2.0))))
    # without a calibration the raw output is not shown at all
    assert "not calibrated, so it is not shown" in an.malignancy_words(_analysis_with(prob, 0.7, Decision()))


def test_the_no_lesion_gate_empties_a_faint_mask_and_says_why():
    from core.inference.decision import Decision

    prob = np.zeros((20, 20), np.float32)
    prob[5:10, 5:10] = 0.6  # a faint region: mean 0.6 < gate 0.7
    a = _analysis_with(prob, 0.5, Decision(threshold=0.5, gate=0.7))
    v = an.view_at(a, 0.5)
    assert v.gated and v.measurements.area_px == 0
    assert "under its no-lesion gate of 0.70" in an.gated_words(a, 0.5)
    assert "never trained on, the gate empties real lesions" in an.gated_words(a, 0.5)
    raw = an.view_at(a, 0.5, gate=False)
    assert not raw.gated and raw.measurements.area_px == 25
    prob[5:10, 5:10] = 0.9  # a confident one passes (the analysis keeps its own uint8 copy: build it again)
    assert an.view_at(_analysis_with(prob, 0.5, Decision(threshold=0.5, gate=0.7)), 0.5).measurements.area_px == 25


def test_the_sample_gallery_ships_with_masks():
    from tests.helpers import SAMPLES

    ups = an.sample_uploads(SAMPLES)
    assert len(ups) == 12 and all(u.masks for u in ups)


def test_no_lesion_words_give_the_peak_probability_and_the_models_miss_count():
    prob = np.zeros((4, 5), np.float32)
    prob[2, 3] = 0.18
    a = an.Analysis("x.png", None, prob, 0.4, 1.0)
    card = {"test_metrics": {"n_missed": 10, "n_lesion": 76}}
    text = an.no_lesion_words(a, 0.5, card)
    assert text.startswith("No lesion is marked at threshold 0.50")
    assert "highest lesion probability anywhere in this image is 0.18" in text
    assert "missed or mostly missed 10 of 76 lesions" in text
    # a model without those figures on its card says so in general terms, inventing no number
    assert "misses some lesions" in an.no_lesion_words(a, 0.5, None)
    assert "axillary" not in text  # only a card that lists the axillary limit makes the page mention it
    assert "unmarked" not in text  # a card without the size breakdown names no unmarked lesions


def test_no_lesion_words_say_which_sizes_the_model_leaves_unmarked():
    a = an.Analysis("x.png", None, np.zeros((4, 5), np.float32), None, 1.0)
    card = {"test_metrics": {"n_missed": 10, "n_lesion": 76, "by_size": [
        {"band": "under 2 %", "n": 19, "dice_mean": 0.75, "n_missed": 3, "n_unmarked": 0},
        {"band": "2–10 %", "n": 30, "dice_mean": 0.8, "n_missed": 3, "n_unmarked": 1},
        {"band": "10 % or more", "n": 27, "dice_mean": 0.67, "n_missed": 4, "n_unmarked": 3}]}}
    assert ("missed or mostly missed 10 of 76 lesions (Dice below 0.3), and left 4 wholly unmarked (1 covering "
            "2–10 % of the image, 3 covering 10 % or more of the image): if you see a lesion") in an.no_lesion_words(a, 0.5, card)


def test_no_lesion_words_warn_about_axillary_nodes_when_the_card_lists_that_limit():
    from core.cards.modelcard import AXILLARY_LIMITATION

    a = an.Analysis("x.png", None, np.zeros((4, 5), np.float32), None, 1.0)
    text = an.no_lesion_words(a, 0.5, {"limitations": ["Trained on BUSI only.", AXILLARY_LIMITATION]})
    assert text.endswith("an empty result on an axillary scan says nothing about the node "
                         "(see the model's known limits on the Home page).")


def test_edits_follow_into_the_view_the_dice_and_the_exports_and_survive_the_threshold():
    from core.analysis import editing as ed

    gray, mask = synthetic_case(20, 40)
    a = an.analyse(CountingPredictor(), an.Upload("x.png", png_bytes(gray),
                                                  [("x_mask.png", png_bytes(mask.astype(np.uint8) * 255))]))
    e = ed.Edits.empty(gray.shape)
    plain = an.view_at(a, 0.5, edits=e)
    assert not plain.edited and an.summary_row(a, plain, 0.5)["edited"] is False
    stroke = np.zeros(gray.shape, bool)
    stroke[:, :5] = True  # the ramp's low end: never above any threshold here
    ed.apply(e, stroke, ed.ADD)
    for t in (0.3, 0.5, 0.7):
        before, after = an.view_at(a, t), an.view_at(a, t, edits=e)
        assert after.edited and after.measurements.area_px == before.measurements.area_px + 100
    before = an.view_at(a, 0.5, edits=e).dice
    ed.apply(e, mask, ed.ADD)  # painting the true lesion in raises the Dice against ground truth
    assert an.view_at(a, 0.5, edits=e).dice > before
    v = an.view_at(a, 0.5, edits=e)
    row = an.summary_row(a, v, 0.5)
    assert row["edited"] is True and row["lesion_area_px"] == v.measurements.area_px
    assert b"edited" in an.rows_to_csv([row]) and b'"edited": true' in an.rows_to_json([row])
    from core.data.imageio import decode_mask
    assert decode_mask(an.mask_png(v)).sum() == v.measurements.area_px
    ed.reset(e)
    assert not an.view_at(a, 0.5, edits=e).edited


def test_the_axillary_limit_is_found_by_its_key_whatever_the_wording():
    from core.cards.modelcard import AXILLARY_LIMITATION, AXILLARY_NODES, has_limitation, limitation_keys

    assert limitation_keys(["Trained on BUSI only.", AXILLARY_LIMITATION]) == [AXILLARY_NODES]
    # a card with keys: the key decides, whatever its sentences say
    assert has_limitation({"limitations": ["Axillary nodes: reworded."], "limitation_keys": [AXILLARY_NODES]},
                          AXILLARY_NODES)
    assert not has_limitation({"limitations": [AXILLARY_LIMITATION], "limitation_keys": []}, AXILLARY_NODES)
    # a card written before the keys: its sentence, in the wording it was written with
    assert has_limitation({"limitations": [AXILLARY_LIMITATION]}, AXILLARY_NODES)
    assert not has_limitation({"limitations": ["Trained on BUSI only."]}, AXILLARY_NODES) and not has_limitation(
        None, AXILLARY_NODES)
