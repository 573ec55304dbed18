"""Put a leave-one-dataset-out figure on a model card: a model trained on one dataset, scored on another.

    python tools/cross_centre.py CARD_MODEL --model OTHER --trained-on BUSI --scored-on BUS-BRA --data DIR
        [--manifest split.json --side test] [--note TEXT]

Scores OTHER (a network of the same design trained on one dataset only) on DIR, or on one side of a split
manifest, with OTHER's own threshold and decision rule, and writes the figures into CARD_MODEL's card under
``cross_centre`` (replacing an entry for the same pair), with the malignancy AUC under ``cross_centre_auc``
for the Segment page's wording. Then re-renders the card's Markdown. Nothing is chosen from these figures.
"""
from __future__ import annotations

import argparse
from dataclasses import replace

from core.cards.modelcard import write_card
from core.cards.schema import read_card
from core.evaluation.folder import evaluate_folder
from core.inference.predictor import Predictor


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("card_model", help="the model whose card receives the figure")
    ap.add_argument("--model", required=True, help="the model trained on one dataset only")
    ap.add_argument("--trained-on", required=True)
    ap.add_argument("--scored-on", required=True)
    ap.add_argument("--data", required=True, action="append")
    ap.add_argument("--manifest", help="score only one side of this split manifest")
    ap.add_argument("--side", default="test")
    ap.add_argument("--note", default="")
    a = ap.parse_args(argv)
    card = read_card(a.card_model)
    if card is None:
        raise SystemExit(f"{a.card_model} has no card")
    predictor = Predictor.load(a.model)
    ev = evaluate_folder(predictor, a.data, split=a.side if a.manifest else None, manifest=a.manifest)
    metrics = {k: v for k, v in ev.summary.items() if k not in ("per_class",)}
    entry = {"trained_on": a.trained_on, "scored_on": a.scored_on, "model": a.model,
             "images": f"{a.side} split of {a.manifest}" if a.manifest else "all images", "threshold": ev.threshold,
             "metrics": metrics, "note": a.note}
    kept = [c for c in card.cross_centre or [] if (c.trained_on, c.scored_on) != (a.trained_on, a.scored_on)]
    auc = dict(card.cross_centre_auc or {})
    if metrics.get("malignancy_auc") is not None:
        auc[a.scored_on] = {"auc": metrics["malignancy_auc"], "ci": metrics.get("malignancy_auc_ci"),
                            "trained_on": a.trained_on}
    write_card(a.card_model, replace(card, cross_centre=[*kept, entry], cross_centre_auc=auc or card.cross_centre_auc))
    print(f"{a.trained_on} -> {a.scored_on}: Dice {metrics.get('dice_mean')}, false alarms "
          f"{metrics.get('false_alarm_rate')}, AUC {metrics.get('malignancy_auc')} (n={metrics.get('n_images')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
