#!/usr/bin/env bash
# The default's left-out-scanner figures (issue 30): for each of BUS-BRA's four scanners, a network of the default's
# design (residual U-Net, 12 filters, depth 5, strong augmentation, BUSI drawn 1.5x as often, the default's split)
# is trained from scratch at 128x128 for 14 epochs (for CPU time, as the left-out-centre comparisons) on BUSI and
# BUS-BRA less every image of that scanner, then scored, with its own threshold and gate, on every image of the
# scanner it never saw. Each finished network writes its row into weights/default.card.json (and the card's
# Markdown), so a run stopped part-way keeps the rows it finished. The rarer makes come first: they are the
# closest to a hospital with a scanner the model never met. About 30 minutes a network on a 2-core CPU.
# Usage: bash recipes/leave_one_scanner_out.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR]   (resumable)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
for device in "Toshiba Aplio 300 @12-14 MHz" "U-Systems @10-14MHz" "GE Logiq 7 @10-14MHz" "GE Logiq 5 @10-12MHz"; do
  python3 -m tools.leave_one_out --name default-design-128 --data "$BUSI" --data "$BUSBRA" \
    --runs "$RUNS/loso" --out "$RUNS/loso_scores" --scanners "$BUSBRA" --device "$device" \
    --card weights/default.keras \
    --note "the default's design trained from scratch at 128x128, 14 epochs (for CPU time), on BUSI and BUS-BRA less every image of this scanner (recipes/leave_one_scanner_out.sh); scored on all of that scanner's images we hold, with its own threshold and gate" \
    -- --dataset-weight busi=1.5 --epochs 14 --image-size 128 --base-filters 12 --depth 5 --batch-size 8 \
    --learning-rate 1e-3 --lr-schedule cosine --augment strong --seed 0 --split-from weights/default.split.json
done
