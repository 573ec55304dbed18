#!/usr/bin/env bash
# The third round of candidates (2026-11-24), on the default model's split, 2-core CPU:
#   D5A.  depth 5 (a 4x4 bottleneck at 128², 8x8 at 256²; 4.6 M params), 60 epochs at 128², as phase A
#         of bench/train_default.sh but one level deeper (about 35 min);
#   D5I.  as D5A with the per-lesion-image Dice loss (--loss bce_image_dice); stopped after epoch 36
#         of 60 because its validation curve ran well below D5A's (about 22 min to that point);
#   D5B.  24 epochs at 256² from D5A's best weights, as phase B of bench/train_default.sh (about 45 min).
# The hypothesis: B lost validation Dice against A when moved from 128² to 256² because its receptive
# field covers half as much of the image there; one more level restores it.
# Compare on validation only: python3 bench/compare_on_val.py B=weights/default.keras D5B=runs/d5_b256/model.keras ...
# D5B is the default model since 2026-11-24 (weights/default.keras): once inference folded BatchNorm
# (core/fastpath.py) it met the 0.1x speed bar, and it had the highest validation Dice of the 256² models.
# Usage: bash bench/train_candidates_d5.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
SPLIT=weights/default.split.json
COMMON=(--base-filters 12 --depth 5 --batch-size 8 --lr-schedule cosine --augment strong --seed 0 --split-from "$SPLIT" --resume)
python3 -m core.train --data "$DATA" --out "$RUNS/d5_a128" --epochs 60 --image-size 128 --learning-rate 1e-3 \
  --name d5-128 "${COMMON[@]}"
python3 -m core.train --data "$DATA" --out "$RUNS/d5i_a128" --epochs 60 --image-size 128 --learning-rate 1e-3 \
  --loss bce_image_dice --name d5i-128 "${COMMON[@]}"
python3 -m core.train --data "$DATA" --out "$RUNS/d5_b256" --epochs 24 --image-size 256 --learning-rate 3e-4 \
  --init-weights "$RUNS/d5_a128/model.keras" --name default "${COMMON[@]}"
python3 bench/ship_default.py "$RUNS/d5_b256" --previous "$RUNS/d5_a128" \
  --recipe "bash bench/train_candidates_d5.sh ../shared/busi/Dataset_BUSI_with_GT runs"
