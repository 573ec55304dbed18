"""The shipped models (weights/): present, loadable, carded, and never trained on the sample gallery."""
import glob
import json
import os

import numpy as np
import pytest

from core.cards.modelcard import read_card
from core.inference.predictor import Predictor
from tests.helpers import ROOT, SAMPLES, card_json

WEIGHTS = os.path.join(ROOT, "weights")
MODEL = os.path.join(WEIGHTS, "default.keras")
SHIPPED = sorted(glob.glob(os.path.join(WEIGHTS, "*.keras")))
shipped = pytest.mark.parametrize("model", SHIPPED, ids=[os.path.basename(m) for m in SHIPPED])


def test_the_default_is_among_the_shipped_models():
    assert MODEL in SHIPPED


@shipped
def test_shipped_model_loads_and_predicts_at_original_size(model):
    p = Predictor.load(model)
    out = p.predict(np.zeros((300, 420), np.uint8))
    assert out.probability.shape == (300, 420) and 0 <= out.malignancy <= 1


@shipped
def test_card_has_what_a_reader_needs(model):
    card = card_json(model)
    for key in ("input", "outputs", "threshold", "settings", "data", "test_metrics", "speed", "intended_use",
                "limitations", "citation", "command"):
        assert key in card, key
    t = card["test_metrics"]
    assert t["n_lesion"] > 50 and t["n_normal"] > 5
    assert 0 < t["dice_mean"] <= 1 and t["malignancy_auc"] is not None
    assert "Al-Dhabyani" in card["citation"]
    assert os.path.isfile(model.replace(".keras", ".card.md"))


@shipped
def test_sample_gallery_is_in_the_test_split_only(model):
    split = json.load(open(model.replace(".keras", ".split.json")))["split"]
    samples = {f"{label}/{os.path.splitext(n)[0]}" for label in os.listdir(SAMPLES)
               for n in os.listdir(os.path.join(SAMPLES, label)) if "_mask" not in n and n.endswith(".png")}
    assert len(samples) == 12
    assert samples <= set(split["test"])
    assert not samples & (set(split["train"]) | set(split["val"]))


def test_the_default_is_multi_centre_and_its_card_says_so_per_dataset():
    card = card_json(MODEL)
    by = card["test_metrics_by_dataset"]
    assert set(by) == {"busi", "busbra"} and by["busi"]["n_normal"] > 5 and by["busbra"]["n_lesion"] > 100
    for t in by.values():  # every headline figure with its interval
        assert t["dice_mean_ci"] and t["malignancy_auc_ci"]
    centres = [c for c in card["cross_centre"] if c.get("left_out", "centre") == "centre"]
    assert {(c["trained_on"], c["scored_on"]) for c in centres} == {("BUSI", "BUS-BRA"), ("BUS-BRA", "BUSI")}
    for c in card["cross_centre"]:
        if c.get("left_out") == "scanner":  # a scanner of BUS-BRA, left out of training and scored on alone
            assert c["trained_on"] == f"BUSI + BUS-BRA without {c['scored_on']}" and list(c["by_device"]) == [c["scored_on"]]
    assert card["lesion_gate"]["min_score"] > card["threshold"]
    assert card["malignancy_calibration"]["method"] == "platt" and "BUS-BRA" in card["citation"]
    # MONAI-bundle-style metadata
    assert card["modality"] == "US" and card["version"] and card["authors"] and card["license"]
    assert card["network_data_format"]["inputs"]["image"]["spatial_shape"] == [256, 256]


def test_the_readmes_figures_are_the_cards():
    from core.cards.modelcard import headline_rows

    readme = open(os.path.join(ROOT, "README.md")).read()
    for row in headline_rows(read_card(MODEL)):
        line = "| " + " | ".join("—" if v is None else str(v) for v in row.values()) + " |"
        assert line in readme, f"README lacks the card's row: {line}"
