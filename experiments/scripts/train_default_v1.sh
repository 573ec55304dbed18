#!/usr/bin/env bash
# Reproduces the FIRST default model (16 filters, shipped until 2026-11-24; now superseded,
# see bench/RESULTS.md) on a 2-core CPU (about 80 minutes in all):
#   1. 50 epochs at 128x128 (checkpoint chosen by batch validation Dice, as first run);
#   2. 10 epochs at 256x256 from those weights;
#   3. 14 epochs at 256x256 from phase 2, cosine learning rate, checkpoint chosen by
#      mean per-image validation Dice. Phase 3 had the best validation Dice, so it ships.
# All phases share one split (phase 1's manifest).
# Usage: bash bench/train_default_v1.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
python3 -m core.train --data "$DATA" --out "$RUNS/default_p1_128" --epochs 50 --image-size 128 \
  --base-filters 16 --batch-size 8 --learning-rate 1e-3 --seed 0 --augment basic --name default-128 --select-by batch_dice --resume
python3 -m core.train --data "$DATA" --out "$RUNS/default_p2_256" --epochs 10 --image-size 256 \
  --base-filters 16 --batch-size 8 --learning-rate 3e-4 --seed 0 --augment basic --name default --select-by batch_dice \
  --init-weights "$RUNS/default_p1_128/model.keras" --split-from "$RUNS/default_p1_128/split.json" --resume
python3 -m core.train --data "$DATA" --out "$RUNS/default_p3_256" --epochs 14 --image-size 256 \
  --base-filters 16 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine --augment basic --seed 0 --name default \
  --init-weights "$RUNS/default_p2_256/model.keras" --split-from "$RUNS/default_p1_128/split.json" --resume
# (it was shipped with: python3 bench/ship_default.py "$RUNS/default_p3_256" --previous ... )
