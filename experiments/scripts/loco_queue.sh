#!/usr/bin/env bash
# Leave-one-centre-out networks for the baseline recipe and the generalisation candidate (issue 30), at 128x128,
# 14 epochs, every one trained the same way; rule in experiments/LOG.md ("Generalisation, 2026-12-02").
# Usage: bash experiments/scripts/loco_queue.sh [RUNS]   (resumable: run it again after an interruption)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-/work/runs/loco}
COMMON="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --seed 0 --split-from weights/default.split.json --resume"
CAND="--augment multicentre --negative-crops"
BASE="--augment strong"
python3 -m core.train --data "$BUSBRA" --out "$RUNS/cand_nobusi" --name cand-busbra-only $COMMON $CAND
python3 -m core.train --data "$BUSI" --out "$RUNS/cand_nobusbra" --name cand-busi-only $COMMON $CAND
python3 -m core.train --data "$BUSI" --out "$RUNS/base_nobusbra" --name base-busi-only $COMMON $BASE
python3 -m core.train --data "$BUSBRA" --out "$RUNS/base_nobusi" --name base-busbra-only $COMMON $BASE
