"""core.intervals: confidence intervals checked against answers worked out by hand."""
import numpy as np
import pytest

from core.metrics import intervals as I


def test_wilson_interval_by_hand():
    # 0 of 10: the Wilson interval runs from 0 to z²/(n+z²) with z = 1.95996
    z2 = 1.959964 ** 2
    lo, hi = I.proportion_interval(0, 10)
    assert lo == pytest.approx(0.0, abs=1e-9) and hi == pytest.approx(z2 / (10 + z2), abs=1e-4)
    # 5 of 10: centred on 0.5, half-width z*sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
    half = 1.959964 * np.sqrt(0.25 / 10 + z2 / 400) / (1 + z2 / 10)
    assert I.proportion_interval(5, 10) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-4)
    assert I.proportion_interval(0, 0) is None


def test_mean_interval_of_two_values_spans_both():
    # Resampling [0, 1] gives means 0, 0.5, 1 with chances 1/4, 1/2, 1/4: the 2.5th and 97.5th percentiles are 0 and 1
    assert I.mean_interval([0.0, 1.0]) == pytest.approx((0.0, 1.0))
    assert I.mean_interval([0.7, 0.7, 0.7]) == pytest.approx((0.7, 0.7))
    assert I.mean_interval([0.5]) is None
    assert I.mean_interval([0.5, None, float("nan")]) is None


def test_mean_interval_holds_the_mean_and_narrows_with_more_images():
    rng = np.random.default_rng(3)
    small, large = rng.random(40), rng.random(400)
    lo_s, hi_s = I.mean_interval(small)
    lo_l, hi_l = I.mean_interval(large)
    assert lo_s < small.mean() < hi_s and lo_l < large.mean() < hi_l
    # the width shrinks roughly as 1/sqrt(n): ten times the images, about a third of the width
    assert 0.2 < (hi_l - lo_l) / (hi_s - lo_s) < 0.5
    assert I.mean_interval(small) == (lo_s, hi_s)  # fixed seed: the same rows give the same interval


def test_auc_statistic_counts_pairs_by_hand():
    # positives 0.9, 0.4 against negatives 0.5, 0.1, 0.4: 0.9 beats all three, 0.4 beats 0.1 and ties 0.4 -> 4.5 / 6
    assert I._auc(np.array([0.9, 0.4]), np.array([0.5, 0.1, 0.4])) == pytest.approx(0.75)


def test_auc_interval():
    assert I.auc_interval([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1]) == pytest.approx((1.0, 1.0))
    rng = np.random.default_rng(0)
    labels = np.r_[np.ones(30), np.zeros(60)]
    scores = np.r_[rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 60)]
    from sklearn.metrics import roc_auc_score
    lo, hi = I.auc_interval(labels, scores)
    assert lo < roc_auc_score(labels, scores) < hi and hi - lo < 0.35
    assert I.auc_interval([1, 0, 0], [0.9, 0.1, 0.2]) is None  # one positive cannot be resampled


def test_format_interval():
    assert I.format_interval((0.6904, 0.7861)) == "95 % CI 0.690–0.786"
    assert I.format_interval((0.05, 0.41), percent=True) == "95 % CI 5%–41%"
    assert I.format_interval(None) == ""


def _row(key, label, dice, gt_area, false_alarm=None, malignancy=None):
    return {"key": key, "label": label, "dice": dice, "iou": dice, "sensitivity": dice, "specificity": 1.0,
            "hd95_px": 1.0, "area_error": 0.0, "gt_area_px": gt_area, "false_alarm": false_alarm,
            "malignancy_probability": malignancy, "inference_ms": 1.0}


def test_summary_carries_intervals_around_its_figures():
    from core.evaluation.scoring import summarise

    rows = [_row("benign/a", "benign", 0.0, 10, malignancy=0.1), _row("benign/b", "benign", 1.0, 10, malignancy=0.3),
            _row("malignant/c", "malignant", 1.0, 10, malignancy=0.8), _row("malignant/d", "malignant", 0.0, 10, malignancy=0.9),
            _row("normal/e", "normal", 1.0, 0, false_alarm=False), _row("normal/f", "normal", 1.0, 0, false_alarm=True)]
    s = summarise(rows)
    assert s["dice_mean"] == 0.5 and s["dice_mean_ci"][0] == 0.0 and s["dice_mean_ci"][1] == 1.0
    assert s["false_alarm_rate"] == 0.5 and s["false_alarm_rate_ci"] == pytest.approx(list(I.proportion_interval(1, 2)))
    assert s["malignancy_auc"] == 1.0 and s["malignancy_auc_ci"] == pytest.approx([1.0, 1.0])
    # no normal images, one malignant lesion: no interval where none can be computed
    s = summarise(rows[:3])
    assert s["false_alarm_rate_ci"] is None and s["malignancy_auc_ci"] is None


def test_model_card_and_command_line_show_the_intervals():
    from core.cards.modelcard import render_markdown
    from core.evaluation.folder import Evaluation
    from core.evaluation.scoring import summarise
    from core.evaluation.tables import format_summary

    rows = [_row(f"benign/{i}", "benign", d, 10, malignancy=0.2) for i, d in enumerate((0.2, 0.6, 0.9, 0.7))]
    s = summarise(rows)
    lo, hi = s["dice_mean_ci"]
    assert f"{s['dice_mean']:.3f} ({lo:.3f}–{hi:.3f})" in render_markdown({"test_metrics": s})
    assert f"95 % CI {lo:.3f}–{hi:.3f}" in format_summary(Evaluation("m.keras", 0.5, rows, s, [], []))


def test_interval_caption_for_the_pages():
    from core.evaluation.tables import interval_caption

    s = {"dice_mean_ci": [0.6904, 0.7861], "false_alarm_rate_ci": [0.062, 0.41], "malignancy_auc_ci": None}
    assert interval_caption(s) == ("95 % intervals: mean Dice 0.690–0.786 · false alarms 6%–41% "
                                   "(how far each could move on another sample this size)")
    assert interval_caption({}) == ""


def test_paired_difference_by_hand():
    # every image gains exactly 0.1: every resample's mean gain is 0.1, so the interval is a point
    d = I.paired_difference([0.2, 0.5, 0.7], [0.3, 0.6, 0.8])
    assert d["mean"] == pytest.approx(0.1) and d["ci"] == pytest.approx([0.1, 0.1])
    assert d["verdict"] == "better" and d["better_on"] == 3 and d["worse_on"] == 0
    # one image gains 0.4, one loses 0.4: resampled means are -0.4, 0 or 0.4, so the interval spans 0
    d = I.paired_difference([0.5, 0.5], [0.9, 0.1])
    assert d["ci"] == pytest.approx([-0.4, 0.4]) and d["verdict"] == "not distinguishable"
    assert I.paired_difference([0.9, 0.8], [0.1, 0.2])["verdict"] == "worse"
    assert I.paired_difference([0.5], [0.6]) is None


def test_dice_difference_pairs_images_by_key_and_ignores_normals():
    from core.evaluation.scoring import dice_difference

    before = [_row("benign/a", "benign", 0.5, 10), _row("benign/b", "benign", 0.6, 10), _row("normal/n", "normal", 1.0, 0)]
    after = [_row("benign/b", "benign", 0.8, 10), _row("benign/a", "benign", 0.7, 10), _row("normal/n", "normal", 0.0, 0)]
    d = dice_difference(before, after)
    assert d["n"] == 2 and d["mean"] == pytest.approx(0.2) and d["verdict"] == "better"
    text = I.difference_caption(d, "B", "A")
    assert text.startswith("Mean Dice, B − A: +0.200 (95 % interval +0.200 to +0.200, paired over 2 lesion images")
    assert text.endswith("B is better.")
    assert I.difference_caption(None, "B", "A") == ""


def test_summary_counts_missed_lesions_by_hand():
    from core.evaluation.scoring import summarise

    rows = [_row("benign/a", "benign", 0.29, 10), _row("benign/b", "benign", 0.3, 10), _row("benign/c", "benign", 0.0, 10),
            _row("benign/d", "benign", 0.9, 10), _row("normal/e", "normal", 1.0, 0, false_alarm=False)]
    s = summarise(rows)
    # 0.29 and 0.0 are below 0.3; 0.3 itself is not; the normal image does not count
    assert s["n_missed"] == 2 and s["missed_rate"] == pytest.approx(0.5)


def _sized_row(key, dice, gt_area, pred_area, width=10, height=10):
    return {**_row(key, "benign", dice, gt_area), "width": width, "height": height, "pred_area_px": pred_area}


def test_summary_breaks_lesions_down_by_size_by_hand():
    from core.evaluation.scoring import summarise

    # 10x10 images: a lesion of 1 px covers 1 %, 5 px 5 %, 10 px exactly 10 % (the large band's lower edge)
    rows = [_sized_row("benign/a", 0.8, 1, 2), _sized_row("benign/b", 0.0, 1, 0),
            _sized_row("benign/c", 0.6, 5, 4), _sized_row("benign/d", 0.0, 10, 0),
            _sized_row("benign/e", 0.2, 40, 3), {**_sized_row("normal/f", 1.0, 0, 0), "label": "normal", "false_alarm": False}]
    s = summarise(rows)
    assert s["n_missed"] == 3 and s["n_unmarked"] == 2  # the normal image's empty mask is no miss
    # band intervals: two values 0.8 and 0.0 resample to means of 0, 0.4 or 0.8; one value has no interval
    assert s["by_size"] == [
        {"band": "under 2 %", "n": 2, "dice_mean": pytest.approx(0.4), "dice_mean_ci": pytest.approx([0.0, 0.8]),
         "n_missed": 1, "n_unmarked": 1},
        {"band": "2–10 %", "n": 1, "dice_mean": pytest.approx(0.6), "dice_mean_ci": None, "n_missed": 0, "n_unmarked": 0},
        {"band": "10 % or more", "n": 2, "dice_mean": pytest.approx(0.1), "dice_mean_ci": pytest.approx([0.0, 0.2]),
         "n_missed": 2, "n_unmarked": 1}]
    # and as the Evaluate page shows them: rounded, the interval as text, a dash where there is none
    from core.evaluation.tables import size_table

    assert size_table(s["by_size"])[:2] == [
        {"lesion size (share of the image)": "under 2 %", "lesions": 2, "mean Dice": 0.4, "95 % interval": "0.000–0.800",
         "missed (Dice < 0.3)": 1, "nothing marked": 1},
        {"lesion size (share of the image)": "2–10 %", "lesions": 1, "mean Dice": 0.6, "95 % interval": "—",
         "missed (Dice < 0.3)": 0, "nothing marked": 0}]
    from core.evaluation.tables import class_table

    (benign, normal) = class_table(s["per_class"])
    assert benign == {"class": "benign", "images": 5, "mean Dice": 0.32, "mean IoU": 0.32, "HD95 median (px)": 1.0,
                      "mean sensitivity": 0.32, "false-alarm rate": None}
    assert normal["mean Dice"] is None and normal["false-alarm rate"] == 0.0
    # rows without the image size (older per-image tables) are left out of the breakdown, not guessed
    assert summarise([_row("benign/a", "benign", 0.5, 10)])["by_size"] == []


def test_size_breakdown_reaches_the_card_its_limits_and_the_command_line():
    from core.cards.modelcard import known_limits, render_markdown
    from core.evaluation.folder import Evaluation
    from core.evaluation.scoring import summarise
    from core.evaluation.tables import format_summary

    rows = [_sized_row("benign/a", 0.8, 1, 2), _sized_row("benign/b", 0.0, 1, 0), _sized_row("benign/d", 0.0, 10, 0)]
    s = summarise(rows)
    line = ("under 2 %: n=2, mean Dice 0.400 (95 % CI 0.000–0.800), 1 missed (1 unmarked); "
            "10 % or more: n=1, mean Dice 0.000, 1 missed (1 unmarked)")
    assert line in format_summary(Evaluation("m.keras", 0.5, rows, s, [], []))
    card = {"test_metrics": s, "limitations": ["Trained on BUSI only."]}
    md = render_markdown(card)
    assert line in md and "missed or mostly missed (Dice < 0.3): 2 of 3, 2 of them with nothing marked" in md
    assert known_limits(card) == [
        "Trained on BUSI only.",
        "Mean Dice by lesion size on its test split: 0.400 (95 % CI 0.000–0.800) for lesions covering under 2 % of "
        "the image (n=2) and 0.000 for lesions covering 10 % or more of the image (n=1). Few lesions fall in each "
        "band: where the intervals overlap, this split cannot tell the bands apart. Lesions it left wholly "
        "unmarked, in the same order: 1, 1."]
    assert known_limits(card)[-1] in md  # the card's Markdown lists the same limits the Home page shows
    # one band says nothing about size, so no such limit is written
    assert known_limits({"test_metrics": summarise(rows[:2]), "limitations": []}) == []


def test_a_cards_stated_limits_follow_the_datasets_it_trained_on():
    from core.cards.modelcard import AXILLARY_LIMITATION, LIMITATIONS, limitations_for

    assert limitations_for(["busi"]) == LIMITATIONS
    both = limitations_for(["busbra", "busi"])
    assert both[0].startswith("Trained on two centres only") and both[-1] == AXILLARY_LIMITATION
    assert not any("BUSI only" in x for x in both)
    assert limitations_for(["busbra"])[0].startswith("Trained on busbra only")


def test_presence_auc_ranks_lesion_images_above_normal_scans_by_lesion_score():
    from core.evaluation.scoring import summarise

    rows = [{**_row("benign/a", "benign", 0.9, 10), "lesion_score": 0.9},
            {**_row("benign/b", "benign", 0.5, 10), "lesion_score": 0.4},
            {**_row("normal/c", "normal", 1.0, 0, false_alarm=True), "lesion_score": 0.5},
            {**_row("normal/d", "normal", 1.0, 0, false_alarm=False), "lesion_score": 0.0}]
    # of the four lesion/normal pairs, three rank the lesion higher (0.9>0.5, 0.9>0, 0.4>0; 0.4<0.5)
    assert summarise(rows)["presence_auc"] == 0.75
    # without normal scans there is nothing to rank against
    assert summarise(rows[:2])["presence_auc"] is None


def test_presence_auc_leaves_out_the_lesions_of_a_dataset_without_normal_scans():
    from core.evaluation.scoring import summarise

    rows = [{**_row("benign/a", "benign", 0.9, 10), "lesion_score": 0.9, "dataset": "busi"},
            {**_row("benign/b", "benign", 0.5, 10), "lesion_score": 0.4, "dataset": "busi"},
            {**_row("normal/c", "normal", 1.0, 0, false_alarm=True), "lesion_score": 0.5, "dataset": "busi"},
            {**_row("x/1", "benign", 0.9, 10), "lesion_score": 0.95, "dataset": "busbra"}]
    # busi alone: 0.9 > 0.5, 0.4 < 0.5, so 1 of 2 pairs; pooling busbra's lesion (0.95 > 0.5) would give 2 of 3
    assert summarise(rows)["presence_auc"] == 0.5
