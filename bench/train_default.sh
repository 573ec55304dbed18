#!/usr/bin/env bash
# Reproduces weights/default.keras: 50 epochs at 128x128, then 10 epochs of
# fine-tuning at 256x256 from those weights on the same split.
# Usage: bash bench/train_default.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
python3 -m core.train --data "$DATA" --out "$RUNS/default_p1_128" --epochs 50 --image-size 128 \
  --base-filters 16 --batch-size 8 --learning-rate 1e-3 --seed 0 --name default-128 --select-by batch_dice --resume
python3 -m core.train --data "$DATA" --out "$RUNS/default_p2_256" --epochs 10 --image-size 256 \
  --base-filters 16 --batch-size 8 --learning-rate 3e-4 --seed 0 --name default --select-by batch_dice \
  --init-weights "$RUNS/default_p1_128/model.keras" --split-from "$RUNS/default_p1_128/split.json" --resume
python3 bench/ship_default.py "$RUNS/default_p2_256" --phase1 "$RUNS/default_p1_128"
