#!/usr/bin/env bash
# The top8d candidate (issue 31's predict path; rule in experiments/LOG.md, "A lighter default, fourth attempt"):
# top8's 256² network (experiments/scripts/train_top8_256.sh: the 2.0.0 default with its full-resolution level
# narrowed to its 8 strongest channels, fine-tuned 8 epochs at 256² on both datasets' training splits) with one
# change: the 2.0.0 network as its teacher (core.train --distil-from, weight 0.5, as distil8). Then the default's
# test split, candidate against the shipped default (experiments/scripts/test_split_vs_default.sh).
# Usage: bash experiments/scripts/top8d_256.sh [RUNS_DIR] [SEED]   (resumable; needs RUNS/top8/default.start.keras
# from train_top8_256.sh step 1; seed 0 writes RUNS/top8d/mc256 and RUNS/top8d, seed N RUNS/top8d/mc256_sN and
# RUNS/top8d/sN)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
SEED=${2:-0}
RUN=$RUNS/top8d/mc256 TEST=$RUNS/top8d
[ "$SEED" = 0 ] || { RUN=$RUNS/top8d/mc256_s$SEED; TEST=$RUNS/top8d/s$SEED; }
[ -f "$RUN/model.card.json" ] ||
  python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUN" \
    --name default --seed "$SEED" --epochs 8 --image-size 256 --init-weights "$RUNS/top8/default.start.keras" \
    --compare-with weights/default.keras --distil-from weights/default.keras --distil-weight 0.5 \
    --base-filters 12 --top-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 \
    --lr-schedule cosine --augment strong --split-from weights/default.split.json --resume
bash experiments/scripts/test_split_vs_default.sh "$RUN/model.keras" "$TEST"
