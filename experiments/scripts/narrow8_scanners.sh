#!/usr/bin/env bash
# narrow8 on left-out scanners (experiments/LOG.md, "narrow8 on left-out scanners"): each 12-filter network of
# recipes/leave_one_scanner_out.sh narrowed to 8 filters (tools.narrow_unet), fine-tuned 8 epochs at 128² on the
# same images, scored on every image of its scanner and paired against the 12-filter network on the same images.
# Usage: bash experiments/scripts/narrow8_scanners.sh [RUNS]   (resumable: finished networks and scores are kept)
set -euo pipefail
BUSI=../shared/busi/Dataset_BUSI_with_GT
BUSBRA=../shared/busbra/BUSBRA
RUNS=${1:-runs}
mkdir -p "$RUNS/narrow8"
for pair in "toshiba_aplio_300__12_14_mhz|Toshiba Aplio 300 @12-14 MHz" "u_systems__10_14mhz|U-Systems @10-14MHz" \
            "ge_logiq_7__10_14mhz|GE Logiq 7 @10-14MHz" "ge_logiq_5__10_12mhz|GE Logiq 5 @10-12MHz"; do
  slug=${pair%%|*} device=${pair#*|}
  name=narrow8_without_$slug
  [ -f "$RUNS/narrow8/$name.start.keras" ] ||
    python3 -m tools.narrow_unet "$RUNS/loso/default-design-128_without_$slug/model.keras" \
      "$RUNS/narrow8/$name.start.keras" --filters 8
  [ -f "$RUNS/loso/$name/model.card.json" ] ||
    python3 -m core.train --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --exclude-device "$device" \
      --out "$RUNS/loso/$name" --name "$name" --seed 0 --epochs 8 --image-size 128 --base-filters 8 --depth 5 \
      --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine --augment strong \
      --split-from weights/default.split.json --init-weights "$RUNS/narrow8/$name.start.keras" --resume
  [ -f "$RUNS/loso_scores/narrow8/without_$slug/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" \
      "$RUNS/loso/$name/model.keras" "$BUSBRA" "$RUNS/loso_scores/narrow8/without_$slug" "$device"
done
python3 - "$RUNS" <<'PY'
import json, sys
from tools.leave_one_out import paired
runs = sys.argv[1]
print("| left out | images | 12 filters: Dice | narrow8: Dice (95 % CI) | paired, narrow8 − 12 | nothing marked, 12 / narrow8 | narrow8 without its gate |")
print("|---|---|---|---|---|---|---|")
for slug in ["ge_logiq_5__10_12mhz", "ge_logiq_7__10_14mhz", "toshiba_aplio_300__12_14_mhz", "u_systems__10_14mhz"]:
    base = f"{runs}/loso_scores/default-design-128/without_{slug}"
    cand = f"{runs}/loso_scores/narrow8/without_{slug}"
    b, c = (json.load(open(f"{p}/summary.json")) for p in (base, cand))
    d = paired(f"{base}/per_image.csv", f"{cand}/per_image.csv")
    wg = c.get("without_gate") or {}
    print(f"| {slug} | {c['overall']['n_images']} | {b['overall']['dice_mean']:.3f} | {c['overall']['dice_mean']:.3f} "
          f"({c['overall']['dice_mean_ci'][0]:.3f}–{c['overall']['dice_mean_ci'][1]:.3f}) | {d['mean']:+.3f} "
          f"({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f}) | {b['overall']['n_unmarked']} / {c['overall']['n_unmarked']} | "
          + (f"{wg['dice_mean']:.3f} (gate {wg['gate']})" if wg else "no gate") + " |")
PY
