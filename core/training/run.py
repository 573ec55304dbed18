"""The run folder: where a training run writes its status, metrics, checkpoints and split, atomically."""
from __future__ import annotations

import csv
import os
import time

from core.files import read_json, write_json_atomic

DONE, FAILED, CANCELLED = "done", "failed", "cancelled"
FINAL_STATES = (DONE, FAILED, CANCELLED)


class RunFolder:
    """Paths of a run folder, and the atomic status writer."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        p = lambda n: os.path.join(self.path, n)  # noqa: E731
        self.status, self.metrics, self.settings = p("status.json"), p("metrics.csv"), p("settings.json")
        self.split, self.last, self.best, self.model = p("split.json"), p("last.keras"), p("best.keras"), p("model.keras")
        self.log = p("train.log")

    def read_status(self) -> dict:
        return read_json(self.status, {}) or {}

    def update_status(self, **fields) -> dict:
        status = self.read_status()
        status.update(fields, pid=os.getpid(), updated_at=time.time())
        write_json_atomic(self.status, status)
        return status

    def epochs_done(self) -> int:
        try:
            with open(self.metrics) as fh:
                return max(0, sum(1 for _ in fh) - 1)
        except OSError:
            return 0


def _best_val_dice(run: RunFolder, monitor: str = "val_image_dice") -> float:
    try:
        with open(run.metrics) as fh:
            rows = list(csv.DictReader(fh))
        vals = [float(r.get(monitor) or "nan") for r in rows]
        vals = [v for v in vals if v == v]
        return max(vals) if vals else -1.0
    except OSError:
        return -1.0



def read_metrics(run_dir: str) -> list[dict[str, float]]:
    """The run's metrics.csv as one dict of floats per epoch (empty cells left out); [] before the first epoch."""
    try:
        with open(os.path.join(run_dir, "metrics.csv"), newline="") as fh:
            return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]
    except (OSError, ValueError):
        return []
