#!/usr/bin/env bash
# The final refit of the default recipe (2026-11-24): D5B's phase B (24 epochs at 256² from D5A's weights,
# bench/train_candidates_d5.sh) run again on the train AND validation splits together: 531 images instead
# of 437. The recipe, its epoch count and its threshold (0.50) were all chosen on validation earlier, so
# nothing is left to choose on it: the last epoch ships (core.train --fit-on train+val).
# Why: 21% more training images is the one change that is expected to help on unseen images without a new
# search, and the default fell 0.003 short of the 0.75 Dice bar on our test split.
# Rule, written here before the run started: the refit replaces weights/default.keras when it finishes,
# unless on the shared test split (which neither model trained on) its mean lesion Dice falls more than
# 0.03 below D5B's 0.747, its false-alarm rate exceeds 25 % or its malignancy AUC falls below 0.85:
# a fall that large would mean a broken run, not noise. Its test figures are reported whatever they are.
# The check below applies the rule; the ship step runs only when it passes. It passed on 2026-11-24
# (test Dice 0.737, false alarms 3/17, AUC 0.908; bench/RESULTS.md), and D5B moved to weights/d5_256.keras,
# which the comparison on the card now names (the run itself compared with it as weights/default.keras).
# Usage: bash bench/train_refit_d5b.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
SPLIT=weights/default.split.json
COMMON=(--base-filters 12 --depth 5 --batch-size 8 --lr-schedule cosine --augment strong --seed 0 --split-from "$SPLIT" --resume)
if [ ! -f "$RUNS/d5_a128/model.keras" ]; then  # phase A as in bench/train_candidates_d5.sh (train split only)
  python3 -m core.train --data "$DATA" --out "$RUNS/d5_a128" --epochs 60 --image-size 128 --learning-rate 1e-3 \
    --name d5-128 "${COMMON[@]}"
fi
python3 -m core.train --data "$DATA" --out "$RUNS/d5_refit256" --epochs 24 --image-size 256 --learning-rate 3e-4 \
  --init-weights "$RUNS/d5_a128/model.keras" --fit-on train+val --fixed-threshold 0.5 \
  --compare-with weights/d5_256.keras --name default "${COMMON[@]}"
python3 bench/check_ship_guard.py "$RUNS/d5_refit256/model.card.json" --min-dice 0.717  # 0.747 - 0.03
python3 bench/ship_default.py "$RUNS/d5_refit256" --previous "$RUNS/d5_a128" \
  --recipe "bash bench/train_refit_d5b.sh ../shared/busi/Dataset_BUSI_with_GT runs"
