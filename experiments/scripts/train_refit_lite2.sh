#!/usr/bin/env bash
# Candidate (2026-11-25, fourth session): the EfficientNet-Lite2 U-Net recipe (bench/train_candidate_lite2.sh)
# refitted on train+val, as the default's depth-5 recipe was (bench/train_refit_d5b.sh).
# Why: over five runs the pretrained-encoder U-Nets scored 0.722-0.736 on validation against 0.706-0.718
# for the from-scratch depth-5 recipe the default is made of. Lite2 trained on the train split alone scored
# 0.730 (threshold 0.50, 1/16 false alarms, AUC 0.901), +0.024 over D5B paired (-0.003 to +0.057), and
# +0.012 over the average of D5B's two seeds (0.716-0.718), the fair match for the default, itself an
# average. It fell short of the 0.739 bar for a model shipped as trained on the train split; a refit adds
# the 94 validation images (78 lesions), as the default's refit did. Recipe unchanged: 30 epochs at 256²,
# cosine from 3e-4, strong augmentation, decoder 12 base filters, batch 8, seed 0, the default's split,
# threshold 0.50 (the train-only run's); the last epoch is kept (its validation curve was flat, 0.738-0.743,
# over epochs 21-30). About an hour on this CPU.
#
# Rule, written and committed before training started. A refit has no validation images left, so it is
# judged on the test split, pooling that with the validation evidence above. The refit replaces
# weights/default.keras only if all of these hold:
#   (a) test false alarms <= 25 % and malignancy AUC >= 0.85 (bench/check_ship_guard.py);
#   (b) test mean lesion Dice >= 0.728. Why that number: pooling the two held-out estimates of the recipe's
#       gain, validation (+0.012 against the depth-5 average) and test (refit - default, same 76 lesions),
#       the refit ships when their mean is positive, i.e. when its test Dice is at least 0.740 - 0.012;
#   (c) bench/bench_predict.py measures its whole predict path at <= 100 ms and <= 0.1x the classic
#       U-Net's forward pass in the same run.
# Its test figures, paired against the default with bench/paired_difference.py, are reported whatever
# they are.
# Outcome (2026-11-30; about 100 min of training once core.train ran its own loop): test lesion Dice 0.720
# (95 % CI 0.651-0.783), false alarms 4/17 (23.5 %), malignancy AUC 0.962. Fails (b), 0.720 < 0.728, so it
# does not ship; (c) was not run. Paired against the default on the same 76 lesions: -0.019 (-0.049 to
# +0.006), better on 27, worse on 34. Figures and commands in bench/RESULTS.md ("Lite2 refit").
# Usage: bash bench/train_refit_lite2.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
[ -f weights/encoders/efficientnet_lite2.npz ] || bash bench/fetch_efficientnet_lite.sh lite2
python3 -m core.train --data "$DATA" --out "$RUNS/lite2_refit" --epochs 30 --image-size 256 --learning-rate 3e-4 \
  --base-filters 12 --batch-size 8 --lr-schedule cosine --augment strong --seed 0 \
  --split-from weights/default.split.json --encoder efficientnet_lite2 --fit-on train+val \
  --fixed-threshold 0.5 --name default --resume
python3 bench/check_ship_guard.py "$RUNS/lite2_refit/model.card.json" --min-dice 0.728  # (a), (b)
