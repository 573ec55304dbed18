#!/usr/bin/env bash
# The generalisation recipe (issue 30), trained from scratch on BUSI and BUS-BRA together at 128x128:
# residual U-Net (12 filters, depth 5), multicentre augmentation (zoom-out to 0.55x, wide gain and gamma,
# usaugment's attenuation, shadow, haze and speckle reduction) and lesion-free crops of every train and
# validation lesion image as normal examples from both centres. Trained on the train split only, so the
# no-lesion gate and the calibration are fitted on validation images the network never saw.
# Usage: bash recipes/train_generalise.sh [BUSI_DIR] [BUSBRA_DIR] [RUN_DIR]   (resumable)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUN=${3:-runs/generalise128}
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUN" \
  --epochs 20 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3 \
  --lr-schedule cosine --augment multicentre --negative-crops --seed 0 --name default \
  --split-from weights/default.split.json --compare-with weights/default.keras --resume
