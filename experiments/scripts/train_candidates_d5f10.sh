#!/usr/bin/env bash
# The next candidate (started 2026-11-24): depth 5 with 10 base filters instead of 12.
# Why: depth 5 at 12 filters (then weights/d5_256.keras, now weights/default.keras) had the best validation Dice of the 256² models,
# but costs 2.22 GMAC per 256² image against the default's 1.79 and runs at 0.11-0.12x the classic
# U-Net, over the 0.1x bar. Compute scales with the square of the width: 10 filters at depth 5 is
# about 1.54 GMAC, below the default. Same split, augmentation and schedules as D5A/D5B.
# Rule, fixed before training: it becomes the default only if its full-resolution validation Dice
# beats the default's (0.687) AND bench/bench_predict.py measures it at <= 0.1x the classic U-Net.
# Outcome (2026-11-24): validation Dice 0.682 (threshold 0.80, 0/16 false alarms), below 0.687, so not promoted.
# Usage: bash bench/train_candidates_d5f10.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
SPLIT=weights/default.split.json
COMMON=(--base-filters 10 --depth 5 --batch-size 8 --lr-schedule cosine --augment strong --seed 0 --split-from "$SPLIT" --resume)
python3 -m core.train --data "$DATA" --out "$RUNS/d5f10_a128" --epochs 60 --image-size 128 --learning-rate 1e-3 \
  --name d5f10-128 "${COMMON[@]}"
python3 -m core.train --data "$DATA" --out "$RUNS/d5f10_b256" --epochs 24 --image-size 256 --learning-rate 3e-4 \
  --init-weights "$RUNS/d5f10_a128/model.keras" --name default "${COMMON[@]}"
