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
"cancelled"; nothing outside RUN_DIR is ever written.

``--workers N`` (or TF_CONFIG in the environment) trains on several workers:
core.training.distributed.
"""
from __future__ import annotations

import sys
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
        run.update_status(state=FAILED, message=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc()[-4000:])
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
