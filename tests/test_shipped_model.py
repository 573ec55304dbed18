"""The shipped default model: present, loadable, carded, and never trained on the sample gallery."""
import json
import os

import numpy as np

from core.inference import Predictor
from core.modelcard import read_card
from tests.conftest import ROOT, SAMPLES

WEIGHTS = os.path.join(ROOT, "weights")
MODEL = os.path.join(WEIGHTS, "default.keras")


def test_default_model_loads_and_predicts_at_original_size():
    p = Predictor.load(MODEL)
    out = p.predict(np.zeros((300, 420), np.uint8))
    assert out.probability.shape == (300, 420) and 0 <= out.malignancy <= 1


def test_card_has_what_a_reader_needs():
    card = read_card(MODEL)
    for key in ("input", "outputs", "threshold", "settings", "data", "test_metrics", "speed", "intended_use",
                "limitations", "citation", "command"):
        assert key in card, key
    t = card["test_metrics"]
    assert t["n_lesion"] > 50 and t["n_normal"] > 5
    assert 0 < t["dice_mean"] <= 1 and t["malignancy_auc"] is not None
    assert "Al-Dhabyani" in card["citation"]
    assert os.path.isfile(os.path.join(WEIGHTS, "default.card.md"))


def test_sample_gallery_is_in_the_test_split_only():
    split = json.load(open(os.path.join(WEIGHTS, "default.split.json")))["split"]
    samples = {f"{label}/{os.path.splitext(n)[0]}" for label in os.listdir(SAMPLES)
               for n in os.listdir(os.path.join(SAMPLES, label)) if "_mask" not in n and n.endswith(".png")}
    assert len(samples) == 12
    assert samples <= set(split["test"])
    assert not samples & (set(split["train"]) | set(split["val"]))
