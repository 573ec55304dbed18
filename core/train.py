"""Training the U-Net on one or more dataset folders, into a self-describing run folder (library: core.training).

    python -m core.train --data DIR [--data DIR ...] --out RUN_DIR [--epochs N] [--image-size S]
        [--base-filters F] [--batch-size B] [--seed K] [--resume] ...

RUN_DIR receives, as training goes:
  status.json    state, epoch, progress, latest metrics, pid (replaced atomically)
  metrics.csv    one row per epoch
  settings.json  the settings used;  split.json  the train/val/test manifest
  last.keras     the latest checkpoint (for --resume);  best.keras  best by val Dice
and at the end model.keras with model.card.json / model.card.md, evaluated on
its own test split at the original image resolution.

SIGTERM or Ctrl-C stops the run after the current batch and marks it
"cancelled"; nothing outside RUN_DIR is ever written. A disk that fills under
RUN_DIR fails the run with a message saying so (``failure_message``); the
checkpoints already written stay whole (they are replaced atomically), so
``--resume`` continues from the last one once there is space.

``--workers N`` (or TF_CONFIG in the environment) trains on several workers:
core.training.distributed.
"""
from __future__ import annotations

import errno
import json
import os
import sys
import time
import traceback

from core import runtime  # noqa: F401  (quiets TensorFlow before import)
from core.training.distributed import run_distributed, worker_task
from core.training.loop import _install_signal_handlers
from core.training.run import CANCELLED, FAILED, RunFolder
from core.training.settings import parse_args
from core.training.trainer import train


def main(argv=None) -> int:
    settings, resume = parse_args(argv)
    if settings.workers > 1 or worker_task() is not None:
        return run_distributed(settings, resume, list(argv if argv is not None else sys.argv[1:]))
    _install_signal_handlers()
    run = RunFolder(settings.out)
    try:
        train(settings, resume)
        return 0
    except KeyboardInterrupt:
        run.update_status(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}")
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as exc:
        traceback.print_exc()
        record_failure(run, failure_message(exc, run.path), traceback.format_exc()[-4000:])
        return 1


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def failure_message(exc: BaseException, run_dir: str) -> str:
    """What the Train page says about a run that failed with exc."""
    if isinstance(exc, OSError) and exc.errno in DISK_FULL:
        return (f"the disk is full under {run_dir} ({exc.strerror}); the checkpoints written before stay whole. "
                "Free some space, then start the run again with resume to continue from the last checkpoint")
    return f"{type(exc).__name__}: {exc}"


def record_failure(run, message: str, trace: str) -> None:
    """Mark the run failed in status.json. On a full disk the atomic write (a new temporary file) can fail too:
    then overwrite the small status file in place, and failing that leave it; the Train page reports a run whose
    process is gone without a final state as failed all the same (core.training.jobs)."""
    try:
        run.update_status(state=FAILED, message=message, traceback=trace)
        return
    except OSError:
        pass
    try:
        status = {**run.read_status(), "state": FAILED, "message": message, "updated_at": time.time(),
                  "pid": os.getpid()}
        with open(run.status, "r+" if os.path.exists(run.status) else "w") as fh:
            text = json.dumps(status, default=str)
            fh.seek(0)
            fh.write(text)
            fh.truncate()
    except OSError:
        print(f"could not record the failure in {run.status}: {message}", file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
