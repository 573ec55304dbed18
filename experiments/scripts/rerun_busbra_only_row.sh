#!/usr/bin/env bash
# The default card's BUS-BRA -> BUSI row again, with today's scoring (its lesion-presence AUC was never computed, and
# the 2026-12 network was not kept): step 2 of recipes/train_multicentre.sh (BUS-BRA only, 128x128, 20 epochs, seed 0,
# the default's split), then the row as recipes/finish_multicentre.sh writes it.
# Usage: bash experiments/scripts/rerun_busbra_only_row.sh [RUNS]   (resumable)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
python3 -m core.train --data "$BUSBRA" --out "$RUNS/busbra_only128" \
  --epochs 20 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3 \
  --lr-schedule cosine --augment strong --seed 0 --name busbra-only-128 --split-from weights/default.split.json --resume
python3 tools/cross_centre.py weights/default.keras --model "$RUNS/busbra_only128/model.keras" \
  --trained-on BUS-BRA --scored-on BUSI --data "$BUSI" \
  --note "the same network trained from scratch on BUS-BRA's training split alone, at 128x128 for CPU time (recipes/train_multicentre.sh step 2, rerun on 2026-12-06 with today's scoring), on all 624 BUSI images we hold; BUS-BRA has no normal scans, so it has no gate"
