#!/usr/bin/env bash
# After experiments/scripts/loco_queue_crops_third.sh and train_crops_third_full.sh: the second candidate's
# new-hospital table (rule in experiments/LOG.md, "Generalisation, second candidate"), written onto the full-data
# run's card, and the rerun BUSI-only baseline scored on all of BUS-BRA to check the logged 0.263 reproduces.
# Usage: bash experiments/scripts/finish_crops_third.sh [RUNS]   (finished networks are not retrained)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-/work/runs}
LOCO="--epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 --learning-rate 1e-3
  --lr-schedule cosine --seed 0 --split-from weights/default.split.json --augment strong"
CARD=()
[ -f "$RUNS/crops_third256/model.card.json" ] && CARD=(--card "$RUNS/crops_third256/model.keras")
python3 -m tools.leave_one_out --name crops_third --data "$BUSI" --data "$BUSBRA" --runs "$RUNS/loco" \
  --out "$RUNS/loco_scores" "${CARD[@]}" \
  --note "the same recipe from scratch at 128x128 and 14 epochs, trained without this centre, scored on all its images with its own threshold and gate" \
  -- $LOCO --negative-crops --negative-crop-weight 0.5
if [ -f "$RUNS/loco/baseline_without_busbra/model.card.json" ]; then
  python3 -c "import sys; from tools.leave_one_out import score_left_out, table_row
s = score_left_out(sys.argv[1], sys.argv[2], sys.argv[3]); print('| ' + ' | '.join(table_row('baseline (rerun)', 'busbra', s['overall'])) + ' |')" \
    "$RUNS/loco/baseline_without_busbra/model.keras" "$BUSBRA" "$RUNS/loco_scores/baseline/without_busbra"
fi
