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
# (its evaluations were written as narrow8/test_weights_* and test_mc256_*; linked to the names the readout uses)
for d in Dataset_BUSI_with_GT BUSBRA; do
  [ -e "$RUNS/narrow8/test_default_$d" ] || ln -s "test_weights_$d" "$RUNS/narrow8/test_default_$d"
  [ -e "$RUNS/narrow8/test_candidate_$d" ] || ln -s "test_mc256_$d" "$RUNS/narrow8/test_candidate_$d"
done
bash experiments/scripts/test_split_vs_default.sh "$RUNS/narrow8/mc256/model.keras" "$RUNS/narrow8"
