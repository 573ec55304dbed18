"""core.train and core.evaluate end to end on a tiny synthetic BUSI folder."""
import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from core import evaluate, predict, train
from core.evaluation import folder, tables
from core.inference.predictor import Predictor
from core.training import batches, trainer
from core.training import settings as settings_mod


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    from tests.helpers import write_busi_folder

    base = tmp_path_factory.mktemp("train")
    data = write_busi_folder(base / "Dataset_BUSI_with_GT", n_per_class=5, size=(48, 56))
    out = str(base / "run")
    rc = train.main(["--data", data, "--out", out, "--epochs", "1", "--image-size", "32", "--base-filters", "4",
                     "--depth", "2", "--batch-size", "4", "--seed", "1"])
    assert rc == 0
    return data, out


def test_run_folder_has_everything(trained_run):
    data, out = trained_run
    for name in ("status.json", "metrics.csv", "settings.json", "split.json", "last.keras", "best.keras",
                 "model.keras", "model.card.json", "model.card.md"):
        assert os.path.isfile(os.path.join(out, name)), name
    status = json.load(open(os.path.join(out, "status.json")))
    assert status["state"] == "done" and status["epoch"] == 1 and status["pid"] > 0
    rows = list(csv.DictReader(open(os.path.join(out, "metrics.csv"))))
    assert len(rows) == 1 and "val_mask_dice_coef" in rows[0]
    card = json.load(open(os.path.join(out, "model.card.json")))
    assert card["test_metrics"]["n_images"] == len(json.load(open(os.path.join(out, "split.json")))["split"]["test"])
    # every test lesion falls in exactly one size band on the card, and the Markdown lists the breakdown
    t = card["test_metrics"]
    assert t["by_size"] and sum(b["n"] for b in t["by_size"]) == t["n_lesion"]
    assert sum(b["n_unmarked"] for b in t["by_size"]) == t["n_unmarked"] <= t["n_missed"]
    assert "By lesion size (share of the image)" in open(os.path.join(out, "model.card.md")).read()
    assert "Al-Dhabyani" in card["citation"] and "not a diagnosis" in card["intended_use"].lower()
    assert 0.0 < card["threshold"] < 1.0


def test_split_keeps_classes_and_writes_manifest(trained_run):
    _, out = trained_run
    split = json.load(open(os.path.join(out, "split.json")))["split"]
    assert sorted(sum(split.values(), [])) == sorted(set(sum(split.values(), [])))
    assert len(sum(split.values(), [])) == 15


def test_resume_continues_from_the_last_epoch(trained_run, tmp_path):
    import shutil

    data, out = trained_run
    copy = str(tmp_path / "run")
    shutil.copytree(out, copy)
    rc = train.main(["--data", data, "--out", copy, "--epochs", "2", "--resume"])
    assert rc == 0
    rows = list(csv.DictReader(open(os.path.join(copy, "metrics.csv"))))
    assert [r["epoch"] for r in rows] == ["1", "2"]
    settings = json.load(open(os.path.join(copy, "settings.json")))
    assert settings["base_filters"] == 4 and settings["epochs"] == 2


def test_evaluate_agrees_with_an_independent_computation_from_predicted_masks(trained_run, tmp_path):
    data, out = trained_run
    model = os.path.join(out, "model.keras")
    ev_out = tmp_path / "ev"
    assert evaluate.main(["--data", data, "--weights", model, "--threshold", "0.5", "--out", str(ev_out)]) == 0
    per_image = {r["key"]: r for r in csv.DictReader(open(ev_out / "per_image.csv"))}
    summary = json.load(open(ev_out / "summary.json"))
    # independent: predict masks with core.predict, then Dice straight from the PNGs
    pred_out = tmp_path / "pred"
    assert predict.main([data, "--out", str(pred_out), "--weights", model, "--threshold", "0.5"]) == 0
    dices = []
    for label in ("benign", "malignant"):
        for name in sorted(os.listdir(os.path.join(data, label))):
            if "_mask" in name:
                continue
            stem = os.path.splitext(name)[0]
            gt = np.zeros(Image.open(os.path.join(data, label, name)).size[::-1], bool)
            for m in os.listdir(os.path.join(data, label)):
                if m.startswith(stem + "_mask"):
                    a = np.array(Image.open(os.path.join(data, label, m)).convert("L")) > 127
                    gt |= a
            pr = np.array(Image.open(pred_out / f"{stem}_pred.png")) > 127
            inter = (gt & pr).sum()
            d = 1.0 if gt.sum() + pr.sum() == 0 else 2 * inter / (gt.sum() + pr.sum())
            dices.append(d)
            assert float(per_image[f"{label}/{stem}"]["dice"]) == pytest.approx(d, abs=1e-9)
    assert summary["dice_mean"] == pytest.approx(np.mean(dices), abs=1e-9)
    assert summary["n_normal"] == 5 and summary["false_alarm_rate"] is not None


def test_evaluate_on_the_models_own_test_split(trained_run, tmp_path):
    data, out = trained_run
    p = Predictor.load(os.path.join(out, "model.keras"))
    ev = folder.evaluate_folder(p, data, split="test")
    test_keys = json.load(open(os.path.join(out, "split.json")))["split"]["test"]
    assert sorted(r["key"] for r in ev.rows) == sorted(test_keys)
    assert ev.seen == 0 and folder.seen_warning(ev) == ""


def test_evaluate_says_how_many_images_the_model_trained_on(trained_run):
    data, out = trained_run
    p = Predictor.load(os.path.join(out, "model.keras"))
    ev = folder.evaluate_folder(p, data)
    split = json.load(open(os.path.join(out, "split.json")))["split"]
    assert ev.seen == len(split["train"]) + len(split["val"]) > 0
    assert folder.seen_warning(ev).startswith(f"{ev.seen} of these {len(ev.rows)} images were in model.keras's training")
    assert "note: " + folder.seen_warning(ev) in tables.format_summary(ev)


def test_evaluate_command_says_when_the_figures_are_not_held_out(trained_run, capsys):
    data, out = trained_run
    model = os.path.join(out, "model.keras")
    assert evaluate.main(["--data", data, "--weights", model, "--split", "train"]) == 0
    assert "not held-out figures" in capsys.readouterr().err
    assert evaluate.main(["--data", data, "--weights", model, "--split", "val"]) == 0
    assert "not held-out" not in capsys.readouterr().err  # an ordinary run never trained on val


def test_training_on_a_broken_folder_fails_cleanly(tmp_path):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "run"
    assert train.main(["--data", str(tmp_path / "empty"), "--out", str(out), "--epochs", "1"]) == 1
    status = json.load(open(out / "status.json"))
    assert status["state"] == "failed" and "BUSI" in status["message"]
    assert not (out / "model.keras").exists()


def test_image_dice_by_hand():
    from core.training.loop import image_dice_mean

    gt = np.zeros((3, 4, 4, 1), np.float32)
    gt[0, :2, :2] = 1          # 4 px lesion
    prob = np.zeros_like(gt)
    prob[0, :2, :3] = 0.9      # 6 px predicted: Dice 8/10
    prob[2, 0, 0] = 0.9        # a false alarm on an empty image: 0
    # image 1 is empty and left empty: 1
    assert image_dice_mean(prob, gt) == pytest.approx((0.8 + 1.0 + 0.0) / 3)


def test_cosine_schedule_and_image_dice_selection(tmp_path):
    import keras

    from tests.helpers import write_busi_folder

    data = write_busi_folder(tmp_path / "d", n_per_class=4, size=(40, 40))
    out = tmp_path / "run"
    assert train.main(["--data", data, "--out", str(out), "--epochs", "2", "--image-size", "32", "--base-filters", "4",
                       "--top-filters", "2", "--depth", "2", "--batch-size", "4", "--lr-schedule", "cosine"]) == 0
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert all(0.0 <= float(r["val_image_dice"]) <= 1.0 for r in rows)
    card = json.load(open(out / "model.card.json"))
    assert card["training"]["selected_by"] == "val_image_dice"
    # the full-resolution level's own width reaches the network and its card
    assert card["architecture"]["top_filters"] == 2 and "2 at full resolution" in card["architecture"]["summary"]
    model = keras.models.load_model(out / "model.keras", compile=False)
    assert model.get_layer("enc0_conv1").get_weights()[0].shape[-1] == 2
    assert model.get_layer("enc1_conv1").get_weights()[0].shape[-1] == 8


@pytest.mark.parametrize("strength", sorted(settings_mod.AUGMENT_RANGES))
def test_augmentation_moves_image_and_mask_together(strength, monkeypatch):
    # A bright square on a dark field, its mask exactly the square: after any
    # augmentation the bright pixels must still be the mask's pixels. The ultrasound
    # artefacts (shadows, depth attenuation) darken the square on purpose, so this test
    # of the geometry runs without them; tests/core/training/test_negatives.py covers them.
    monkeypatch.setitem(batches.AUGMENT_RANGES, strength, {**batches.AUGMENT_RANGES[strength], "artefacts": 0})
    mask = np.zeros((64, 64), bool)
    mask[16:40, 20:52] = True
    image = np.where(mask, 220, 20).astype(np.uint8)
    rng = np.random.default_rng(3)
    moved = 0
    for _ in range(40):
        x, y = batches._augment(image, mask, rng, strength)
        assert x.shape == (64, 64) and y.dtype == bool and 0.0 <= x.min() and x.max() <= 1.0
        agreement = ((x > 0.35) == y).mean()
        assert agreement > 0.95, agreement
        moved += not np.array_equal(y, mask)
    assert moved > 30  # the geometry really changes


def test_cli_records_augmentation_strength(tmp_path):
    s, _ = settings_mod.parse_args(["--data", "d", "--out", str(tmp_path), "--augment", "basic"])
    assert s.augment and s.augment_strength == "basic"
    s, _ = settings_mod.parse_args(["--data", "d", "--out", str(tmp_path), "--no-augment"])
    assert not s.augment
    assert settings_mod.parse_args(["--data", "d", "--out", str(tmp_path)])[0].augment_strength == "strong"


def test_train_plus_val_refit_keeps_the_last_epoch_and_its_fixed_threshold(tmp_path):
    from tests.helpers import write_busi_folder

    data = write_busi_folder(tmp_path / "d", n_per_class=4, size=(40, 40))
    out = tmp_path / "run"
    logged = []
    settings, _ = settings_mod.parse_args(["--data", data, "--out", str(out), "--epochs", "2", "--image-size", "32",
                                    "--base-filters", "4", "--depth", "2", "--batch-size", "4",
                                    "--fit-on", "train+val", "--fixed-threshold", "0.35"])
    card = trainer.train(settings, log=logged.append).to_dict()
    from core.data.split import read_manifest

    split = read_manifest(str(out / "split.json"))
    n_train, n_val = len(split["train"]), len(split["val"])
    # the network fitted train and val together: the start line says how many images it fitted
    assert any(f"fitting on train+val ({n_train + n_val} images)" in line for line in logged), logged
    assert card["threshold"] == 0.35
    assert card["training"]["fit_on"] == "train+val" and card["training"]["best_selection_value"] is None
    assert card["val_metrics_on_trained_images"] is True
    md = open(out / "model.card.md").read()
    assert "Trained on in this refit: not a held-out figure" in md and "fixed before training" in md
    # the shipped model is the last epoch's checkpoint, whatever the validation curve did
    import keras

    shipped = keras.models.load_model(out / "model.keras", compile=False).get_weights()
    last = keras.models.load_model(out / "last.keras", compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(shipped, last))


def test_an_image_filed_under_both_classes_is_left_out_of_validation_auc(tmp_path):
    import shutil

    from core.data.split import write_manifest
    from tests.helpers import write_busi_folder

    data = write_busi_folder(tmp_path / "d", n_per_class=4, size=(40, 40))
    # the same picture filed again as malignant: it has no true class, so no AUC may count it
    for suffix in (".png", "_mask.png"):
        shutil.copy(os.path.join(data, "benign", f"benign (2){suffix}"),
                    os.path.join(data, "malignant", f"malignant (9){suffix}"))
    manifest = str(tmp_path / "split.json")
    val = ["benign/benign (2)", "malignant/malignant (9)", "benign/benign (3)", "malignant/malignant (3)",
           "normal/normal (3)"]
    test = ["benign/benign (4)", "malignant/malignant (4)", "normal/normal (4)"]
    train_keys = ["benign/benign (1)", "malignant/malignant (1)", "malignant/malignant (2)", "normal/normal (1)",
                  "normal/normal (2)"]
    write_manifest(manifest, {"train": train_keys, "val": val, "test": test})
    out = tmp_path / "run"
    assert train.main(["--data", data, "--out", str(out), "--epochs", "1", "--image-size", "32",
                       "--base-filters", "4", "--depth", "2", "--batch-size", "4", "--split-from", manifest]) == 0
    card = json.load(open(out / "model.card.json"))
    # four validation lesions, two of them the conflicted pair: AUC counts the other two
    assert card["val_metrics"]["n_lesion"] == 4 and card["val_metrics"]["n_auc"] == 2
    assert card["test_metrics"]["n_auc"] == 2


def test_a_normal_run_fits_the_train_split_only(tmp_path):
    s, _ = settings_mod.parse_args(["--data", "d", "--out", str(tmp_path)])
    assert s.fit_on == "train" and s.fixed_threshold == 0.5 and s.lr_schedule == "cosine"  # the one default


def test_a_refit_refuses_a_schedule_that_follows_the_validation_curve(tmp_path, capsys):
    base = ["--data", "d", "--out", str(tmp_path), "--fit-on", "train+val"]
    assert settings_mod.parse_args(base)[0].lr_schedule == "cosine"
    with pytest.raises(SystemExit) as exc:
        settings_mod.parse_args(base + ["--lr-schedule", "plateau"])
    assert exc.value.code == 2 and "use --lr-schedule cosine" in capsys.readouterr().err


def test_with_several_gpus_training_goes_through_keras_fit(trained_run, tmp_path, monkeypatch):
    """fit splits each batch across GPUs (fit_epochs would hand every GPU the whole batch)."""
    import tensorflow as tf

    data, _ = trained_run
    default = tf.distribute.get_strategy()

    class TwoReplicas:  # stands in for MirroredStrategy over two GPUs, which this machine does not have
        num_replicas_in_sync = 2

        def scope(self):
            return default.scope()

    monkeypatch.setattr(trainer.runtime, "training_setup", lambda: (TwoReplicas(), False, "2 GPUs (stand-in)"))
    monkeypatch.setattr(trainer, "fit_epochs", lambda *a, **k: pytest.fail("fit_epochs used with several GPUs"))
    out = str(tmp_path / "run")
    assert train.main(["--data", data, "--out", out, "--epochs", "1", "--image-size", "32", "--base-filters", "4",
                       "--depth", "2", "--batch-size", "4", "--seed", "1"]) == 0
    rows = list(csv.DictReader(open(os.path.join(out, "metrics.csv"))))
    assert len(rows) == 1 and float(rows[0]["val_mask_dice_coef"]) >= 0
    assert json.load(open(os.path.join(out, "status.json")))["state"] == "done"


def test_evaluate_on_busbra_writes_dataset_and_device_tables_and_agrees_with_predicts_masks(trained_run, tmp_path):
    """On BUS-BRA's layout: every image scored, per-image rows carry dataset, device and class, the per-dataset and
    per-device tables are written, and the mean Dice agrees with Dice computed independently from core.predict's PNGs."""
    from tests.helpers import write_busbra_folder

    _, out = trained_run
    model = os.path.join(out, "model.keras")
    data = write_busbra_folder(tmp_path / "BUSBRA", patients=4)
    ev_out = tmp_path / "ev"
    assert evaluate.main(["--data", data, "--weights", model, "--out", str(ev_out)]) == 0
    rows = list(csv.DictReader(open(ev_out / "per_image.csv")))
    assert len(rows) == 6 and {r["dataset"] for r in rows} == {"busbra"}
    assert {r["device"] for r in rows} == {"GE Logiq 7", "Toshiba Aplio 300"} and {r["class"] for r in rows} == {"benign", "malignant"}
    by_device = list(csv.DictReader(open(ev_out / "by_device.csv")))
    assert sorted(r["device"] for r in by_device) == ["GE Logiq 7", "Toshiba Aplio 300"]
    assert sum(int(r["images"]) for r in by_device) == 6 and "Dice 95 % interval" in by_device[0]
    assert [r["dataset"] for r in csv.DictReader(open(ev_out / "by_dataset.csv"))] == ["busbra"]
    pred_out = tmp_path / "pred"
    assert predict.main([os.path.join(data, "Images"), "--out", str(pred_out), "--weights", model]) == 0
    for r in rows:
        ident = r["key"].split("/")[1]
        gt = np.array(Image.open(os.path.join(data, "Masks", ident.replace("bus_", "mask_") + ".png"))) > 127
        pr = np.array(Image.open(pred_out / f"{ident}_pred.png")) > 127
        total = gt.sum() + pr.sum()
        assert float(r["dice"]) == pytest.approx(1.0 if total == 0 else 2 * (gt & pr).sum() / total, abs=1e-9)
    # patients 2 and 4 (two images each) were scanned on the GE, 1 and 3 on the Toshiba
    assert json.load(open(ev_out / "summary.json"))["by_device"]["GE Logiq 7"]["n_images"] == 4


def test_training_on_busi_and_busbra_together_with_a_dataset_weight(tmp_path):
    from tests.helpers import write_busbra_folder, write_busi_folder

    busi = write_busi_folder(tmp_path / "busi", n_per_class=4, size=(48, 56))
    busbra = write_busbra_folder(tmp_path / "busbra", patients=8, size=(60, 44))
    out = tmp_path / "run"
    logged = []
    settings, _ = settings_mod.parse_args(["--data", busi, "--data", busbra, "--dataset-weight", "busi=3",
                                           "--out", str(out), "--epochs", "1", "--image-size", "32",
                                           "--base-filters", "4", "--depth", "2", "--batch-size", "4"])
    card = trainer.train(settings, log=logged.append).to_dict()
    manifest = json.load(open(out / "split.json"))
    # stratified by dataset and class: both datasets on every side; a patient's two images on one side
    assert all(set(manifest["by_dataset"][side]) == {"busi", "busbra"} for side in ("train", "val", "test"))
    side = {k: s for s, v in manifest["split"].items() for k in v}
    assert side["busbra/bus_0002-l"] == side["busbra/bus_0002-r"]
    # each BUSI image drawn 3x as often as a BUS-BRA one: busi 3n / (3n + m) of the draws
    n_busi = sum(k.split("/")[0] != "busbra" for k in manifest["split"]["train"])
    n_bra = manifest["by_dataset"]["train"]["busbra"]
    assert any(f"busi {3 * n_busi / (3 * n_busi + n_bra):.0%}" in line for line in logged)
    assert set(card["test_metrics_by_dataset"]) == {"busi", "busbra"}
    assert card["data"]["counts_by_dataset"]["busbra"]["malignant"] == 8 and card["settings"]["dataset_weights"] == {"busi": 3.0}


def test_a_bad_dataset_weight_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        settings_mod.parse_args(["--data", "d", "--out", str(tmp_path), "--dataset-weight", "busi"])
    assert "write NAME=W" in capsys.readouterr().err
