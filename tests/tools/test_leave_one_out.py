"""tools.leave_one_out: the new-hospital table of a recipe, scored on every image of the centre left out."""
import json
import shutil

import pytest

from core.cards.modelcard import write_card
from tests.helpers import card_json
from tools import leave_one_out


def _finished_run(runs, name, left_out, tiny_model_path):
    run = runs / f"{name}_without_{left_out}"
    run.mkdir(parents=True)
    shutil.copy(tiny_model_path, run / "model.keras")
    shutil.copy(tiny_model_path.replace(".keras", ".card.json"), run / "model.card.json")


def _fake_training(monkeypatch, runs, tiny_model_path) -> list:
    """Stand in for core.train: each command is recorded and leaves a finished (untrained) model; the list fills."""
    calls = []

    def fake_train(cmd, check):
        calls.append(cmd)
        _finished_run(runs, "r", cmd[cmd.index("--out") + 1].rsplit("r_without_", 1)[1], tiny_model_path)

    monkeypatch.setattr(leave_one_out.subprocess, "run", fake_train)
    return calls


def test_each_centre_is_scored_on_all_its_images_by_the_network_that_never_saw_it(
        tmp_path, busi_folder, busbra_folder, tiny_model_path, monkeypatch, capsys):
    runs, out = tmp_path / "runs", tmp_path / "out"
    for left_out in ("busi", "busbra"):
        _finished_run(runs, "r", left_out, tiny_model_path)
    card_model = str(tmp_path / "default.keras")
    shutil.copy(tiny_model_path, card_model)
    write_card(card_model, {"name": "d", "threshold": 0.5, "input": {"size": 32}, "test_metrics": {},
                            "cross_centre": [{"trained_on": "BUSI", "scored_on": "BUS-BRA", "metrics": {}}]})
    # a finished run is never retrained
    monkeypatch.setattr(leave_one_out.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert leave_one_out.main(["--name", "r", "--data", str(busi_folder), "--data", str(busbra_folder),
                               "--runs", str(runs), "--out", str(out), "--card", card_model]) == 0
    table = capsys.readouterr().out
    assert "| r | BUSI | 12 |" in table and "| r | BUS-BRA |" in table
    busi = json.loads((out / "r" / "without_busi" / "summary.json").read_text())["overall"]
    assert busi["n_images"] == 12 and busi["n_normal"] == 4 and busi["presence_auc"] is not None
    card = card_json(card_model)
    # the new rows replace the old entry for the same pair, and lead
    assert [(c["trained_on"], c["scored_on"]) for c in card["cross_centre"]] == [
        ("BUS-BRA", "BUSI"), ("BUSI", "BUS-BRA")]
    assert card["cross_centre"][1]["by_device"].keys() == {"GE Logiq 7", "Toshiba Aplio 300"}


def test_a_missing_run_is_trained_on_the_other_centres_only(tmp_path, busi_folder, busbra_folder, monkeypatch):
    calls = []
    monkeypatch.setattr(leave_one_out.subprocess, "run", lambda cmd, check: calls.append(cmd))
    leave_one_out.train_without("r", "busi", [str(busbra_folder)], str(tmp_path), ["--epochs", "3"])
    (cmd,) = calls
    assert cmd[1:] == ["-m", "core.train", "--data", str(busbra_folder), "--out", str(tmp_path / "r_without_busi"),
                       "--resume", "--epochs", "3"]


def test_leaving_out_each_scanner_trains_on_everything_else_and_scores_that_scanner_only(
        tmp_path, busi_folder, busbra_folder, tiny_model_path, monkeypatch, capsys):
    runs, out = tmp_path / "runs", tmp_path / "out"
    calls = _fake_training(monkeypatch, runs, tiny_model_path)
    leave_one_out.main(["--name", "r", "--data", str(busi_folder), "--data", str(busbra_folder), "--runs", str(runs),
                        "--out", str(out), "--scanners", str(busbra_folder), "--", "--epochs", "1"])
    toshiba = next(c for c in calls if "Toshiba Aplio 300" in c)
    assert toshiba[toshiba.index("--exclude-device") + 1] == "Toshiba Aplio 300"
    assert toshiba.count("--data") == 2  # both datasets, less that scanner
    s = json.loads((out / "r" / "without_toshiba_aplio_300" / "summary.json").read_text())
    assert list(s["by_device"]) == ["Toshiba Aplio 300"]
    assert "| r | Toshiba Aplio 300 |" in capsys.readouterr().out


def test_named_scanners_alone_are_left_out_in_the_order_given(
        tmp_path, busi_folder, busbra_folder, tiny_model_path, monkeypatch):
    runs, out = tmp_path / "runs", tmp_path / "out"
    calls = _fake_training(monkeypatch, runs, tiny_model_path)
    leave_one_out.main(["--name", "r", "--data", str(busi_folder), "--data", str(busbra_folder), "--runs", str(runs),
                        "--out", str(out), "--scanners", str(busbra_folder), "--device", "Toshiba Aplio 300",
                        "--device", "GE Logiq 7"])
    # no left-out centre is trained, only the two scanners, in the order named
    assert [c[c.index("--exclude-device") + 1] for c in calls] == ["Toshiba Aplio 300", "GE Logiq 7"]
    assert sorted(p.name for p in (out / "r").iterdir()) == ["without_ge_logiq_7", "without_toshiba_aplio_300"]


def test_a_scanner_the_folder_lacks_is_refused_with_the_scanners_it_has(tmp_path, busi_folder, busbra_folder, capsys):
    with pytest.raises(SystemExit):
        leave_one_out.main(["--name", "r", "--data", str(busi_folder), "--data", str(busbra_folder),
                            "--runs", str(tmp_path), "--out", str(tmp_path), "--scanners", str(busbra_folder),
                            "--device", "Philips"])
    err = capsys.readouterr().err
    assert "no images of Philips" in err and "Toshiba Aplio 300" in err


def test_train_settings_leave_a_scanner_out(busbra_folder, tmp_path):
    from core.training.dataprep import prepare_data
    from core.training.run import RunFolder
    from core.training.settings import TrainSettings

    s = TrainSettings(data=[str(busbra_folder)], out=str(tmp_path / "run"), image_size=32,
                      exclude_devices=["Toshiba Aplio 300"])
    arrays, loaded, _ = prepare_data(s, RunFolder(s.out), log=lambda *_: None)
    devices = {lc.case.device for side in loaded.values() for lc in side}
    assert devices == {"GE Logiq 7"}


def test_a_left_out_scanners_row_carries_the_networks_figure_on_the_scanners_it_saw(tmp_path, tiny_model_path):
    model = str(tmp_path / "m.keras")
    shutil.copy(tiny_model_path, model)
    write_card(model, {"name": "m", "test_metrics_by_device": {
        "GE Logiq 7": {"n_lesion": 3, "dice_mean": 0.8}, "Toshiba": {"n_lesion": 1, "dice_mean": 0.4},
        "U-Systems": {"n_lesion": 0, "dice_mean": None}, "unknown": {"n_lesion": 5, "dice_mean": 0.1}}})
    # BUSI's images name no scanner ("unknown"), and a scanner without test lesions adds nothing
    assert leave_one_out.seen_scanners(model, "Toshiba") == {
        "dice_mean": pytest.approx(0.8), "n_lesion": 3, "scanners": ["GE Logiq 7"]}
    pooled = leave_one_out.seen_scanners(model, "Philips")
    assert pooled["dice_mean"] == pytest.approx((3 * 0.8 + 1 * 0.4) / 4) and pooled["n_lesion"] == 4
    assert leave_one_out.seen_scanners(tiny_model_path, "Toshiba") is None  # a card without per-scanner figures


def test_a_gated_networks_left_out_figures_are_also_given_without_its_gate(tmp_path, tiny_model_path, busbra_folder):
    model = str(tmp_path / "m.keras")
    shutil.copy(tiny_model_path, model)
    # a gate no lesion score can reach: with it every lesion is emptied; without it, only the threshold decides
    write_card(model, {"name": "m", "threshold": 0.5, "input": {"size": 32}, "lesion_gate": {"min_score": 1.01}})
    s = leave_one_out.score_left_out(model, busbra_folder, str(tmp_path / "out"), "Toshiba Aplio 300")
    assert s["overall"]["n_unmarked"] == s["overall"]["n_lesion"] > 0
    ungated = s["without_gate"]
    assert ungated["gate"] == 1.01 and ungated["n_lesion"] == s["overall"]["n_lesion"]
    assert ungated["n_unmarked"] <= s["overall"]["n_unmarked"] and ungated["dice_mean"] >= s["overall"]["dice_mean"]
    entry = leave_one_out.card_entry("r", "Toshiba Aplio 300", ["BUSI"], s, "", "scanner")
    assert entry["without_gate"] == ungated
    # an ungated network has nothing to add
    plain = leave_one_out.score_left_out(tiny_model_path, busbra_folder, str(tmp_path / "out2"), "Toshiba Aplio 300")
    assert plain["without_gate"] is None
