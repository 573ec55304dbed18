"""The shipped models (weights/): present, loadable, carded, and never trained on the sample gallery."""
import glob
import json
import os

import numpy as np
import pytest

from core.cards.modelcard import read_card
from core.inference.predictor import Predictor
from tests.conftest import ROOT, SAMPLES

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
    card = read_card(model)
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
