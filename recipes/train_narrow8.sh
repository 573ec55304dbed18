#!/usr/bin/env bash
# Reproduces weights/default.keras 3.0.0 (the default narrowed to 8 filters) on a 2-core CPU, about 40 minutes:
#   1. tools.narrow_unet keeps the strongest 8·2^k channels of every layer of the 12-filter default 2.0.0
#      (recipes/train_multicentre.sh; its file is in git history) and copies their weights into the 8-filter
#      network of the same shape: half the parameters, about half the forward pass.
#   2. Fine-tuned 8 epochs at 256x256 on BUSI's and BUS-BRA's training splits with the default's recipe (BUSI drawn
#      1.5x per image, strong augmentation, cosine from 3e-4), its threshold, no-lesion gate and calibration fitted
#      on validation images it never trained on; the best epoch by mean per-image validation Dice ships.
#   3. Shipped with the 12-filter model's new-hospital rows carried over and saying so; the narrowed design's own
#      left-out-centre rows come from experiments/scripts/narrow8_queue.sh (experiments/LOG.md).
# Usage: bash recipes/train_narrow8.sh [BUSI_DIR] [BUSBRA_DIR] [RUN_DIR] [SOURCE_12_FILTER_MODEL]   (resumable)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUN=${3:-runs/narrow8}
SOURCE=${4:-weights/default.keras}
mkdir -p "$RUN"
[ -f "$RUN/default.start.keras" ] || python3 -m tools.narrow_unet "$SOURCE" "$RUN/default.start.keras" --filters 8
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUN/mc256" \
  --name default --seed 0 --epochs 8 --image-size 256 --init-weights "$RUN/default.start.keras" \
  --compare-with "$SOURCE" --base-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine \
  --augment strong --split-from weights/default.split.json --resume
