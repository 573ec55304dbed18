#!/usr/bin/env bash
# Candidate (2026-11-24, late evening): one EfficientNet-Lite0 U-Net distilled from the flipped ensemble of the
# two Lite0 runs (runs/lite0_256, runs/lite0_256_seed1; bench/train_candidate_lite0_soup.sh).
# Why: on validation the mean of those two networks' outputs, each averaged with its mirror image's, scored
# 0.747 (bench/compare_on_val.py, bench/RESULTS.md), but it costs four forward passes, and flip TTA alone
# costs 1.8-1.9x (bench/flip_cost.py): neither fits the 0.1x speed bar. Averaging their weights failed (0.694).
# Distillation keeps one forward pass: the student fits, for each training image, 0.5 x the teachers' mean
# lesion probability + 0.5 x the ground-truth mask (core.train --teacher). Everything else is the seed-0
# Lite0 recipe: train split only, 256², 30 epochs, cosine from 3e-4, strong augmentation, decoder 12 base
# filters, seed 0, the default's split; checkpoint and threshold chosen on validation against the ground
# truth. So the comparison with runs/lite0_256 (0.729) changes only the fitted masks.
# The teachers saw only the train split; their checkpoints were chosen on validation, as every candidate's is.
#
# Rule, written and committed before the student started training (the bar of the earlier Lite0 candidates):
# it replaces the default only if, on the validation split (threshold chosen there), its mean lesion Dice is
# at least 0.739, its false alarms at most 25 % and its malignancy AUC at least 0.85
# (bench/check_ship_guard.py --on val); and bench/bench_predict.py then measures its whole predict path at
# no more than 100 ms and 0.1x the classic U-Net in the same run. It would ship as trained (train split
# only). Its test figures are read only after that decision; if it falls short they are not read. This is
# the fifth candidate to face this validation bar, which raises the chance that one passes by luck.
# Outcome (2026-11-24, 46 min): validation lesion Dice 0.742 (threshold 0.60), false alarms 3/16, AUC 0.864:
# it passed, and its predict path measured 41.0 ms, 0.076x the classic U-Net in the same run
# (python3 bench/bench_predict.py --data ../shared/busi/Dataset_BUSI_with_GT --n 40
# --weights runs/lite0_distil/model.keras --update-card). Its test figures, read after that decision:
# Dice 0.712 (95 % interval 0.643-0.773), false alarms 6/17 = 35 % (17-59 %), AUC 0.931; paired against the
# default on the same 76 lesions -0.028 (-0.065 to +0.008; bench/paired_difference.py). It was copied into
# weights/ and then taken out again before any commit: NOT SHIPPED. This rule, unlike every refit rule here,
# had no test-split guard, and a default whose only held-out false-alarm figure breaks the 25 % bar (where
# the default meets it, 3/17) is not one to put before clinicians. Keeping the default is itself a choice
# made after reading test figures; bench/RESULTS.md says so.
# Usage: bash bench/train_candidate_lite0_distil.sh [BUSI_DIR] [RUNS_DIR]
set -euo pipefail
DATA=${1:-../shared/busi/Dataset_BUSI_with_GT}
RUNS=${2:-runs}
[ -f weights/encoders/efficientnet_lite0.npz ] || bash bench/fetch_efficientnet_lite0.sh
[ -f "$RUNS/lite0_256_seed1/model.keras" ] || bash bench/train_candidate_lite0_soup.sh "$DATA" "$RUNS"
python3 -m core.train --data "$DATA" --out "$RUNS/lite0_distil" --epochs 30 --image-size 256 --learning-rate 3e-4 \
  --base-filters 12 --batch-size 8 --lr-schedule cosine --augment strong --seed 0 \
  --split-from weights/default.split.json --encoder efficientnet_lite0 \
  --teacher "$RUNS/lite0_256/model.keras" --teacher "$RUNS/lite0_256_seed1/model.keras" --teacher-weight 0.5 \
  --name lite0-distil --resume
python3 bench/check_ship_guard.py "$RUNS/lite0_distil/model.card.json" --on val --min-dice 0.739
