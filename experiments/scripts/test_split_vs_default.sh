#!/usr/bin/env bash
# A candidate default against the shipped one on the default's test split, each dataset apart: core.evaluate for
# both (kept, so a rerun only reads out), the paired lesion-Dice difference, and each model's figures.
# Usage: bash experiments/scripts/test_split_vs_default.sh CANDIDATE_MODEL OUT_DIR [DEFAULT_MODEL]
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
CAND=$1 OUT=$2 DEFAULT=${3:-weights/default.keras}
for data in "$BUSI" "$BUSBRA"; do
  d=$(basename "$data")
  for pair in "default|$DEFAULT" "candidate|$CAND"; do
    out=$OUT/test_${pair%%|*}_$d
    [ -f "$out/summary.json" ] || python3 -m core.evaluate --data "$data" --weights "${pair#*|}" --split test --out "$out"
  done
  echo "== $d test split: default (A) against the candidate (B)"
  python3 tools/paired_difference.py "$OUT/test_default_$d/per_image.csv" "$OUT/test_candidate_$d/per_image.csv"
  python3 - "$OUT/test_default_$d/summary.json" "$OUT/test_candidate_$d/summary.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    o = json.load(open(path))  # core.evaluate writes its figures at the top level
    print(path, {k: o.get(k) for k in ("n_images", "dice_mean", "n_normal", "false_alarm_rate", "presence_auc",
                                       "malignancy_auc")})
PY
done
