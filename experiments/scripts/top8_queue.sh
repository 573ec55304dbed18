#!/usr/bin/env bash
# The top8 candidate (issues 31 and 30; rule in experiments/LOG.md, "A lighter default, third attempt"): each
# 12-filter left-out network with its full-resolution level alone narrowed to 8 filters (tools.narrow_unet
# --top-filters 8) and fine-tuned 8 epochs at 128² on its own images: (b) left-out GE Logiq 5 and 7 first (where
# narrow8 and distil8 failed), then (a) the two left-out centres; only if the design rule holds, the shipped
# default narrowed the same way and fine-tuned at 256² on both datasets with its recipe.
# Usage: bash experiments/scripts/top8_queue.sh [RUNS]   (resumable: finished networks and scores are kept)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
COMMON="--base-filters 12 --top-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine
  --augment strong --split-from weights/default.split.json --resume"
mkdir -p "$RUNS/top8"
start() {  # SOURCE NAME: the source with its full-resolution level narrowed, once
  [ -f "$RUNS/top8/$2.start.keras" ] || python3 -m tools.narrow_unet "$1" "$RUNS/top8/$2.start.keras" --top-filters 8
}
score() {  # MODEL DATA OUT [DEVICE]
  [ -f "$3/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" "$@"
}

for pair in "ge_logiq_5__10_12mhz|GE Logiq 5 @10-12MHz" "ge_logiq_7__10_14mhz|GE Logiq 7 @10-14MHz"; do
  slug=${pair%%|*} device=${pair#*|}
  name=top8_without_$slug
  start "$RUNS/loso/default-design-128_without_$slug/model.keras" "$name"
  [ -f "$RUNS/loso/$name/model.card.json" ] ||
    python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --exclude-device "$device" \
      --out "$RUNS/loso/$name" --name "$name" --seed 0 --epochs 8 --image-size 128 \
      --init-weights "$RUNS/top8/$name.start.keras" $COMMON
  score "$RUNS/loso/$name/model.keras" "$BUSBRA" "$RUNS/loso_scores/top8/without_$slug" "$device"
done

centre() {  # NAME SOURCE DATA LEFT_OUT_DATA SEED
  local name=top8_$1 data=$3 left=$4 seed=$5
  start "$2" "$name"
  [ -f "$RUNS/loco/$name/model.card.json" ] ||
    python3 -m core.train --data "$data" --out "$RUNS/loco/$name" --name "$name" --seed "$seed" --epochs 8 \
      --image-size 128 --init-weights "$RUNS/top8/$name.start.keras" $COMMON
  score "$RUNS/loco/$name/model.keras" "$left" "$RUNS/loco_scores/$name"
}
centre without_busi "$RUNS/loco/baseline_s1_without_busi/model.keras" "$BUSBRA" "$BUSI" 1
centre without_busbra "$RUNS/loco/baseline_without_busbra/model.keras" "$BUSI" "$BUSBRA" 0

PYTHONPATH=. python3 experiments/scripts/lighter_design.py "$RUNS" top8 ||
  { echo "design rule failed: no 256² network"; exit 0; }
start weights/default.keras default
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUNS/top8/mc256" \
  --name default --seed 0 --epochs 8 --image-size 256 --init-weights "$RUNS/top8/default.start.keras" \
  --compare-with weights/default.keras $COMMON
