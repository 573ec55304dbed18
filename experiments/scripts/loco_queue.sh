#!/usr/bin/env bash
# Leave-one-centre-out networks for the baseline recipe and the generalisation candidate (issue 30), at 128x128,
# 14 epochs, every one trained the same way; rule in experiments/LOG.md ("Generalisation, 2026-12-02").
# Run folders carry tools.leave_one_out's names, so that tool scores them without retraining.
# Usage: bash experiments/scripts/loco_queue.sh [RUNS]   (resumable: run it again after an interruption)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-/work/runs/loco}
COMMON="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --seed 0 --split-from weights/default.split.json --resume"
CAND="--augment multicentre --negative-crops"
BASE="--augment strong"
python3 -m core.train --data "$BUSBRA" --out "$RUNS/generalise_without_busi" --name cand-busbra-only $COMMON $CAND
python3 -m core.train --data "$BUSI" --out "$RUNS/generalise_without_busbra" --name cand-busi-only $COMMON $CAND
python3 -m core.train --data "$BUSI" --out "$RUNS/baseline_without_busbra" --name base-busi-only $COMMON $BASE
python3 -m core.train --data "$BUSBRA" --out "$RUNS/baseline_without_busi" --name base-busbra-only $COMMON $BASE
