#!/usr/bin/env bash
# Candidate default model, 12 filters (for the 0.1x speed bar), stronger augmentation:
#   A. 60 epochs at 128x128 from scratch, cosine learning rate;
#   B. 24 epochs at 256x256 from A's best weights, cosine learning rate.
# Same split as the shipped model (weights/default.split.json), so test figures compare.
# Checkpoints are chosen by mean per-image validation Dice.
# Usage: bash bench/train_f12.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
SPLIT=weights/default.split.json
python3 -m core.train --data "$DATA" --out "$RUNS/f12_a128" --epochs 60 --image-size 128 \
  --base-filters 12 --batch-size 8 --learning-rate 1e-3 --lr-schedule cosine --augment strong --seed 0 \
  --name f12-128 --split-from "$SPLIT" --resume
python3 -m core.train --data "$DATA" --out "$RUNS/f12_b256" --epochs 24 --image-size 256 \
  --base-filters 12 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine --augment strong --seed 0 \
  --name default --init-weights "$RUNS/f12_a128/model.keras" --split-from "$SPLIT" --compare-with weights/default.keras --resume
