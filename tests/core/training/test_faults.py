"""Faults under a training run: a disk that fills under its folder, a worker whose folder cannot take its end.

The disk is filled by injection (writes raising ENOSPC), not by a real full filesystem, so the tests are
deterministic and need no root. The killed worker: tests/core/training/test_jobs.py."""
import errno
import hashlib
import json
import os
import subprocess
import sys

import pytest

from core import train as train_cli
from core.cards import registry
from core.training import jobs, loop
from core.training.run import RunFolder
from core.training.settings import TrainSettings, command_line

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def _digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_a_full_disk_is_named_as_such():
    msg = train_cli.failure_message(OSError(errno.ENOSPC, "No space left on device"), "/runs/r1")
    assert msg.startswith("the disk is full under /runs/r1 (No space left on device)") and "resume" in msg
    assert train_cli.failure_message(ValueError("bad"), "/runs/r1") == "ValueError: bad"


def test_a_disk_that_fills_mid_run_fails_it_with_that_reason_and_keeps_the_last_checkpoint(
        isolated_dirs, busi_folder, monkeypatch):
    import keras

    active = registry.active_model_path()
    before = _digest(active)
    run_dir = str(isolated_dirs[1] / "full")
    settings = TrainSettings(data=busi_folder, epochs=3, image_size=32, base_filters=4, batch_size=4, name="full",
                             seed=0, out=run_dir, augment=False)
    real_save = loop.save_model_atomic
    saves = []

    def save_until_full(model, path):
        saves.append(os.path.basename(path))
        if saves.count("last.keras") > 1 and path.endswith("last.keras"):  # epoch 2's checkpoint: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", path)
        real_save(model, path)

    monkeypatch.setattr(loop, "save_model_atomic", save_until_full)
    assert train_cli.main(command_line(settings)) == 1
    status = RunFolder(run_dir).read_status()
    assert status["state"] == "failed" and status["message"].startswith(f"the disk is full under {run_dir}")
    assert keras.models.load_model(os.path.join(run_dir, "last.keras"), compile=False)  # epoch 1's, whole
    assert not os.path.exists(os.path.join(run_dir, "model.keras"))
    assert _digest(active) == before and registry.active_model_path() == active


def test_when_even_the_status_cannot_be_replaced_it_is_overwritten_in_place(tmp_path, monkeypatch):
    run = RunFolder(str(tmp_path / "r"))
    run.update_status(state="training", epoch=4, message="")
    monkeypatch.setattr("core.files._tmp_path", lambda path: (_ for _ in ()).throw(ENOSPC))
    train_cli.record_failure(run, "the disk is full under r", "trace")
    status = json.load(open(run.status))
    assert status["state"] == "failed" and status["message"] == "the disk is full under r" and status["epoch"] == 4


def test_a_dead_job_whose_folder_cannot_be_written_is_still_shown_as_failed(isolated_dirs, monkeypatch):
    _, runs = isolated_dirs
    run = RunFolder(str(runs / "r1"))
    run.update_status(state="training", epoch=2, message="")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that has ended
    with open(os.path.join(runs, "train.lock"), "w") as fh:
        json.dump({"pid": dead.pid, "run_dir": run.path}, fh)
    monkeypatch.setattr(jobs, "write_json_atomic", lambda *a: (_ for _ in ()).throw(ENOSPC))
    assert jobs.current_job() is None  # answers; the stale lock is cleared
    info = jobs.run_info(run.path)
    assert info.state == "failed" and not info.running and "ended unexpectedly" in info.status["message"]
    assert [r.state for r in jobs.list_runs()] == ["failed"]


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EDQUOT])
def test_quota_and_full_disk_read_the_same(err):
    assert "the disk is full" in train_cli.failure_message(OSError(err, os.strerror(err)), "/r")
