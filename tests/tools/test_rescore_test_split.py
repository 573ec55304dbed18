"""tools.rescore_test_split: a shipped card gains the figures today's scoring adds, and only when every figure it
already holds reproduces."""
import shutil

from core.cards.modelcard import write_card
from core.data.layouts import scan_datasets
from core.data.split import write_manifest
from tests.helpers import card_json
from tools import rescore_test_split


def _model_with_test_split(tmp_path, tiny_model_path, busi_folder):
    model = str(tmp_path / "m.keras")
    shutil.copy(tiny_model_path, model)
    keys = sorted(c.key for c in scan_datasets([busi_folder]).cases)
    write_manifest(str(tmp_path / "m.split.json"), {"train": keys[:4], "val": [], "test": keys[4:]})
    return model


def test_figures_that_reproduce_gain_the_presence_auc(tmp_path, tiny_model_path, busi_folder):
    model = _model_with_test_split(tmp_path, tiny_model_path, busi_folder)
    scored = rescore_test_split.rescore(model, [busi_folder])
    old = {k: v for k, v in scored["test_metrics"].items() if not k.startswith("presence_auc")}
    old["inference_ms_median"] = 123.0  # a timing measured when the card was written: kept, never compared
    write_card(model, {"name": "m", "threshold": 0.5, "input": {"size": 32}, "test_metrics": old})
    assert rescore_test_split.main([model, "--data", busi_folder]) == 0
    card = card_json(model)["test_metrics"]
    assert card["n_images"] == 8 and card["n_normal"] == 4  # the test side only
    assert card["presence_auc"] == scored["test_metrics"]["presence_auc"] is not None
    assert card["inference_ms_median"] == 123.0


def test_a_figure_that_does_not_reproduce_leaves_the_card_as_it_was(tmp_path, tiny_model_path, busi_folder, capsys):
    model = _model_with_test_split(tmp_path, tiny_model_path, busi_folder)
    scored = rescore_test_split.rescore(model, [busi_folder])["test_metrics"]
    wrong = {k: v for k, v in scored.items() if not k.startswith("presence_auc")}
    wrong["dice_mean"] = scored["dice_mean"] + 0.01
    write_card(model, {"name": "m", "threshold": 0.5, "input": {"size": 32}, "test_metrics": wrong})
    before = open(model.replace(".keras", ".card.json")).read()
    assert rescore_test_split.main([model, "--data", busi_folder]) == 1
    assert "test_metrics.dice_mean" in capsys.readouterr().out
    assert open(model.replace(".keras", ".card.json")).read() == before
