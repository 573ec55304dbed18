#!/usr/bin/env bash
# Learning curve (2026-11-30): how much would more BUSI-like training images help the default's recipe?
# Why: every candidate since 2026-11-24 has landed within noise of the default (test lesion Dice 0.740,
# bar 0.75), and the remaining misses look like lesions of kinds the training set holds few of. That is a
# claim about data, so measure it: train phase A of the default's recipe (D5A: depth 5, 12 filters, 128²,
# strong augmentation, cosine from 1e-3, batch 8, seed 0; bench/train_candidates_d5.sh) on nested,
# group-whole 25 %, 50 % and 100 % subsets of the train split (bench/subset_split.py), with the same
# number of optimiser steps for each (60 epochs at 100 %, 120 at 50 %, 240 at 25 %), and score each on
# the unchanged validation split (78 lesions, 16 normal).
# Read-out, fixed before any run trained: mean validation lesion Dice per point, each run at its own
# best checkpoint and validation threshold (core.train's choice, the same for every point), and the
# paired difference 100 % - 50 % over the 78 lesions (bench/paired_difference.py). The slope per
# doubling of the data, taken from those two points, says what adding images of the same kind could
# buy: the refit's train+val is 531 images, and all 624 would be 0.23 doublings more.
# Nothing here ships. core.train writes test figures into each run's card as always; they are not read.
# Outcome (2026-11-30, about 36 min a point on 2 cores): validation lesion Dice 0.684 / 0.662 / 0.686 for
# 110 / 221 / 437 training images; paired 100 % - 50 % +0.024 (-0.019 to +0.069), 100 % - 25 % +0.002
# (-0.052 to +0.053). Flat within noise: see bench/RESULTS.md, "Learning curve".
# Usage: bash bench/learning_curve.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
mkdir -p "$RUNS/lc"
python3 bench/subset_split.py --data "$DATA" --split weights/default.split.json --out-dir "$RUNS/lc" 0.25 0.5 1.0
COMMON=(--base-filters 12 --depth 5 --batch-size 8 --lr-schedule cosine --augment strong --seed 0
        --image-size 128 --learning-rate 1e-3 --resume)
for point in "100 60" "50 120" "25 240"; do
  set -- $point
  python3 -m core.train --data "$DATA" --out "$RUNS/lc_$1" --epochs "$2" --split-from "$RUNS/lc/split_$1.json" \
    --name "lc-$1" "${COMMON[@]}"
  python3 -m core.evaluate --data "$DATA" --split val --weights "$RUNS/lc_$1/model.keras" --out "$RUNS/lc_$1/ev_val"
  # the last epoch at 0.50 as well: a best-of-N pick flatters the runs with more epochs (added after the run)
  python3 -m core.evaluate --data "$DATA" --split val --weights "$RUNS/lc_$1/last.keras" --threshold 0.5 \
    --out "$RUNS/lc_$1/ev_val_last"
done
for smaller in 50 25; do
  python3 bench/paired_difference.py "$RUNS/lc_$smaller/ev_val/per_image.csv" "$RUNS/lc_100/ev_val/per_image.csv" \
    --keys bench/axillary_keys.txt
done
