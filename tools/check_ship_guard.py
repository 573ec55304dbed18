"""A ship rule's figure check: exit 0 when a finished run's figures pass, 3 when they do not.

    python tools/check_ship_guard.py RUN_DIR/model.card.json --min-dice D [--max-false-alarms 0.25]
        [--min-auc 0.85] [--on test|val]

The refit and averaging scripts write their rule in their header before the run
starts; this applies it to the card the run wrote, and prints the figures
whatever they are. --on test (the default) is the broken-run guard of a refit,
which has no validation images left; --on val is the promotion rule of a
candidate trained on the train split, whose test figures stay unread.
"""
from __future__ import annotations

import argparse
import sys

from core.cards.schema import read_card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("card")
    ap.add_argument("--min-dice", type=float, required=True, help="lowest acceptable mean lesion Dice")
    ap.add_argument("--max-false-alarms", type=float, default=0.25)
    ap.add_argument("--min-auc", type=float, default=0.85)
    ap.add_argument("--on", choices=["test", "val"], default="test", help="which split's figures the rule reads")
    a = ap.parse_args(argv)
    card = read_card(a.card)
    if card is None:
        raise SystemExit(f"{a.card}: no readable model card")
    t = card.test_metrics if a.on == "test" else card.val_metrics
    ok = (t["dice_mean"] >= a.min_dice and t["false_alarm_rate"] <= a.max_false_alarms
          and t["malignancy_auc"] >= a.min_auc)
    print(f"{a.card} on {a.on}: Dice {t['dice_mean']:.3f} (needs ≥ {a.min_dice:.3f}), false alarms "
          f"{t['false_alarm_rate']:.3f} (≤ {a.max_false_alarms}), AUC {t['malignancy_auc']:.3f} (≥ {a.min_auc}): "
          f"{'ships' if ok else 'does not ship'}")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
