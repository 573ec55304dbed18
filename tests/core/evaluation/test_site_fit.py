"""Fitting the no-lesion gate on a hospital's own images (core.evaluation.site_fit) and the command that writes the
new model version (tools.fit_to_site), on a synthetic BUSI-layout folder whose lesion scores are known by hand."""
import os

import cv2
import numpy as np
import pytest

from core.evaluation.site_fit import SiteFitError, fit_site_gate, write_site_model
from core.inference.decision import Decision
from core.inference.predictor import Prediction

LESION, FAINT = 0.9, 0.58  # the fake network's probability inside a lesion, and on a normal scan's faint region


class FakePredictor:
    """Probability 0.9 where the image is brighter than 200 (its lesion), 0.58 where it is 100-199 (a normal scan's
    faint region), 0 elsewhere; threshold 0.5 and no gate of its own. path: a real model file to copy."""

    def __init__(self, path: str):
        self.path = path
        self.threshold = 0.5
        self.decision = Decision(0.5, None, None)

    def predict(self, gray):
        prob = np.where(gray >= 200, LESION, np.where(gray >= 100, FAINT, 0.0)).astype(np.float32)
        return Prediction(prob, 0.5, 1.0)


def _folder(root, lesions: int, normals: int) -> str:
    rng = np.random.default_rng(0)
    for cls, n in (("benign", lesions), ("normal", normals)):
        os.makedirs(root / cls, exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 90, (48, 48)).astype(np.uint8)  # noise: no two images are near-duplicates
            mask = np.zeros((48, 48), np.uint8)
            y, x = 4 + (i % 5) * 7, 4 + (i // 5 % 5) * 7
            if cls == "benign":
                img[y:y + 12, x:x + 12] = 230
                mask[y:y + 12, x:x + 12] = 255
            else:
                img[y:y + 8, x:x + 8] = 150
            cv2.imwrite(str(root / cls / f"{cls} ({i + 1}).png"), img)
            cv2.imwrite(str(root / cls / f"{cls} ({i + 1})_mask.png"), mask)
    return str(root)


@pytest.fixture(autouse=True)
def own_runs_folder(tmp_path, monkeypatch):
    """New versions go to this test's runs folder, never the project's."""
    monkeypatch.setenv("BUSI_RUNS_DIR", str(tmp_path / "runs"))


@pytest.fixture
def tiny_model(tmp_path):
    from core.cards.modelcard import write_card
    from core.inference.onnx_export import export_and_record
    from core.model.unet import build_unet

    path = str(tmp_path / "tiny.keras")
    build_unet((32, 32, 1), base_filters=4, depth=2).save(path)
    write_card(path, {"name": "tiny", "threshold": 0.5})
    export_and_record(path, log=lambda *_: None)
    return path


def test_the_gate_fitted_at_the_site_passes_its_lesions_and_stops_its_normals(tmp_path):
    fit = fit_site_gate(FakePredictor("unused.keras"), [_folder(tmp_path / "site", 12, 12)], min_lesions=10,
                        min_normals=10)
    assert (fit.lesion_images, fit.normal_images, fit.card_gate) == (12, 12, None)
    # every normal scores 0.58, every lesion 0.9: the first gate of the grid (0.5, 0.525, ...) above 0.58 is 0.6
    assert fit.gate == 0.6
    # on the halves not fitted on: without a gate every normal is flagged; with the site's, none, and no lesion lost
    assert fit.held_out["card"]["false_alarm_rate"] == 1.0 and fit.held_out["card"]["dice"] == 1.0
    assert fit.held_out["site"]["false_alarm_rate"] == 0.0 and fit.held_out["site"]["dice"] == 1.0


def test_too_few_normal_scans_are_refused_with_what_to_add(tmp_path):
    with pytest.raises(SiteFitError, match="2 normal scans.*at least 20"):
        fit_site_gate(FakePredictor("unused.keras"), [_folder(tmp_path / "site", 25, 2)])


def test_the_new_version_carries_the_sites_gate_serves_on_onnx_and_leaves_the_source_alone(tmp_path, tiny_model):
    from core.cards.registry import list_models
    from core.inference.predictor import Predictor
    from tests.helpers import card_json

    before = card_json(tiny_model)
    folder = _folder(tmp_path / "site", 12, 12)
    fit = fit_site_gate(FakePredictor(tiny_model), [folder], min_lesions=10, min_normals=10)
    path = write_site_model(fit, "St Elsewhere, Logiq E9", [folder])
    assert os.path.basename(os.path.dirname(path)).startswith("site-st-elsewhere-logiq-e9-")
    card = card_json(path)
    assert card["lesion_gate"]["min_score"] == 0.6
    assert card["lesion_gate"]["site"]["site"] == "St Elsewhere, Logiq E9"
    assert card["lesion_gate"]["site"]["normal_images"] == 12
    assert "St Elsewhere" in open(path.replace(".keras", ".card.md")).read()
    served = Predictor.load(path)
    assert served.engine == "onnx" and served.note == "" and served.decision.gate == 0.6
    assert card_json(tiny_model) == before  # the model everyone uses is unchanged
    assert any(m.path == path and m.source == "run" for m in list_models())  # an admin can now make it active


def test_a_failed_write_leaves_no_half_written_version(tmp_path, tiny_model, monkeypatch):
    from core.cards import modelcard
    from core.locations import runs_dir

    folder = _folder(tmp_path / "site", 12, 12)
    fit = fit_site_gate(FakePredictor(tiny_model), [folder], min_lesions=10, min_normals=10)

    def disk_full(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelcard, "write_card", disk_full)
    with pytest.raises(OSError):
        write_site_model(fit, "site", [folder])
    assert not os.path.isdir(runs_dir()) or os.listdir(runs_dir()) == []


def test_the_command_refuses_a_folder_without_enough_normals(tmp_path, tiny_model, capsys):
    from tools.fit_to_site import main

    code = main(["--site", "x", "--data", _folder(tmp_path / "site", 25, 3), "--model", tiny_model])
    assert code == 2
    assert "3 normal scans" in capsys.readouterr().err
