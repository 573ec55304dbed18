"""Copy a finished run into weights/ as the shipped default, with its card and split manifest.

    python tools/ship_default.py RUN_DIR [--previous RUN_DIR ...] [--as NAME] [--note TEXT] [--recipe CMD]

Writes weights/default.keras, default.card.json, default.card.md and
default.split.json, and the ONNX export default.onnx recorded on the card (or NAME.* with --as NAME, for a second shipped model the
user can make active on the Train page). Files are written atomically, so an interrupted copy
never leaves a half-written default model.
"""
from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import replace

from core.cards.modelcard import write_card
from core.cards.schema import ModelCard, read_card
from core.files import write_bytes_atomic
from core.locations import WEIGHTS_DIR


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--note", help="why this run ships, written on the card")
    ap.add_argument("--as", dest="stem", default="default", help="file name in weights/ (default: default)")
    ap.add_argument("--previous", action="append", default=[],
                    help="the runs this one was initialised from, in order, summarised on the card")
    ap.add_argument("--version", help="the model's version on its card (MONAI bundle style), e.g. 2.0.0")
    ap.add_argument("--recipe", default="bash recipes/train_multicentre.sh",
                    help="the command that reproduces the run, written on the card")
    a = ap.parse_args(argv)
    card = read_card(os.path.join(a.run, "model.keras"))
    if card is None:
        raise SystemExit(f"{a.run} has no finished model card")
    card.data["manifest"] = f"{a.stem}.split.json"
    card = replace(card, name=a.stem, recipe=a.recipe, **({"selection_note": a.note} if a.note else {}),
                   **({"version": a.version} if a.version else {}))
    phases = []
    for prev in a.previous:
        p = read_card(os.path.join(prev, "model.keras")) or ModelCard()
        phases.append({
            "command": p.command, "epochs_run": p.training.get("epochs_run"),
            "duration_s": p.training.get("duration_s"),
            "image_size": p.settings.get("image_size"),
            "val_dice_mean": p.val_metrics.get("dice_mean"),
            "test_metrics_at_its_own_threshold": {k: v for k, v in p.test_metrics.items() if k != "per_class"},
        })
    if phases:
        card.training["previous_phases"] = phases
        card.training["duration_s_total"] = (card.training["duration_s"] or 0) + sum(p["duration_s"] or 0 for p in phases)
    os.makedirs(WEIGHTS_DIR, exist_ok=True)
    target = os.path.join(WEIGHTS_DIR, f"{a.stem}.keras")
    with open(os.path.join(a.run, "model.keras"), "rb") as fh:
        write_bytes_atomic(target, fh.read())
    shutil.copyfile(os.path.join(a.run, "split.json"), os.path.join(WEIGHTS_DIR, f"{a.stem}.split.json"))
    write_card(target, card)
    # the ONNX file the CPU serves (core.inference.predictor), exported from the file just shipped
    from core.inference.onnx_export import export_and_record

    export_and_record(target)
    print(f"shipped {a.run} as {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
