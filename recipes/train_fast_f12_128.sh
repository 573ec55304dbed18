#!/usr/bin/env bash
# Reproduces weights/f12_256.keras (phase B, the default until 2026-11-24) and weights/f12_128.keras (phase A) on a 2-core
# CPU (about 80 minutes for A and B, 18 more for C):
#   A. 60 epochs at 128x128 from scratch, 12 filters, strong augmentation, cosine learning rate;
#   B. 24 epochs at 256x256 from A's best weights, cosine learning rate.
# Both phases use the split of the first default model (weights/default.split.json), so
# test figures compare with it; checkpoints are chosen by mean per-image validation Dice.
# The first default model (16 filters) is reproduced by bench/train_default_v1.sh.
# Usage: bash bench/train_default.sh [BUSI_DIR] [RUNS_DIR]
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
#   C. (a candidate that did not ship) as B but a gentler start: 10 epochs at 1e-4 from A (B's first epoch at 3e-4 lost much of A's fit).
python3 -m core.train --data "$DATA" --out "$RUNS/f12_c256" --epochs 10 --image-size 256 \
  --base-filters 12 --batch-size 8 --learning-rate 1e-4 --lr-schedule cosine --augment strong --seed 0 \
  --name default --init-weights "$RUNS/f12_a128/model.keras" --split-from "$SPLIT" --resume
# Ship (rule fixed in advance: 256x256 input, highest full-resolution validation Dice -> B;
# A ships beside it). B's --compare-with pointed at the first default when this ran.
# B was the default until the depth-5 model of bench/train_candidates_d5.sh replaced it; it now ships as f12_256.
python3 bench/ship_default.py "$RUNS/f12_b256" --previous "$RUNS/f12_a128" --as f12_256
python3 bench/ship_default.py "$RUNS/f12_a128" --as f12_128
