#!/usr/bin/env bash
# Leave-one-centre-out networks of the second generalisation candidate (issue 30, rule in experiments/LOG.md,
# "Generalisation, second candidate"): the baseline recipe plus lesion-free crops drawn at half weight, at 128x128,
# 14 epochs. Run folders carry tools.leave_one_out's names. Optional last step: the BUSI-only baseline again, to check
# that the figure logged on 2026-12-02 reproduces.
# Usage: bash experiments/scripts/loco_queue_crops_third.sh [RUNS]   (resumable: run it again after an interruption)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-/work/runs/loco}
COMMON="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --seed 0 --split-from weights/default.split.json --resume --augment strong"
CAND="--negative-crops --negative-crop-weight 0.5"
python3 -m core.train --data "$BUSI" --out "$RUNS/crops_third_without_busbra" --name crops-third-busi-only $COMMON $CAND
python3 -m core.train --data "$BUSBRA" --out "$RUNS/crops_third_without_busi" --name crops-third-busbra-only $COMMON $CAND
python3 -m core.train --data "$BUSI" --out "$RUNS/baseline_without_busbra" --name base-busi-only $COMMON
