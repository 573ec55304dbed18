#!/usr/bin/env bash
# The second generalisation candidate's full-data network (issue 30; ship rule in experiments/LOG.md,
# "Generalisation, second candidate"): the shipped default fine-tuned at 256x256 on BUSI's and BUS-BRA's train
# splits with lesion-free crops of every train and validation lesion image, drawn at half a real image's weight;
# BUSI drawn 1.5x per image as in the default's recipe. Trained on the train split only, so the no-lesion gate and
# the calibration are fitted on validation images (and their crops) this fine-tune never saw.
# Usage: bash experiments/scripts/train_crops_third_full.sh [BUSI_DIR] [BUSBRA_DIR] [RUN_DIR]   (resumable)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUN=${3:-runs/crops_third256}
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUN" \
  --epochs 3 --image-size 256 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 3e-4 \
  --lr-schedule cosine --augment strong --negative-crops --negative-crop-weight 0.5 --seed 0 --name default \
  --init-weights weights/default.keras --split-from weights/default.split.json --compare-with weights/default.keras \
  --resume
