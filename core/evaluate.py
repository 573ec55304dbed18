"""Scoring a model on a labelled folder, from the command line (the library is core.evaluation).

    python -m core.evaluate --data DIR [--data DIR ...] [--weights PATH] [--threshold T] [--out DIR] [--split test]
"""
from __future__ import annotations

import argparse
import os

from core.evaluation.folder import evaluate_folder
from core.evaluation.scoring import write_rows_csv
from core.evaluation.tables import format_summary, group_table, table_csv_text


def main(argv=None) -> int:
    import sys

    from core.cards.registry import active_model_path
    from core.data.layouts import DatasetError
    from core.files import write_json_atomic, write_text_atomic
    from core.inference.predictor import ModelLoadError, Predictor

    ap = argparse.ArgumentParser(description="Evaluate a segmentation model on labelled dataset folders.")
    ap.add_argument("--data", required=True, action="append",
                    help="dataset folder in BUSI's or BUS-BRA's layout; repeat to score several together")
    ap.add_argument("--weights", help="model file; default: the active model")
    ap.add_argument("--threshold", type=float, help="default: the model card's")
    ap.add_argument("--split", choices=["train", "val", "test"], help="only this side of the model's split manifest")
    ap.add_argument("--out", help="folder for per_image.csv, by_dataset.csv, by_device.csv and summary.json")
    a = ap.parse_args(argv)
    try:
        predictor = Predictor.load(a.weights or active_model_path())
        from tqdm import tqdm

        bar = tqdm(unit="img", file=sys.stderr)
        ev = evaluate_folder(predictor, a.data, a.threshold, a.split,
                             progress=lambda i, n: (setattr(bar, "total", n), bar.update(1)))
        bar.close()
    except (ModelLoadError, FileNotFoundError, ValueError, DatasetError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_summary(ev))
    # a train+val refit trained on its validation images too (core.train --fit-on train+val)
    if a.split == "train" or (a.split == "val" and predictor.card.val_metrics_on_trained_images):
        print(f"note: the model trained on its {a.split} images, so these are not held-out figures", file=sys.stderr)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        write_rows_csv(os.path.join(a.out, "per_image.csv"), ev.rows)
        write_text_atomic(os.path.join(a.out, "by_dataset.csv"), table_csv_text(group_table(ev.by_dataset, "dataset")))
        write_text_atomic(os.path.join(a.out, "by_device.csv"), table_csv_text(group_table(ev.by_device, "device")))
        write_json_atomic(os.path.join(a.out, "summary.json"), {
            "model": ev.model, "threshold": ev.threshold, "data": [os.path.abspath(d) for d in a.data],
            **ev.summary, "by_dataset": ev.by_dataset, "by_device": ev.by_device})
        print(f"per-image figures in {os.path.join(a.out, 'per_image.csv')}; per dataset and per device in "
              f"by_dataset.csv and by_device.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
