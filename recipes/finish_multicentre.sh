#!/usr/bin/env bash
# After recipes/train_multicentre.sh: finish the multi-centre run with today's core (threshold, no-lesion gate,
# malignancy calibration, per-dataset test figures), put the leave-one-dataset-out figures on its card, ship it
# as weights/default.keras, and measure its speed. Every figure the card and README quote comes from here.
# Usage: bash recipes/finish_multicentre.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR]
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
# the BUSI-only default of 2026-11 is the start of the fine-tune and the BUSI -> BUS-BRA model: keep a copy
if [ ! -f "$RUNS/busi_only/model.keras" ]; then
  mkdir -p "$RUNS/busi_only"
  cp weights/default.keras "$RUNS/busi_only/model.keras"
  cp weights/default.card.json "$RUNS/busi_only/model.card.json"
  cp weights/default.split.json "$RUNS/busi_only/split.json"
fi
python3 tools/finalize_run.py "$RUNS/mc256"
python3 tools/finalize_run.py "$RUNS/busbra_only128"
# "on a hospital it never saw": each single-dataset network scored on every image of the other dataset
python3 tools/cross_centre.py "$RUNS/mc256/model.keras" --model "$RUNS/busi_only/model.keras" \
  --trained-on BUSI --scored-on BUS-BRA --data "$BUSBRA" \
  --note "the BUSI-only default of 2026-11 (the same network, the start of this model's fine-tune), on all 1,176 BUS-BRA images we hold; no gate, uncalibrated"
python3 tools/cross_centre.py "$RUNS/mc256/model.keras" --model "$RUNS/busbra_only128/model.keras" \
  --trained-on BUS-BRA --scored-on BUSI --data "$BUSI" \
  --note "the same network trained from scratch on BUS-BRA's training split alone, at 128x128 for CPU time (recipes/train_multicentre.sh step 2), on all 624 BUSI images we hold; BUS-BRA has no normal scans, so it has no gate"
python3 tools/ship_default.py "$RUNS/mc256" --version 2.0.0 --recipe "bash recipes/train_multicentre.sh && bash recipes/finish_multicentre.sh"
python3 -m bench.bench_predict --data "$BUSI" --data "$BUSBRA" --n 40 --update-card
