"""Add 95 % intervals, the missed-lesion counts and the size breakdown to the test figures of model cards
written before them.

Re-scores each model on its own test split with core.evaluate, refuses to touch a card whose point
figures (mean Dice, false-alarm rate, AUC) do not come out the same (to 1e-6), and then writes beside
them the intervals, the count of lesions missed or mostly missed (Dice < 0.3), how many of those have
nothing marked at all, and the same by lesion size (core.evaluate.size_summary); then re-renders the
Markdown. Nothing is chosen here: the figures and the model stay as they are, they only gain the
uncertainty and the failure counts that go with them.

Usage: python3 bench/add_card_intervals.py --data ../shared/busi/Dataset_BUSI_with_GT weights/default.keras [...]
"""
from __future__ import annotations

import argparse
import math
import sys

from core import evaluate
from core.cards import modelcard
from core.inference.predictor import Predictor

KEYS = ("dice_mean_ci", "false_alarm_rate_ci", "malignancy_auc_ci", "n_missed", "missed_rate", "n_unmarked", "by_size")
POINTS = ("dice_mean", "false_alarm_rate", "malignancy_auc", "n_lesion", "n_normal")


def same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), abs_tol=1e-6)


def add_intervals(model_path: str, data: str) -> int:
    card = modelcard.read_card(model_path)
    if card is None:
        print(f"{model_path}: no card", file=sys.stderr)
        return 1
    predictor = Predictor.load(model_path)
    ev = evaluate.evaluate_folder(predictor, data, card.threshold, "test")
    old, new = card.test_metrics, ev.summary
    differ = [k for k in POINTS if not same(old.get(k), new.get(k))]
    if differ:
        print(f"{model_path}: re-scoring gives different {', '.join(differ)} "
              f"({[(old.get(k), new.get(k)) for k in differ]}); card left as it is", file=sys.stderr)
        return 1
    old.update({k: new[k] for k in KEYS})
    modelcard.write_card(model_path, card)
    print(f"{model_path}: {evaluate.interval_caption(new)}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data", required=True)
    a = ap.parse_args(argv)
    return max(add_intervals(m, a.data) for m in a.models)


if __name__ == "__main__":
    raise SystemExit(main())
