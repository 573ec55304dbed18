#!/usr/bin/env bash
# The top8d candidate's design check (experiments/LOG.md, "A lighter default, fourth attempt"), run only after its
# 256² network passed the ship rule: four 128² students from top8's start files, each distilled (weight 0.5) from
# the 12-filter left-out network of its set, 8 epochs, scored on what they left out (gates reported apart).
# Usage: bash experiments/scripts/top8d_design.sh [RUNS]   (resumable; needs RUNS/top8/*.start.keras from top8_queue.sh)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
COMMON="--base-filters 12 --top-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine
  --augment strong --split-from weights/default.split.json --distil-weight 0.5 --resume"
score() {  # MODEL DATA OUT [DEVICE]
  [ -f "$3/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" "$@"
}
centre() {  # NAME TEACHER DATA LEFT_OUT_DATA SEED
  local name=top8d_$1
  [ -f "$RUNS/loco/$name/model.card.json" ] ||
    python3 -m core.train --data "$3" --out "$RUNS/loco/$name" --name "$name" --seed "$5" --epochs 8 \
      --image-size 128 --init-weights "$RUNS/top8/top8_$1.start.keras" --distil-from "$2" $COMMON
  score "$RUNS/loco/$name/model.keras" "$4" "$RUNS/loco_scores/$name"
}
centre without_busi "$RUNS/loco/baseline_s1_without_busi/model.keras" "$BUSBRA" "$BUSI" 1
centre without_busbra "$RUNS/loco/baseline_without_busbra/model.keras" "$BUSI" "$BUSBRA" 0
for pair in "ge_logiq_5__10_12mhz|GE Logiq 5 @10-12MHz" "ge_logiq_7__10_14mhz|GE Logiq 7 @10-14MHz"; do
  slug=${pair%%|*} device=${pair#*|}
  name=top8d_without_$slug
  [ -f "$RUNS/loso/$name/model.card.json" ] ||
    python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --exclude-device "$device" \
      --out "$RUNS/loso/$name" --name "$name" --seed 0 --epochs 8 --image-size 128 \
      --init-weights "$RUNS/top8/top8_without_$slug.start.keras" \
      --distil-from "$RUNS/loso/default-design-128_without_$slug/model.keras" $COMMON
  score "$RUNS/loso/$name/model.keras" "$BUSBRA" "$RUNS/loso_scores/top8d/without_$slug" "$device"
done
