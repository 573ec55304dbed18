#!/usr/bin/env bash
# After recipes/train_generalise.sh: the recipe's new-hospital figures (leave-one-centre-out networks, each scored
# on every image of the centre it never saw, against the baseline recipe), put on the run's card. Whether it then ships
# is decided by the rule in experiments/LOG.md (see the end). Every figure the card and README quote comes from here.
# Usage: bash recipes/finish_generalise.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR]   (finished runs are not retrained)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
LOCO="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --seed 0 --split-from weights/default.split.json"
# the baseline: the shipped design's from-scratch recipe, trained and scored the same way
python3 -m tools.leave_one_out --name baseline --data "$BUSI" --data "$BUSBRA" --runs "$RUNS/loco" \
  --out "$RUNS/loco_scores" -- $LOCO --augment strong
python3 -m tools.leave_one_out --name generalise --data "$BUSI" --data "$BUSBRA" --runs "$RUNS/loco" \
  --out "$RUNS/loco_scores" --baseline "$RUNS/loco_scores/baseline" --card "$RUNS/generalise128/model.keras" \
  --note "the same recipe at 128x128 and 14 epochs, trained without this centre, scored on all its images with its own threshold and gate" \
  -- $LOCO --augment multicentre --negative-crops
# Shipping is a decision, not a step of this script: only when the new-hospital table above passes the rule in
# experiments/LOG.md ("Generalisation") and the run's card passes the ship rule there, run
#   python3 tools/ship_default.py "$RUNS/generalise128" --version 3.0.0 \
#     --recipe "bash recipes/train_generalise.sh && bash recipes/finish_generalise.sh"
#   python3 -m bench.bench_predict --data "$BUSI" --data "$BUSBRA" --n 40 --update-card
# (2026-12-02: the candidate failed the rule, so it was not shipped.)
