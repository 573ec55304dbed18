"""Training jobs: start ``python -m core.train`` in its own process, find it again, cancel it.

One job at a time: a lock file in the runs folder names the job's process id
and run folder. It is created with O_EXCL, so two starts cannot both win, and
a lock whose process has died is stale and cleared. The page only ever reads
the run folder; a reload or a second tab finds the same job through the lock.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace

from core.files import read_json, write_json_atomic
from core.locations import PROJECT_ROOT, runs_dir
from core.training.run import CANCELLED, FAILED, FINAL_STATES, RunFolder
from core.training.settings import TrainSettings, command_line


class JobError(RuntimeError):
    """A job cannot be started or controlled; the message says why."""


DIED = "the training process ended unexpectedly (killed or crashed); see train.log"


def _lock_path() -> str:
    return os.path.join(runs_dir(), "train.lock")


def pid_alive(pid: int | None) -> bool:
    """True while the process runs (a finished child of ours is reaped, not counted)."""
    if not pid:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall through to the signal probe
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read_lock() -> dict | None:
    return read_json(_lock_path())


def current_job() -> str | None:
    """The run folder of the running job, or None. Clears a stale lock."""
    lock = _read_lock()
    if not lock:
        return None
    if pid_alive(lock.get("pid")):
        return lock.get("run_dir")
    _finish_dead_run(lock.get("run_dir"))
    try:
        os.remove(_lock_path())
    except FileNotFoundError:
        pass
    return None


def _finish_dead_run(run_dir: str | None) -> None:
    """A job whose process is gone without a final state crashed (or was killed): say so."""
    if not run_dir or not os.path.isdir(run_dir):
        return
    run = RunFolder(run_dir)
    st = run.read_status()
    if st.get("state") not in FINAL_STATES:
        st.update(state=FAILED, message=st.get("message") or DIED, updated_at=time.time())
        try:
            write_json_atomic(run.status, st)
        except OSError:
            pass  # a full disk: run_info reports the run as failed all the same, from the dead process


def train_command(settings: TrainSettings, resume: bool = False) -> list[str]:
    """The exact command line the page runs (and a user can run by hand): core.train with these settings."""
    return [sys.executable, "-m", "core.train", *command_line(settings, resume)]


def new_run_dir(name: str = "run") -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:40] or "run"
    base = os.path.join(runs_dir(), time.strftime("%Y%m%d-%H%M%S") + f"_{safe}")
    path, i = base, 1
    while os.path.exists(path):
        i += 1
        path = f"{base}-{i}"
    return path


def start_job(settings: TrainSettings) -> str:
    """Start a training process for these settings, into settings.out or (empty) a new folder in the runs folder;
    refuse when one is already running. Returns the run folder."""
    if not isinstance(settings, TrainSettings):  # a dict would lose any misspelled key on the way
        raise TypeError(f"start_job takes TrainSettings, not {type(settings).__name__}")
    train_command(settings)  # a setting the command line cannot carry fails here, before any folder is made
    os.makedirs(runs_dir(), exist_ok=True)
    running = current_job()
    if running:
        raise JobError(f"a training job is already running ({os.path.basename(running)}); "
                       "wait for it to finish or cancel it first")
    run_dir = settings.out or new_run_dir(settings.name)
    settings = replace(settings, out=run_dir)
    try:
        fd = os.open(_lock_path(), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError as exc:
        raise JobError("another training job was started at the same moment; only one runs at a time") from exc
    try:
        os.makedirs(run_dir, exist_ok=True)
        RunFolder(run_dir).update_status(state="starting", message="starting the training process")
        log = open(os.path.join(run_dir, "train.log"), "ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(train_command(settings), cwd=PROJECT_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        log.close()
        os.write(fd, json.dumps({"pid": proc.pid, "run_dir": run_dir, "started_at": time.time()}).encode())
    except Exception:
        os.close(fd)
        os.remove(_lock_path())
        raise
    os.close(fd)
    return run_dir


def cancel_job(wait_s: float = 30.0) -> bool:
    """Ask the running job to stop (SIGTERM, then SIGKILL after wait_s). True if one was running."""
    lock = _read_lock()
    if not lock or not pid_alive(lock.get("pid")):
        current_job()
        return False
    pid = lock["pid"]
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.time() + wait_s
    while time.time() < deadline and pid_alive(pid):
        time.sleep(0.2)
    if pid_alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        time.sleep(0.2)
    run = RunFolder(lock["run_dir"])
    st = run.read_status()
    if st.get("state") not in FINAL_STATES or st.get("state") == FAILED:
        st.update(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}", updated_at=time.time())
        write_json_atomic(run.status, st)
    current_job()
    return True


@dataclass
class RunInfo:
    path: str
    name: str
    status: dict
    state: str
    running: bool
    has_model: bool


def run_info(run_dir: str) -> RunInfo:
    run = RunFolder(run_dir)
    st = run.read_status()
    running = current_job() == run.path
    state = st.get("state", "unknown")
    if not running and state not in FINAL_STATES:
        state = FAILED if st else "unknown"
        if st:  # its process is gone without saying why (and its folder could not take the word)
            st = {**st, "message": st.get("message") or DIED}
    return RunInfo(run.path, os.path.basename(run.path), st, state, running, os.path.isfile(run.model))


def list_runs() -> list[RunInfo]:
    rd = runs_dir()
    if not os.path.isdir(rd):
        return []
    return [run_info(os.path.join(rd, n)) for n in sorted(os.listdir(rd), reverse=True)
            if os.path.isfile(os.path.join(rd, n, "status.json"))]


# Training throughput measured on the 2-core CPU this was developed on (images/s
# at 256x256, batch 8, XLA; see shared NOTES and experiments/LOG.md, "Speed"). Cost scales with pixels.
CPU_IMAGES_PER_S_256 = {8: 8.5, 12: 5.9, 16: 3.9, 32: 0.85, 64: 0.27}


def estimate_seconds(n_train: int, epochs: int, image_size: int, base_filters: int, gpu: bool = False) -> float | None:
    """A rough training-time estimate for this machine's CPU; None when we have no measurement (GPU)."""
    if gpu:
        return None
    known = sorted(CPU_IMAGES_PER_S_256)
    f = min(known, key=lambda k: abs(k - base_filters))
    rate = CPU_IMAGES_PER_S_256[f] * (f / base_filters) ** 2 * (256 / image_size) ** 2
    per_epoch = n_train / rate * 1.15 + 5  # + validation and checkpointing
    return epochs * per_epoch + 30  # + start-up and XLA compilation
