"""What the no-lesion gate costs at a scanner a network never saw (issue 30, diagnostic; nothing is chosen from it).

    python3 experiments/scripts/loso_gate_cost.py --runs RUNS/loso --data ../shared/busbra/BUSBRA

For each left-out-scanner network (recipes/leave_one_scanner_out.sh), scores every image of the scanner it left out
twice, with its own threshold: with its gate (as on the card) and without it. Prints mean lesion Dice, lesions
missed (Dice < 0.3) and lesions with nothing marked, each way.
"""
from __future__ import annotations

import argparse
import glob
import os
from dataclasses import replace


def main() -> int:
    from core.cards.schema import read_card
    from core.data.layouts import load_cases, scan_datasets
    from core.evaluation.scoring import predict_cases, score_predictions, summarise
    from core.inference.predictor import Predictor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    cases = scan_datasets([a.data]).cases
    print("| left-out scanner | lesions | gate | Dice with gate | without | missed with / without | nothing marked with / without |")
    print("|---|---|---|---|---|---|---|")
    for model in sorted(glob.glob(os.path.join(a.runs, "*_without_*", "model.keras"))):
        p = Predictor.load(model)
        left_out = read_card(model).settings.get("exclude_devices", [None])[0]
        loaded = load_cases([c for c in cases if c.device == left_out], [])
        scored = predict_cases(p, loaded)
        s_with = summarise(score_predictions(scored, p.threshold, p.decision))
        s_without = summarise(score_predictions(scored, p.threshold, replace(p.decision, gate=None)))
        print(f"| {left_out} | {s_with['n_lesion']} | {p.decision.gate} | {s_with['dice_mean']:.3f} | "
              f"{s_without['dice_mean']:.3f} | {s_with['n_missed']} / {s_without['n_missed']} | "
              f"{s_with['n_unmarked']} / {s_without['n_unmarked']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
