#!/usr/bin/env bash
# The top8 candidate's 256² network (experiments/LOG.md, "A lighter default, third attempt"; it failed its design
# rule, so it does not ship), on a 2-core CPU in about 40 minutes, from the 2.0.0 default:
#   1. tools.narrow_unet --top-filters 8 keeps the 8 strongest channels of the full-resolution level (its encoder
#      and decoder blocks and the upsampling into it) and copies every deeper layer of the 12-filter 2.0.0 network
#      whole: the level that costs about a third of the CPU forward pass narrows, the rest stays as trained.
#   2. Fine-tuned 8 epochs at 256x256 on BUSI's and BUS-BRA's training splits with 2.0.0's recipe (BUSI drawn 1.5x
#      per image, strong augmentation, cosine from 3e-4), its threshold, no-lesion gate and malignancy calibration
#      fitted on validation images it never trained on; the best epoch by mean per-image validation Dice is kept.
# The 2.0.0 network comes from `bash recipes/train_multicentre.sh && bash recipes/finish_multicentre.sh`, or, as
# here by default, from this repository's history (commit 14a3408 shipped it).
# Usage: bash experiments/scripts/train_top8_256.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR] [SOURCE_2.0.0_MODEL]   (resumable)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
SOURCE=${4:-$RUNS/default-2.0.0.keras}
mkdir -p "$RUNS/top8"
[ -f "$SOURCE" ] || git show 14a3408:weights/default.keras > "$SOURCE"
[ -f "$RUNS/top8/default.start.keras" ] ||
  python3 -m tools.narrow_unet "$SOURCE" "$RUNS/top8/default.start.keras" --top-filters 8
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUNS/top8/mc256" \
  --name default --seed 0 --epochs 8 --image-size 256 --init-weights "$RUNS/top8/default.start.keras" \
  --compare-with "$SOURCE" --base-filters 12 --top-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 \
  --lr-schedule cosine --augment strong --split-from weights/default.split.json --resume
