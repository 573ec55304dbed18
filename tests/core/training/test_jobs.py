"""core.jobs: training as a separate process, one at a time, cancellable, never harming the active model."""
import hashlib
import os
import signal
import time

import pytest

from core.cards import registry
from core.inference.predictor import Predictor
from core.training import jobs
from core.training.settings import TrainSettings
from tests.helpers import card_json


def _wait(pred, timeout=240, every=0.5):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(every)
    return False


def _settings(data, epochs, **more):
    return TrainSettings(data=data, epochs=epochs, image_size=32, base_filters=4, batch_size=4, name="test", seed=0,
                         **more)


def _digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_a_job_runs_to_done_and_its_model_loads(isolated_dirs, busi_folder):
    run_dir = jobs.start_job(_settings(busi_folder, 1, compare_with=registry.active_model_path()))
    assert jobs.current_job() == run_dir
    assert _wait(lambda: jobs.current_job() is None), "job did not finish"
    info = jobs.run_info(run_dir)
    assert info.state == "done", open(os.path.join(run_dir, "train.log")).read()[-3000:]
    model = os.path.join(run_dir, "model.keras")
    assert Predictor.load(model).predict(__import__("numpy").zeros((40, 40), "uint8")).probability.shape == (40, 40)
    card = card_json(model)
    assert card["comparison"]["test_metrics"]["n_images"] == card["test_metrics"]["n_images"]
    # the two models are also compared image by image on those test images
    diff = card["comparison"]["dice_difference"]
    assert diff["n"] == card["test_metrics"]["n_lesion"] >= 2 and diff["ci"][0] <= diff["mean"] <= diff["ci"][1]
    assert "on the same images: Mean Dice, this model − that one" in open(model.replace(".keras", ".card.md")).read()
    assert any(m.path == os.path.abspath(model) for m in registry.list_models())
    registry.set_active_model(model)
    assert registry.active_model_path() == os.path.abspath(model)


def test_second_start_is_refused_and_cancel_leaves_the_active_model_unchanged(isolated_dirs, busi_folder):
    weights, _ = isolated_dirs
    active = registry.active_model_path()
    before = _digest(active)
    run_dir = jobs.start_job(_settings(busi_folder, 200))
    with pytest.raises(jobs.JobError, match="already running"):
        jobs.start_job(_settings(busi_folder, 1))
    assert _wait(lambda: jobs.run_info(run_dir).status.get("state") == "training"
                 and jobs.run_info(run_dir).status.get("epoch", 0) >= 1)
    assert jobs.cancel_job()
    info = jobs.run_info(run_dir)
    assert info.state == "cancelled" and not info.running
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))
    assert _digest(active) == before
    assert registry.active_model_path() == active
    assert jobs.current_job() is None


def test_a_killed_job_is_reported_as_failed_and_the_lock_is_freed(isolated_dirs, busi_folder):
    active = registry.active_model_path()
    before = _digest(active)
    run_dir = jobs.start_job(_settings(busi_folder, 200))
    lock = jobs._read_lock()
    assert _wait(lambda: jobs.run_info(run_dir).status.get("state") == "training")
    os.killpg(lock["pid"], signal.SIGKILL)
    assert _wait(lambda: jobs.current_job() is None, timeout=30)
    assert jobs.run_info(run_dir).state == "failed"
    assert _digest(active) == before
    # and a new job may start again
    assert jobs.start_job(_settings(busi_folder, 1))
    jobs.cancel_job()


def test_the_shipped_default_cannot_be_deleted(isolated_dirs):
    with pytest.raises(PermissionError):
        registry.delete_model(registry.default_model_path())
    assert os.path.isfile(registry.default_model_path())


def test_time_estimates_scale_with_work():
    a = jobs.estimate_seconds(400, 10, 256, 16)
    assert jobs.estimate_seconds(400, 20, 256, 16) > a > jobs.estimate_seconds(400, 10, 128, 16)
    assert jobs.estimate_seconds(400, 10, 256, 16, gpu=True) is None
