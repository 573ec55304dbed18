#!/usr/bin/env bash
# Reads out the narrow8 candidate against its rule (experiments/LOG.md, "A lighter default for the predict-path
# bar"): the left-out networks against the 12-filter ones they came from (paired, same images), then the 256²
# network against the shipped default on the default's test split, each dataset apart.
# Usage: bash experiments/scripts/finish_narrow8.sh [RUNS]   (after experiments/scripts/narrow8_queue.sh)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
S=$RUNS/loco_scores
python3 - "$S" <<'PY'
import json, sys
from tools.leave_one_out import HEADER, paired, table_row
s = sys.argv[1]
print("| " + " | ".join(HEADER) + " | paired Dice, narrow8 − 12 filters |")
print("|" + "---|" * (len(HEADER) + 1))
for base, cand, centre in [("baseline/without_busbra", "narrow8_without_busbra", "busbra"),
                           ("baseline_s1_without_busi", "narrow8_without_busi", "busi")]:
    for name, folder in [("12 filters", base), ("narrow8", cand)]:
        o = json.load(open(f"{s}/{folder}/summary.json"))["overall"]
        d = paired(f"{s}/{base}/per_image.csv", f"{s}/{cand}/per_image.csv") if name == "narrow8" else None
        extra = f"{d['mean']:+.3f} ({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f})" if d else ""
        print("| " + " | ".join(table_row(name, centre, o)) + f" | {extra} |")
PY
for model in weights/default.keras "$RUNS/narrow8/mc256/model.keras"; do
  tag=$(basename "$(dirname "$model")")
  for data in "$BUSI" "$BUSBRA"; do
    out=$RUNS/narrow8/test_${tag}_$(basename "$data")
    [ -f "$out/summary.json" ] || python3 -m core.evaluate --data "$data" --weights "$model" --split test --out "$out"
  done
done
for data in "$BUSI" "$BUSBRA"; do
  d=$(basename "$data")
  echo "== $d test split: default (A) against narrow8 (B)"
  python3 tools/paired_difference.py "$RUNS/narrow8/test_weights_$d/per_image.csv" "$RUNS/narrow8/test_mc256_$d/per_image.csv"
  python3 - "$RUNS/narrow8/test_weights_$d/summary.json" "$RUNS/narrow8/test_mc256_$d/summary.json" <<'PY'
import json, sys
for path in sys.argv[1:]:
    o = json.load(open(path))  # core.evaluate writes its figures at the top level
    print(path, {k: o.get(k) for k in ("n_images", "dice_mean", "n_normal", "false_alarm_rate", "presence_auc",
                                       "malignancy_auc")})
PY
done
