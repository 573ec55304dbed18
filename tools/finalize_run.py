"""Finish a trained run again with the current core: threshold, no-lesion gate, calibration, test figures, card.

    python tools/finalize_run.py RUN_DIR

Runs ``core.training.finish.finalize`` on the run's own settings, split and checkpoint, exactly as
``python -m core.train`` ends today. For a run trained before the finish step gained something (the no-lesion gate,
the malignancy calibration, per-dataset figures), so that its card says what a run trained now would say.
The training duration on the card stays the run's own (from its status.json).
"""
from __future__ import annotations

import argparse
import os
import time

from core import runtime
from core.files import read_json
from core.training.dataprep import prepare_data
from core.training.finish import finalize
from core.training.run import RunFolder
from core.training.settings import TrainSettings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    a = ap.parse_args(argv)
    run = RunFolder(a.run)
    settings = TrainSettings.from_saved(read_json(run.settings, {}))
    status = run.read_status()
    if status.get("state") != "done" and not os.path.exists(run.best):
        raise SystemExit(f"{a.run} has no finished training to finalize")
    _, loaded_split, report = prepare_data(settings, run, log=print)
    started = float(status.get("started_at") or time.time())
    card = finalize(run, settings, loaded_split, report, status.get("device") or runtime.describe_device(), started)
    # finalize timed the run up to now; the card keeps the training run's own duration
    if status.get("test_metrics") and status.get("updated_at"):
        card.training["duration_s"] = round(float(status["updated_at"]) - started, 1)
        from core.cards.modelcard import write_card

        write_card(run.model, card)
    print(f"finalized {run.model}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
