#!/usr/bin/env bash
# After experiments/scripts/train_top8_256.sh, and only once a rule written before it ran has passed top8 (its first
# rule failed: experiments/LOG.md): the top8 design's left-out figures, then ship it as the default (version 2.1.0).
#   1. For each centre and each BUS-BRA scanner: the 12-filter network of the default's design trained without it
#      (128x128, 14 epochs: RUNS/loco/baseline_s1_without_busi, RUNS/loco/baseline_without_busbra,
#      RUNS/loso/default-design-128_without_SCANNER from recipes/leave_one_scanner_out.sh), narrowed the way the
#      default was (tools.narrow_unet --top-filters 8) and fine-tuned 8 epochs at 128x128 on the same images, then
#      scored on every image of what it left out, with its own threshold and gate.
#   2. Those rows on the new network's card, the network shipped as weights/default.keras with its ONNX export, and
#      its predict path measured against the classic U-Net in the same run (bench.bench_predict --update-card).
# Usage: bash experiments/scripts/finish_top8.sh [BUSI_DIR] [BUSBRA_DIR] [RUNS_DIR]   (resumable: finished networks are kept)
set -euo pipefail
BUSI=${1:-../shared/busi/Dataset_BUSI_with_GT}
BUSBRA=${2:-../shared/busbra/BUSBRA}
RUNS=${3:-runs}
TUNE="--base-filters 12 --top-filters 8 --depth 5 --batch-size 8 --learning-rate 3e-4 --lr-schedule cosine
  --augment strong --split-from weights/default.split.json --seed 0 --epochs 8 --image-size 128 --resume"
left_out() {  # SOURCE RUN_DIR SCORES LEFT_OUT_DATA [DEVICE] -- TRAINING DATA ARGS...
  local source=$1 run=$2 scores=$3 left=$4 device=${5:-}
  shift 6
  [ -f "$run.start.keras" ] || python3 -m tools.narrow_unet "$source" "$run.start.keras" --top-filters 8
  [ -f "$run/model.card.json" ] ||
    python3 -m core.train "$@" --out "$run" --name "$(basename "$run")" --init-weights "$run.start.keras" $TUNE
  [ -f "$scores/summary.json" ] ||
    python3 -c "import sys; from tools.leave_one_out import score_left_out; score_left_out(*sys.argv[1:])" \
      "$run/model.keras" "$left" "$scores" ${device:+"$device"}
}
left_out "$RUNS/loco/baseline_s1_without_busi/model.keras" "$RUNS/loco/top8_without_busi" \
  "$RUNS/loco_scores/top8_without_busi" "$BUSI" "" -- --data "$BUSBRA"
left_out "$RUNS/loco/baseline_without_busbra/model.keras" "$RUNS/loco/top8_without_busbra" \
  "$RUNS/loco_scores/top8_without_busbra" "$BUSBRA" "" -- --data "$BUSI"
for pair in "ge_logiq_5__10_12mhz|GE Logiq 5 @10-12MHz" "ge_logiq_7__10_14mhz|GE Logiq 7 @10-14MHz" \
            "toshiba_aplio_300__12_14_mhz|Toshiba Aplio 300 @12-14 MHz" "u_systems__10_14mhz|U-Systems @10-14MHz"; do
  slug=${pair%%|*} device=${pair#*|}
  left_out "$RUNS/loso/default-design-128_without_$slug/model.keras" "$RUNS/loso/top8_without_$slug" \
    "$RUNS/loso_scores/top8/without_$slug" "$BUSBRA" "$device" -- \
    --data "$BUSI" --data "$BUSBRA" --dataset-weight busi=1.5 --exclude-device "$device"
done
python3 - "$RUNS" <<'PY'
import json, sys
from tools.leave_one_out import card_entry, write_to_card
runs = sys.argv[1]
note = ("the default's design (12 filters, depth 5) trained from scratch at 128x128, 14 epochs (for CPU time), without "
        "{what}; its full-resolution level then narrowed to 8 filters and fine-tuned 8 epochs on the same images, as "
        "the default was (experiments/scripts/finish_top8.sh); scored on all of {where} images we hold, with its own threshold and gate")
entries = []
for name, left, trained_on in [("top8_without_busbra", "BUS-BRA", ["BUSI"]), ("top8_without_busi", "BUSI", ["BUS-BRA"])]:
    s = json.load(open(f"{runs}/loco_scores/{name}/summary.json"))
    entries.append(card_entry("top8", left, trained_on, s, note.format(what=left, where=f"{left}'s"), "centre"))
for slug, device in [("ge_logiq_5__10_12mhz", "GE Logiq 5 @10-12MHz"), ("ge_logiq_7__10_14mhz", "GE Logiq 7 @10-14MHz"),
                     ("toshiba_aplio_300__12_14_mhz", "Toshiba Aplio 300 @12-14 MHz"),
                     ("u_systems__10_14mhz", "U-Systems @10-14MHz")]:
    s = json.load(open(f"{runs}/loso_scores/top8/without_{slug}/summary.json"))
    entries.append(card_entry("top8", device, ["BUSI", f"BUS-BRA without {device}"], s,
                              note.format(what="every image of this scanner", where="that scanner's"), "scanner"))
write_to_card(f"{runs}/top8/mc256/model.keras", entries)
PY
python3 tools/ship_default.py "$RUNS/top8/mc256" --version 2.1.0 \
  --recipe "bash experiments/scripts/train_top8_256.sh && bash experiments/scripts/finish_top8.sh" \
  --note "2.0.0 with its full-resolution level narrowed to 8 filters and fine-tuned (rule: experiments/LOG.md, 'A lighter default, third attempt'): the same figures within the rule's margins, about a fifth less forward pass on a CPU"
python3 -m bench.bench_predict --data "$BUSI" --data "$BUSBRA" --n 40 --update-card
