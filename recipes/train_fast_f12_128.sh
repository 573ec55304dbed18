#!/usr/bin/env bash
# Reproduces weights/f12_128.keras, the fast model (BUSI only): 60 epochs at 128x128 from scratch, 12 filters,
# depth 4, strong augmentation, cosine learning rate, on the split of weights/default.split.json's BUSI images;
# the checkpoint with the best mean per-image validation Dice ships. About 35 minutes on a 2-core CPU.
# (Until 2026-12 this script also trained the 256x256 models f12_256 and d5_256, no longer shipped; see git history.)
# Usage: bash recipes/train_fast_f12_128.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
python3 -m core.train --data "$DATA" --out "$RUNS/f12_a128" --epochs 60 --image-size 128 \
  --base-filters 12 --depth 4 --batch-size 8 --learning-rate 1e-3 --lr-schedule cosine --augment strong --seed 0 \
  --name f12-128 --split-from weights/default.split.json --resume
python3 tools/ship_default.py "$RUNS/f12_a128" --as f12_128 --recipe "bash recipes/train_fast_f12_128.sh"
python3 tools/cross_centre.py weights/f12_128.keras --model weights/f12_128.keras --trained-on BUSI \
  --scored-on BUS-BRA --data ../shared/busbra/BUSBRA \
  --note "this model itself (trained on BUSI only), on all 1,176 BUS-BRA images we hold"
