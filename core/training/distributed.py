"""Training on several workers: tf.distribute.MultiWorkerMirroredStrategy, one process per worker.

    python -m core.train ... --workers N

Without TF_CONFIG in the environment this process is the *launcher*: it starts N local
worker processes (the same command, each with a TF_CONFIG naming the others on
localhost), watches them and answers cancel. With TF_CONFIG set (by the launcher, or on
each host by whatever starts jobs there: a Kubernetes TFJob, a Slurm script, by hand),
this process is *one worker*. Every worker holds a replica of the network; each batch is
split across them and the gradients are summed after every step (all-reduce), so N
workers fit what one would, N ways at once.

Why TF_CONFIG and processes rather than Ray Train's TensorflowTrainer: the run folder,
status and cancel stay exactly the one-worker run's. Ray Train runs the training
function in a thread of a Ray actor, where no signal handler can be installed; it keeps
results and checkpoints under its own storage path; and the Train page cancels a job by
signalling the process it started, which here is the launcher, that owns its workers.
TF_CONFIG is also what TensorFlow's own multi-host tooling sets, so several hosts need
no further code, and training needs no Ray at all.

Who writes what: only the chief (worker 0) writes the run folder (status.json,
metrics.csv, checkpoints, model and card, all atomically). The others run the very same
callbacks (they must: a checkpoint's save and the validation pass take part in
collectives) into a scratch folder of their own, deleted at the end, as TensorFlow's
multi-worker guide requires for saving.

Cancel: the launcher stops every worker at once. A worker cannot stop alone "after
the current batch" as a one-process run does: the others would wait forever in the
next all-reduce. Every file in the run folder is replaced atomically, so the folder
keeps the last complete epoch (``--resume`` continues from it) and a half-written model
never replaces a good one.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import replace

from core.training.run import CANCELLED, DONE, FAILED, FINAL_STATES, RunFolder
from core.training.settings import TrainSettings

# set in the workers this launcher starts: they leave Ctrl-C to it (a terminal sends it to all of them)
LAUNCHED_BY = "BUSSEG_TRAIN_LAUNCHER"
# files a non-chief worker copies from the run folder to resume from the same epoch as the chief
RESUME_FILES = ("settings.json", "split.json", "metrics.csv", "last.keras", "best.keras")


def worker_task() -> tuple[int, int] | None:
    """(this worker's index, number of workers) from TF_CONFIG; None when this process is not a worker."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    config = json.loads(raw)
    workers = config.get("cluster", {}).get("worker", [])
    # TensorFlow names a separate chief task "chief"; here worker 0 is the chief
    return int(config.get("task", {}).get("index", 0)), len(workers)


def free_ports(n: int) -> list[int]:
    """n TCP ports free on localhost right now (the OS picks them; they stay free for the moment workers need)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def local_tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def run_distributed(settings: TrainSettings, resume: bool, argv: list[str], log=print) -> int:
    """Entry point of ``python -m core.train`` whenever ``--workers`` > 1 or TF_CONFIG is set."""
    task = worker_task()
    if task is None:
        return launch_local_workers(settings, argv, log)
    index, count = task
    if count != settings.workers:
        print(f"TF_CONFIG names {count} workers but --workers is {settings.workers}", file=sys.stderr)
        return 2
    return run_worker(settings, resume, index, count, log)


def launch_local_workers(settings: TrainSettings, argv: list[str], log=print, poll_s: float = 0.5,
                         command: list[str] | None = None) -> int:
    """Start ``settings.workers`` local worker processes, wait for them, and stop them all on SIGTERM/SIGINT.

    Each runs ``command`` (default ``python -m core.train``) with ``argv``. The chief's output goes to this
    process's; the others' to log files in a temporary folder, named in the run's status if one of them fails.
    """
    run = RunFolder(settings.out)
    n = settings.workers
    run.update_status(state="starting", message=f"starting {n} training workers")
    logs = tempfile.mkdtemp(prefix="busseg-workers-")
    ports = free_ports(n)
    procs: list[subprocess.Popen] = []
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    # the workers import this checkout's core, whatever copy of the package the machine has installed
    from core.locations import PROJECT_ROOT

    pythonpath = os.pathsep.join([PROJECT_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    for i in range(n):
        env = {**os.environ, "TF_CONFIG": local_tf_config(ports, i), LAUNCHED_BY: str(os.getpid()),
               "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath}
        out = None if i == 0 else open(os.path.join(logs, f"worker-{i}.log"), "ab")
        procs.append(subprocess.Popen([*(command or [sys.executable, "-m", "core.train"]), *argv], env=env, stdout=out,
                                      stderr=None if i == 0 else subprocess.STDOUT, stdin=subprocess.DEVNULL))
        if out:
            out.close()
    log(f"started {n} workers (pids {', '.join(str(p.pid) for p in procs)}); other workers' logs in {logs}")
    try:
        while True:
            if stop["signal"] is not None:
                stop_workers(procs)
                shutil.rmtree(logs, ignore_errors=True)
                if run.read_status().get("state") != DONE:  # a finished model stays finished
                    run.update_status(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}")
                print("cancelled", file=sys.stderr)
                return 130
            codes = [p.poll() for p in procs]
            failed = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                # one worker gone: the others would wait for it in their next all-reduce forever
                stop_workers(procs)
                i, code = failed[0]
                if run.read_status().get("state") == DONE:
                    # the chief had already written the model and card: a worker failing on its way out
                    # (after its share of the fit) takes nothing from them
                    log(f"worker {i} stopped with exit code {code} after the run had finished")
                    return 0
                if run.read_status().get("state") != FAILED:
                    run.update_status(state=FAILED, message=f"worker {i} stopped with exit code {code}"
                                      + (f"; its log: {os.path.join(logs, f'worker-{i}.log')}" if i else ""))
                return 1
            if all(c == 0 for c in codes):
                if run.read_status().get("state") not in FINAL_STATES:
                    run.update_status(state=FAILED, message="the workers ended without finishing the run")
                    return 1
                shutil.rmtree(logs, ignore_errors=True)
                return 0
            time.sleep(poll_s)
    finally:
        stop_workers(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if settings.cleanup_data:
            # here, once every worker has decoded it, not by the chief (the others may still be reading)
            from core.training.finish import remove_extracted_upload

            for folder in settings.data:
                remove_extracted_upload(folder, log)


def stop_workers(procs: list[subprocess.Popen], grace_s: float = 10.0) -> None:
    """SIGTERM every worker still running, then SIGKILL any left after grace_s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.time() + grace_s
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_worker(settings: TrainSettings, resume: bool, index: int, count: int, log=print) -> int:
    """Train as worker ``index`` of ``count``; the chief (0) writes the run folder, the others a scratch folder."""
    # SIGTERM keeps its default (end now): see the module docstring on cancel
    if os.environ.get(LAUNCHED_BY):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    import tensorflow as tf

    from core import runtime
    from core.training import keras_compat
    from core.training.trainer import train

    # first TensorFlow work of the process: the strategy sets up the collectives the cluster shares
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras_compat.patch_multi_worker_mean()
    # XLA stays off: each step now holds the cross-worker all-reduce, and the plain graph is the form of
    # that step tested here (tests/core/training/test_distributed.py)
    setup = (strategy, False, f"{count} workers (MultiWorkerMirroredStrategy), {runtime.describe_device()}")
    chief = index == 0
    # an uploaded dataset's temporary folder is removed by the launcher once every worker has read it
    settings = replace(settings, cleanup_data=False)
    run = RunFolder(settings.out)
    scratch = None
    try:
        if not chief:
            scratch = tempfile.mkdtemp(prefix=f"busseg-worker{index}-")
            if resume:
                copy_resume_files(run.path, scratch)
            settings = replace(settings, out=scratch)
        train(settings, resume, log if chief else quiet, setup=setup, finish=chief)
        return 0
    except Exception as exc:
        if chief:
            run.update_status(state=FAILED, message=f"{type(exc).__name__}: {exc}",
                              traceback=traceback.format_exc()[-4000:])
        traceback.print_exc()
        return 1
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def copy_resume_files(run_dir: str, scratch: str) -> None:
    """A non-chief worker resumes from the chief's checkpoint: it must start from the same epoch and weights."""
    if not os.path.isfile(os.path.join(run_dir, "last.keras")):
        raise FileNotFoundError(f"--resume: {run_dir}/last.keras is not readable from this worker; the run folder "
                                "must be on storage every worker can read")
    for name in RESUME_FILES:
        if os.path.isfile(os.path.join(run_dir, name)):
            shutil.copy2(os.path.join(run_dir, name), os.path.join(scratch, name))


def quiet(*_args, **_kwargs) -> None:
    """The log of a non-chief worker: the chief's says the same."""
