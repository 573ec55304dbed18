"""Score a shipped model on its own test split again with today's scoring, and put the figures on its card.

    python -m tools.rescore_test_split MODEL --data DIR [--data DIR ...] [--dry-run]

For a card written before the scoring gained a figure (the lesion-presence AUC, here): the model, its shipped
threshold and no-lesion gate, and the test side of its split manifest stay as they are; nothing is refitted or
chosen. Every figure the card already holds for the test split, overall, per dataset and per scanner, is compared
with the new one, and the card is left untouched if any differs (that would mean the scoring itself changed, which
a re-score must not hide). Otherwise the figures the card lacked are added (its timings and bootstrap intervals
stay as they were) and the card's Markdown is re-rendered.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import replace

SECTIONS = ("test_metrics", "test_metrics_by_dataset", "test_metrics_by_device")
TIMINGS = {"inference_ms_median"}  # measured, not scored: the card keeps the figure taken when it was written


def _kept(key: str) -> bool:
    """Figures the card keeps as they are: timings, and bootstrap intervals (a resample of the same rows in another
    order moves their third decimal; the card's were published, and the point figures they bound are checked)."""
    return key in TIMINGS or key.endswith("_ci")


def _differences(old, new, where: str = "") -> list[str]:
    """Where two summaries disagree on a figure both hold (floats to 1e-9); figures only ``new`` has are not
    differences."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [d for k in old if k in new and not _kept(k)
                for d in _differences(old[k], new[k], f"{where}.{k}" if where else k)]
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{where}: {len(old)} entries, now {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new)) for d in _differences(a, b, f"{where}[{i}]")]
    if isinstance(old, float) and isinstance(new, (int, float)):
        same = (math.isnan(old) and math.isnan(new)) or abs(old - new) <= 1e-9
        return [] if same else [f"{where}: {old} on the card, {new} now"]
    return [] if old == new else [f"{where}: {old!r} on the card, {new!r} now"]


def rescore(model: str, data: list[str]) -> dict:
    """The test split's figures, as the finish step writes them: overall, per dataset, per scanner."""
    from core.evaluation.folder import evaluate_folder
    from core.inference.predictor import Predictor

    ev = evaluate_folder(Predictor.load(model), data, split="test")
    return {"test_metrics": ev.summary, "test_metrics_by_dataset": ev.by_dataset,
            "test_metrics_by_device": {k: v for k, v in ev.by_device.items() if k != "unknown"}}


def main(argv=None) -> int:
    from core.cards.modelcard import write_card
    from core.cards.schema import read_card

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--data", required=True, action="append", help="the dataset folders its split names")
    ap.add_argument("--dry-run", action="store_true", help="compare and print, write nothing")
    a = ap.parse_args(argv)
    card = read_card(a.model)
    if card is None:
        raise SystemExit(f"{a.model} has no card")
    new = rescore(a.model, a.data)
    differences = [d for s in SECTIONS for d in _differences(getattr(card, s) or {}, new[s], s)]
    if differences:
        print("The re-score disagrees with the card, which is left as it is:\n  " + "\n  ".join(differences))
        return 1
    added = sorted({f"{s}.{k}" for s in SECTIONS for k in _added(getattr(card, s) or {}, new[s])})
    print(f"every figure on the card reproduces; new: {', '.join(added) or 'nothing'}")
    if not a.dry_run:
        write_card(a.model, replace(card, **{s: _keep(getattr(card, s) or {}, new[s]) for s in SECTIONS}))
        print(f"written into {a.model.rsplit('.', 1)[0]}.card.json")
    return 0


def _keep(old, new):
    """``new``, with the card's own timings and intervals wherever it had them."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: old[k] if _kept(k) and k in old else _keep(old.get(k), v) for k, v in new.items()}
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_keep(a, b) for a, b in zip(old, new)]
    return new


def _added(old: dict, new: dict) -> set[str]:
    """Names of figures ``new`` holds that ``old`` lacks, at any depth of the summary."""
    out = set()
    for k, v in new.items():
        if k not in old:
            out.add(k)
        elif isinstance(v, dict) and isinstance(old[k], dict):
            out |= _added(old[k], v)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
