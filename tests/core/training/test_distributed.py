"""core.train --workers N: MultiWorkerMirroredStrategy over local processes, the chief alone writing the run folder.

Two local CPU workers stand in for two hosts. Training needs no Ray (TF_CONFIG and processes: see
core.training.distributed), so these tests run wherever TensorFlow does.
"""
import json
import os
import signal
import sys
import threading

import pytest

from core import train
from core.inference.predictor import Predictor
from core.training import distributed
from core.training.settings import TrainSettings


def test_two_workers_train_a_loadable_model_with_a_card(tmp_path):
    from tests.helpers import write_busi_folder

    data = write_busi_folder(tmp_path / "Dataset_BUSI_with_GT", n_per_class=5, size=(48, 56))
    out = tmp_path / "run"
    assert train.main(["--data", data, "--out", str(out), "--epochs", "1", "--image-size", "32", "--base-filters",
                       "4", "--depth", "2", "--batch-size", "4", "--seed", "1", "--workers", "2"]) == 0
    for name in ("status.json", "metrics.csv", "settings.json", "split.json", "last.keras", "best.keras",
                 "model.keras", "model.card.json", "model.card.md"):
        assert (out / name).is_file(), name
    # nothing half-written or left by another worker: only the chief wrote here, and atomically
    assert not [n for n in os.listdir(out) if n.startswith(".")]
    status = json.loads((out / "status.json").read_text())
    assert status["state"] == "done" and status["epoch"] == 1
    card = json.loads((out / "model.card.json").read_text())
    assert card["training"]["device"].startswith("2 workers (MultiWorkerMirroredStrategy)")
    assert card["settings"]["workers"] == 2 and card["test_metrics"]["n_images"] > 0
    p = Predictor.load(str(out / "model.keras"))
    assert p.image_size == 32 and p.threshold == card["threshold"]


def fake_settings(tmp_path, workers=2):
    return TrainSettings(data=str(tmp_path), out=str(tmp_path / "run"), workers=workers)


def test_cancel_stops_every_worker_and_marks_the_run_cancelled(tmp_path):
    pids_file = tmp_path / "pids"
    # stand-in workers that record their pid and would run for a minute
    worker = [sys.executable, "-c", f"import os, time; open({str(pids_file)!r}, 'a').write(f'{{os.getpid()}}\\n'); "
                                    "time.sleep(60)"]

    def cancel_when_started():
        for _ in range(200):
            if pids_file.exists() and len(pids_file.read_text().split()) == 2:
                break
            threading.Event().wait(0.05)
        os.kill(os.getpid(), signal.SIGTERM)  # what the Train page's cancel sends the launcher

    threading.Thread(target=cancel_when_started, daemon=True).start()
    before = signal.getsignal(signal.SIGTERM)
    rc = distributed.launch_local_workers(fake_settings(tmp_path), [], log=lambda *a: None, poll_s=0.05,
                                          command=worker)
    assert rc == 130
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "cancelled"
    for pid in map(int, pids_file.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert signal.getsignal(signal.SIGTERM) == before  # the launcher gives its handlers back


def test_a_failed_worker_stops_the_others_and_fails_the_run(tmp_path):
    # worker 1 fails at once; worker 0 would otherwise wait for it forever
    worker = [sys.executable, "-c", "import json, os, sys, time; "
                                    "i = json.loads(os.environ['TF_CONFIG'])['task']['index']; "
                                    "sys.exit(3) if i == 1 else time.sleep(60)"]
    rc = distributed.launch_local_workers(fake_settings(tmp_path), [], log=lambda *a: None, poll_s=0.05,
                                          command=worker)
    assert rc == 1
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "failed" and "worker 1 stopped with exit code 3" in status["message"]


def test_tf_config_names_this_worker(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distributed.worker_task() is None
    monkeypatch.setenv("TF_CONFIG", distributed.local_tf_config([1111, 2222, 3333], 2))
    assert distributed.worker_task() == (2, 3)


def test_a_worker_count_that_disagrees_with_tf_config_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", distributed.local_tf_config([1111, 2222], 0))
    assert train.main(["--data", str(tmp_path), "--out", str(tmp_path / "run"), "--workers", "3"]) == 2
    assert "TF_CONFIG names 2 workers but --workers is 3" in capsys.readouterr().err
