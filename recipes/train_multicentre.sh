#!/usr/bin/env bash
# Reproduces weights/default.keras (the multi-centre default, 2026-12) and its cross-centre figure, on a 2-core CPU.
#   1. The default: the BUSI-only default of 2026-11 (residual U-Net, 12 filters, depth 5, 256x256), fine-tuned
#      on BUSI's and BUS-BRA's training images together; BUSI images drawn 1.5x as often per image, so that
#      BUS-BRA's 800 training images do not drown BUSI's normal scans. BUSI keeps the old default's split
#      (its test images stay unseen); BUS-BRA is split afresh, patients and near-duplicates whole.
#      The best epoch by mean per-image validation Dice (both datasets' validation images) ships.
#   2. Leave-one-dataset-out: the same network trained from scratch on BUS-BRA alone (at 128x128, the first phase
#      of the BUSI recipe, for CPU time), with the same BUS-BRA split, then scored on BUSI: "a hospital it never
#      saw". The other direction needs no training: the BUSI-only default of 2026-11 scored on BUS-BRA's test split.
# Usage: bash recipes/train_multicentre.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR] [INIT_MODEL]
# Each step resumes where it stopped (--resume), so the script can be run again after an interruption.
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
INIT=${4:-weights/default.keras}
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUNS/mc256" \
  --epochs 16 --image-size 256 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 3e-4 \
  --lr-schedule cosine --augment strong --seed 0 --name default --init-weights "$INIT" \
  --split-from weights/default.split.json --compare-with "$INIT" --resume
python3 -m core.train --data "$BUSBRA" --out "$RUNS/busbra_only128" \
  --epochs 20 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3 \
  --lr-schedule cosine --augment strong --seed 0 --name busbra-only-128 --split-from "$RUNS/mc256/split.json" --resume
