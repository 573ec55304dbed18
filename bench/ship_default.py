"""Copy a finished run into weights/ as the shipped default, with its card and split manifest.

    python bench/ship_default.py RUN_DIR [--phase1 RUN_DIR]

Writes weights/default.keras, default.card.json, default.card.md and
default.split.json. Files are written atomically, so an interrupted copy
never leaves a half-written default model.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.files import write_bytes_atomic  # noqa: E402
from core.modelcard import read_card, write_card  # noqa: E402
from core.registry import WEIGHTS_DIR  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--phase1", help="the run this one was initialised from, summarised on the card")
    a = ap.parse_args(argv)
    card = read_card(os.path.join(a.run, "model.keras"))
    if not card:
        raise SystemExit(f"{a.run} has no finished model card")
    card["name"] = "default"
    card["data"]["manifest"] = "default.split.json"
    card["recipe"] = "bash bench/train_default.sh ../shared/busi/Dataset_BUSI_with_GT runs"
    if a.phase1:
        p1 = read_card(os.path.join(a.phase1, "model.keras")) or {}
        card["training"]["phase1"] = {
            "command": p1.get("command"), "epochs_run": p1.get("training", {}).get("epochs_run"),
            "duration_s": p1.get("training", {}).get("duration_s"),
            "image_size": p1.get("settings", {}).get("image_size"),
            "test_metrics_at_its_own_threshold": {k: v for k, v in p1.get("test_metrics", {}).items() if k != "per_class"},
        }
        card["training"]["duration_s_total"] = (card["training"]["duration_s"] or 0) + (p1.get("training", {}).get("duration_s") or 0)
    os.makedirs(WEIGHTS_DIR, exist_ok=True)
    target = os.path.join(WEIGHTS_DIR, "default.keras")
    with open(os.path.join(a.run, "model.keras"), "rb") as fh:
        write_bytes_atomic(target, fh.read())
    shutil.copyfile(os.path.join(a.run, "split.json"), os.path.join(WEIGHTS_DIR, "default.split.json"))
    write_card(target, card)
    print(f"shipped {a.run} as {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
