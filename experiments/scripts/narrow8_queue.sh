#!/usr/bin/env bash
# The narrow8 candidate (issues 31 and 30; rule in experiments/LOG.md, "A lighter default for the predict-path
# bar"): each 12-filter left-out network narrowed to 8 filters (tools.narrow_unet) and fine-tuned 8 epochs on its
# own data at 128², scored on every image of the centre it never saw; then the shipped default narrowed and
# fine-tuned at 256² on both datasets with the default's recipe.
# Usage: bash experiments/scripts/narrow8_queue.sh [RUNS]   (resumable: finished networks and scores are kept)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
COMMON="--base-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine --augment strong
  --split-from weights/default.split.json --resume"
mkdir -p "$RUNS/narrow8"

left_out() {  # NAME SOURCE DATA LEFT_OUT_DATA SEED: narrow, fine-tune without a centre, score the centre
  local name=$1 source=$2 data=$3 left=$4 seed=$5
  [ -f "$RUNS/narrow8/$name.start.keras" ] ||
    python3 -m tools.narrow_unet "$source" "$RUNS/narrow8/$name.start.keras" --filters 8
  [ -f "$RUNS/loco/$name/model.card.json" ] ||
    python3 -m core.train --data "$data" --out "$RUNS/loco/$name" --name "$name" --seed "$seed" --epochs 8 \
      --image-size 128 --init-weights "$RUNS/narrow8/$name.start.keras" $COMMON
  [ -f "$RUNS/loco_scores/$name/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" \
      "$RUNS/loco/$name/model.keras" "$left" "$RUNS/loco_scores/$name"
}

left_out narrow8_without_busi "$RUNS/loco/baseline_s1_without_busi/model.keras" "$BUSBRA" "$BUSI" 1
left_out narrow8_without_busbra "$RUNS/loco/baseline_without_busbra/model.keras" "$BUSI" "$BUSBRA" 0

bash experiments/scripts/train_narrow8_256.sh "$BUSI" "$BUSBRA" "$RUNS/narrow8"
