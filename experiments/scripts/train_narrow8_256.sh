#!/usr/bin/env bash
# The narrow8 candidate's 256² network (experiments/LOG.md, "A lighter default for the predict-path bar"; it did not
# ship: 4 of BUSI's 17 test normals flagged against the rule's 3), on a 2-core CPU, about 30 minutes:
#   1. tools.narrow_unet keeps the strongest 8·2^k channels of every layer of the 12-filter default and copies their
#      weights into the 8-filter network of the same shape: half the parameters, about half the forward pass.
#   2. Fine-tuned 8 epochs at 256x256 on BUSI's and BUS-BRA's training splits with the default's recipe (BUSI drawn
#      1.5x per image, strong augmentation, cosine from 3e-4), its threshold, no-lesion gate and calibration fitted
#      on validation images it never trained on; the best epoch by mean per-image validation Dice is kept.
# Usage: bash experiments/scripts/train_narrow8_256.sh [BUSI_DIR] [BUSBRA_DIR] [RUN_DIR] [SOURCE_12_FILTER_MODEL]   (resumable)
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
