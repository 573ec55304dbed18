"""What the mirror option buys: each model scored with and without averaging its answer with the mirror image's.

    python bench/mirror_on_val.py --data ../shared/busi/Dataset_BUSI_with_GT [--split val] MODEL...

For each model this scores its own split side twice through core.evaluate,
exactly as ``python -m core.evaluate`` and the Evaluate page do: once as
shipped, once with ``mirror=True`` (core.inference.Predictor.predict). Both
use the threshold on the model's card, since that is what the app applies.
It prints mean lesion Dice, the paired difference over the same lesions with
a 95 % bootstrap interval, false alarms, malignancy AUC and the median
per-image time of each. Nothing is chosen from these figures: the option
stays off by default (its time breaks the 0.1x speed bar), and the figures go
into the option's help text and bench/RESULTS.md as measured.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.evaluation.folder import evaluate_folder  # noqa: E402
from core.evaluation.scoring import dice_difference
from core.inference.predictor import Predictor  # noqa: E402
from core.metrics.intervals import format_interval  # noqa: E402


def describe(ev) -> str:
    s = ev.summary
    fa = "—" if s["false_alarm_rate"] is None else f"{round(s['false_alarm_rate'] * s['n_normal'])}/{s['n_normal']}"
    auc = "—" if s["malignancy_auc"] is None else f"{s['malignancy_auc']:.3f}"
    return (f"Dice {s['dice_mean']:.3f} (median {s['dice_median']:.3f}, missed {s['n_missed']}/{s['n_lesion']}), "
            f"false alarms {fa}, AUC {auc}, {s['inference_ms_median']:.1f} ms/image")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="val", choices=["val", "test"])
    ap.add_argument("models", nargs="+")
    a = ap.parse_args(argv)
    for path in a.models:
        p = Predictor.load(path)
        if a.split == "val" and p.card.val_metrics_on_trained_images:
            print(f"{path}: trained on its validation images; skipped (score it with --split test)")
            continue
        plain = evaluate_folder(p, a.data, split=a.split)
        mirrored = evaluate_folder(p, a.data, split=a.split, mirror=True)
        diff = dice_difference(plain.rows, mirrored.rows)
        print(f"{path} ({a.split}, threshold {plain.threshold:.2f}, {len(plain.rows)} images)")
        print(f"  as shipped : {describe(plain)}")
        print(f"  mirror     : {describe(mirrored)}")
        print(f"  mirror − as shipped, mean lesion Dice over {diff['n']} lesions: {diff['mean']:+.3f} "
              f"({format_interval(diff['ci'], digits=3)}; {diff['verdict']}); "
              f"better by > 0.01 on {diff['better_on']}, worse on {diff['worse_on']}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
