#!/usr/bin/env bash
# Reads out distil8 against its rule (experiments/LOG.md, "A lighter default, second attempt"): the design rule's
# tables, then the 256² network against the shipped default on the default's test split.
# Usage: bash experiments/scripts/finish_distil8.sh [RUNS]   (after experiments/scripts/distil8_queue.sh)
set -euo pipefail
RUNS=${1:-runs}
PYTHONPATH=. python3 experiments/scripts/lighter_design.py "$RUNS" || true
# the queue trains the 256² network only when the design rule holds (on 2026-12-06 it failed: no network)
[ -f "$RUNS/distil8/mc256/model.keras" ] || { echo "no 256² network: the design rule failed"; exit 0; }
for d in Dataset_BUSI_with_GT BUSBRA; do  # the default's own evaluations, made for narrow8: the same model and split
  [ -e "$RUNS/distil8/test_default_$d" ] || ln -s "../narrow8/test_weights_$d" "$RUNS/distil8/test_default_$d"
done
bash experiments/scripts/test_split_vs_default.sh "$RUNS/distil8/mc256/model.keras" "$RUNS/distil8"
