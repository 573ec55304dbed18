#!/usr/bin/env bash
# The distil8 candidate (issues 31 and 30; rule in experiments/LOG.md, "A lighter default, second attempt"): the
# narrow8 start files fine-tuned as narrow8 was, plus the 12-filter network they were narrowed from as a teacher
# (core.train --distil-from, weight 0.5). (a) the two left-out centres, (b) left-out GE Logiq 5 and 7, then, only
# if the design rule holds, the 256² network on both datasets with the default's recipe.
# Usage: bash experiments/scripts/distil8_queue.sh [RUNS]   (resumable: finished networks and scores are kept)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
COMMON="--base-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine --augment strong
  --split-from weights/default.split.json --distil-weight 0.5 --resume"
score() {  # MODEL DATA OUT [DEVICE]
  [ -f "$3/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" "$@"
}

centre() {  # NAME TEACHER DATA LEFT_OUT_DATA SEED
  local name=$1 teacher=$2 data=$3 left=$4 seed=$5
  [ -f "$RUNS/loco/distil8_$name/model.card.json" ] ||
    python3 -m core.train --data "$data" --out "$RUNS/loco/distil8_$name" --name "distil8_$name" --seed "$seed" \
      --epochs 8 --image-size 128 --init-weights "$RUNS/narrow8/narrow8_$name.start.keras" --distil-from "$teacher" $COMMON
  score "$RUNS/loco/distil8_$name/model.keras" "$left" "$RUNS/loco_scores/distil8_$name"
}
centre without_busi "$RUNS/loco/baseline_s1_without_busi/model.keras" "$BUSBRA" "$BUSI" 1
centre without_busbra "$RUNS/loco/baseline_without_busbra/model.keras" "$BUSI" "$BUSBRA" 0

for pair in "ge_logiq_5__10_12mhz|GE Logiq 5 @10-12MHz" "ge_logiq_7__10_14mhz|GE Logiq 7 @10-14MHz"; do
  slug=${pair%%|*} device=${pair#*|}
  name=distil8_without_$slug
  [ -f "$RUNS/loso/$name/model.card.json" ] ||
    python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --exclude-device "$device" \
      --out "$RUNS/loso/$name" --name "$name" --seed 0 --epochs 8 --image-size 128 \
      --init-weights "$RUNS/narrow8/narrow8_without_$slug.start.keras" \
      --distil-from "$RUNS/loso/default-design-128_without_$slug/model.keras" $COMMON
  score "$RUNS/loso/$name/model.keras" "$BUSBRA" "$RUNS/loso_scores/distil8/without_$slug" "$device"
done

PYTHONPATH=. python3 experiments/scripts/lighter_design.py "$RUNS" || { echo "design rule failed: no 256² network"; exit 0; }
mkdir -p "$RUNS/distil8"
python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --out "$RUNS/distil8/mc256" \
  --name default --seed 0 --epochs 8 --image-size 256 --init-weights "$RUNS/narrow8/default.start.keras" \
  --compare-with weights/default.keras --distil-from weights/default.keras $COMMON
