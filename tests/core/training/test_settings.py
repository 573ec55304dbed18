"""core.training.settings: TrainSettings is the one schema from the page through the job runner to core.train."""
import pytest

from core.training import jobs
from core.training.settings import TrainSettings, command_line, parse_args


def test_the_command_line_carries_every_setting_the_page_and_the_cli_can_change():
    s = TrainSettings(data=["/d/busi", "/d/busbra"], out="/r/run", epochs=3, image_size=128, base_filters=8,
                      top_filters=6, batch_size=4, learning_rate=3e-4, loss="bce", augment=False, augment_strength="basic", seed=7,
                      init_weights="/w/a.keras", split_from="/r/split.json", max_cases=20, name="n",
                      compare_with="/w/b.keras", lr_schedule="plateau", fit_on="train", fixed_threshold=0.4,
                      cleanup_data=True, negative_crops=True, exclude_devices=["Toshiba Aplio 300"],
                      dataset_weights={"busi": 1.5}, workers=2, norm="group",
                      distil_from="/w/teacher.keras", distil_weight=0.3)
    back, resume = parse_args(command_line(s, resume=True))
    back.extra = {}  # parse_args records the argv it was given
    assert back == s and resume


def test_only_changed_settings_are_written():
    assert command_line(TrainSettings(data="/d", out="/r")) == ["--data", "/d", "--out", "/r"]


def test_a_misspelled_or_unknown_setting_fails_loudly():
    with pytest.raises(TypeError, match="epoch"):
        TrainSettings(data="/d", epoch=3)
    with pytest.raises(ValueError, match="val_fraction"):
        command_line(TrainSettings(data="/d", out="/r", val_fraction=0.2))  # core.train cannot carry it


def test_the_job_runner_takes_train_settings_not_a_dict():
    with pytest.raises(TypeError, match="TrainSettings"):
        jobs.start_job({"data": "/d", "epoch": 3})
