#!/usr/bin/env bash
# Leave-one-centre-out networks of the third generalisation candidate, group normalisation (issue 30, rule in
# experiments/LOG.md, "Generalisation, third candidate"): two runs (seeds 0 and 1) per left-out centre, plus the
# second run of the BUS-BRA-only baseline; each finished network is scored on every image of the centre it never
# saw, then experiments/scripts/loco_gn_table.py prints the table and the verdict.
# Usage: bash experiments/scripts/loco_queue_gn.sh [RUNS]   (resumable: finished networks and scores are kept)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
COMMON="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --split-from weights/default.split.json --resume --augment strong"

one() {  # NAME DATA LEFT_OUT_DATA SEED [EXTRA...]: train without a centre, then score the centre it never saw
  local name=$1 data=$2 left=$3 seed=$4; shift 4
  [ -f "$RUNS/loco/$name/model.card.json" ] ||
    python3 -m core.train --data "$data" --out "$RUNS/loco/$name" --name "$name" --seed "$seed" $COMMON "$@"
  [ -f "$RUNS/loco_scores/$name/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" \
      "$RUNS/loco/$name/model.keras" "$left" "$RUNS/loco_scores/$name"
}

one gn_s0_without_busi "$BUSBRA" "$BUSI" 0 --norm group
one gn_s0_without_busbra "$BUSI" "$BUSBRA" 0 --norm group
one baseline_s1_without_busi "$BUSBRA" "$BUSI" 1
one gn_s1_without_busi "$BUSBRA" "$BUSI" 1 --norm group
one gn_s1_without_busbra "$BUSI" "$BUSBRA" 1 --norm group
python3 experiments/scripts/loco_gn_table.py --runs "$RUNS"
