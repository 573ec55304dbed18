"""What a new hospital gets from a recipe: leave-one-centre-out networks, scored on every image of the centre left out.

    python -m tools.leave_one_out --name NAME --data BUSI_DIR --data BUSBRA_DIR --runs RUNS --out OUT
        [--scanners DATA [--device SCANNER ...]] [--baseline BASE_OUT] [--card MODEL] -- CORE_TRAIN_ARGS...

For each dataset named by --data, a network is trained with ``python -m core.train CORE_TRAIN_ARGS`` on the other
datasets only (``RUNS/NAME_without_<dataset>``; skipped when that run already holds a finished model, resumed when
it holds a half-finished one), then scored with its own threshold and decision rule on every image of the left-out
dataset. OUT/NAME/without_<dataset>/ receives per_image.csv and summary.json (overall, per scanner and by lesion
size), and the table below is printed:

    recipe | left-out centre | images | lesion Dice | lesions < 2 % of frame | false alarms | presence AUC | malignancy AUC

A network with a no-lesion gate is scored without it too, and a left-out scanner's network carries its own test
figure on the scanners it did train on: both go on the card beside its row, so a reader can tell what the new
scanner costs from what the network's budget or its gate costs.

With --baseline (another recipe's OUT/NAME folder), the paired difference in lesion Dice on the same images is
printed too. With --card, the rows are written into that model's card as its new-hospital figures
(``cross_centre``), and its Markdown is re-rendered. Nothing here is chosen from the figures it prints: the rule
that decides between recipes is written down before they run (experiments/LOG.md).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys

NAMES = {"busi": "BUSI", "busbra": "BUS-BRA"}


def dataset_name(folder: str) -> str:
    """The layout's dataset name of a folder ('busi', 'busbra'); one folder holds one dataset here."""
    from core.data.layouts import scan_datasets

    found = {c.dataset for c in scan_datasets([folder]).cases}
    if len(found) != 1:
        raise SystemExit(f"{folder} holds {sorted(found) or 'no'} datasets; give one dataset per --data")
    return found.pop()


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")


def train_without(name: str, left_out: str, others: list[str], runs: str, train_args: list[str]) -> str:
    """The finished model trained on ``others`` only, training it first unless its run already finished.
    ``left_out`` names what is missing: a dataset, or a scanner (then train_args carry --exclude-device)."""
    run = os.path.join(runs, f"{name}_without_{slug(left_out)}")
    model = os.path.join(run, "model.keras")
    if not (os.path.isfile(model) and os.path.isfile(os.path.join(run, "model.card.json"))):
        cmd = [sys.executable, "-m", "core.train", *[a for d in others for a in ("--data", d)], "--out", run,
               "--resume", *train_args]
        print("training:", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    return model


def score_left_out(model: str, folder: str, out: str, device: str | None = None) -> dict:
    """Score one left-out network on every image of the folder (only those of one scanner, with ``device``);
    write per_image.csv and summary.json."""
    from core.evaluation.folder import evaluate_folder
    from core.evaluation.scoring import summarise, summarise_by, write_rows_csv
    from core.inference.predictor import Predictor

    predictor = Predictor.load(model)
    ev = evaluate_folder(predictor, [folder])
    rows = [r for r in ev.rows if device is None or r.get("device") == device]
    os.makedirs(out, exist_ok=True)
    write_rows_csv(os.path.join(out, "per_image.csv"), rows)
    summary = {"model": model, "threshold": ev.threshold, "overall": summarise(rows),
               "by_device": summarise_by(rows, "device"), "without_gate": without_gate(predictor, ev, device)}
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=1, default=float)
    return summary


def without_gate(predictor, ev, device: str | None) -> dict | None:
    """The same images scored without the network's no-lesion gate: what the gate, fitted where the network trained,
    costs in lesions at a centre or scanner it never saw (None for a network without a gate)."""
    from dataclasses import replace

    from core.evaluation.scoring import score_predictions, summarise

    if ev.gate is None:
        return None
    rows = [r for r in score_predictions(ev.scored, ev.threshold, replace(predictor.decision, gate=None))
            if device is None or r.get("device") == device]
    s = summarise(rows)
    return {"gate": ev.gate, **{k: s.get(k) for k in ("dice_mean", "dice_mean_ci", "n_lesion", "n_missed",
                                                       "n_unmarked", "false_alarm_rate", "n_normal")}}


def small_lesion_dice(summary: dict) -> tuple[float | None, int]:
    band = next((b for b in summary.get("by_size") or [] if b["band"] == "under 2 %"), None)
    return (band["dice_mean"], band["n"]) if band else (None, 0)


def table_row(name: str, left_out: str, s: dict) -> list[str]:
    from core.metrics.intervals import format_bounds

    def with_ci(v, ci, pct=False):
        if v is None:
            return "—"
        text = f"{v:.0%}" if pct else f"{v:.3f}"
        return f"{text} ({format_bounds(ci, percent=pct)})" if ci else text

    small, n_small = small_lesion_dice(s)
    fa = s.get("false_alarm_rate")
    alarms = "no normals" if fa is None else (f"{round(fa * s['n_normal'])} of {s['n_normal']}, "
                                              + with_ci(fa, s.get("false_alarm_rate_ci"), pct=True))
    return [name, NAMES.get(left_out, left_out), str(s["n_images"]), with_ci(s["dice_mean"], s.get("dice_mean_ci")),
            "—" if small is None else f"{small:.3f} (n={n_small})", alarms,
            with_ci(s.get("presence_auc"), s.get("presence_auc_ci")),
            with_ci(s.get("malignancy_auc"), s.get("malignancy_auc_ci"))]


HEADER = ["recipe", "left-out centre", "images", "lesion Dice (95 % CI)", "lesions < 2 % of frame",
          "false alarms on normal scans", "presence AUC", "malignancy AUC"]


def paired(base_csv: str, cand_csv: str) -> dict | None:
    from core.metrics.intervals import paired_difference

    def dice(path):
        with open(path) as fh:
            return {r["key"]: float(r["dice"]) for r in csv.DictReader(fh) if float(r["gt_area_px"]) > 0}

    a, b = dice(base_csv), dice(cand_csv)
    keys = sorted(set(a) & set(b))
    return paired_difference([a[k] for k in keys], [b[k] for k in keys])


def card_entry(name: str, left_out: str, trained_on: list[str], summary: dict, note: str, kind: str) -> dict:
    entry = {"trained_on": " + ".join(trained_on), "scored_on": NAMES.get(left_out, left_out), "left_out": kind,
             "recipe": name, "model": summary["model"], "images": "all images", "threshold": summary["threshold"],
             "metrics": summary["overall"],
             "by_device": {k: v for k, v in summary["by_device"].items() if k != "unknown"}, "note": note}
    if kind == "scanner":
        entry["seen_scanners"] = seen_scanners(summary["model"], left_out)
    if summary.get("without_gate"):
        entry["without_gate"] = summary["without_gate"]
    return entry


def seen_scanners(model: str, left_out: str) -> dict | None:
    """The network's mean lesion Dice on its own test images of the scanners it trained on (its card's per-scanner
    test figures, pooled by lesion count): what it does where it has seen the scanner, beside what it does where
    it has not."""
    from core.cards.schema import read_card

    card = read_card(model)
    by_device = {k: v for k, v in ((card.test_metrics_by_device if card else None) or {}).items()
                 if k not in ("unknown", left_out) and v.get("n_lesion") and v.get("dice_mean") is not None}
    n = sum(v["n_lesion"] for v in by_device.values())
    if not n:
        return None
    return {"dice_mean": sum(v["n_lesion"] * v["dice_mean"] for v in by_device.values()) / n, "n_lesion": n,
            "scanners": sorted(by_device)}


def write_to_card(card_model: str, entries: list[dict]) -> None:
    from dataclasses import replace

    from core.cards.modelcard import write_card
    from core.cards.schema import read_card

    card = read_card(card_model)
    if card is None:
        raise SystemExit(f"{card_model} has no card")
    pairs = {(e["trained_on"], e["scored_on"]) for e in entries}
    kept = [c for c in card.cross_centre or [] if (c.trained_on, c.scored_on) not in pairs]
    auc = dict(card.cross_centre_auc or {})
    for e in entries:
        # the Segment page's malignancy wording cites the left-out centres, not the scanners within one
        if e["left_out"] == "centre" and e["metrics"].get("malignancy_auc") is not None:
            auc[e["scored_on"]] = {"auc": e["metrics"]["malignancy_auc"], "ci": e["metrics"].get("malignancy_auc_ci"),
                                   "trained_on": e["trained_on"]}
    write_card(card_model, replace(card, cross_centre=entries + kept, cross_centre_auc=auc or card.cross_centre_auc))


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_args = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="the recipe's name, for run folders and the table")
    ap.add_argument("--data", required=True, action="append", help="one dataset folder per centre (two or more)")
    ap.add_argument("--runs", required=True, help="where the left-out networks' run folders go")
    ap.add_argument("--out", required=True, help="where per-image scores and summaries go")
    ap.add_argument("--scanners", metavar="DATA", help="also leave out each scanner of this --data folder in turn "
                    "(its layout's device column), training on everything else, and score that scanner's images")
    ap.add_argument("--device", action="append", metavar="SCANNER",
                    help="with --scanners: leave out only this scanner (repeatable, in this order) and skip the "
                         "left-out centres, e.g. to train the rarer scanners' networks first")
    ap.add_argument("--baseline", help="another recipe's OUT/NAME folder: print paired Dice differences against it")
    ap.add_argument("--card", help="write the rows into this model's card as its new-hospital figures")
    ap.add_argument("--note", default="", help="a sentence for the card beside each row")
    a = ap.parse_args(argv)
    if len(a.data) < 2:
        ap.error("leave-one-centre-out needs two or more --data folders")
    names = {d: dataset_name(d) for d in a.data}
    rows, entries = [], []
    if a.device and not a.scanners:
        ap.error("--device needs --scanners DATA")
    plan = [] if a.device else [(folder, left_out, [d for d in a.data if d != folder], train_args, None)
                                for folder, left_out in names.items()]
    if a.scanners:
        from core.data.layouts import scan_datasets

        devices = sorted({c.device for c in scan_datasets([a.scanners]).cases} - {"unknown"})
        unknown = sorted(set(a.device or []) - set(devices))
        if unknown:
            ap.error(f"{a.scanners} has no images of {', '.join(unknown)}; its scanners: {', '.join(devices)}")
        plan += [(a.scanners, dev, a.data, [*train_args, "--exclude-device", dev], dev) for dev in a.device or devices]
    for folder, left_out, others, args, device in plan:
        model = train_without(a.name, left_out, others, a.runs, args)
        out = os.path.join(a.out, a.name, f"without_{slug(left_out)}")
        summary = score_left_out(model, folder, out, device)
        rows.append(table_row(a.name, left_out, summary["overall"]))
        print("| " + " | ".join(rows[-1]) + " |", flush=True)
        trained_on = [NAMES.get(names[d], names[d]) + (f" without {device}" if d == folder else "") for d in others]
        entries.append(card_entry(a.name, left_out, trained_on, summary, a.note, "scanner" if device else "centre"))
        if a.baseline:
            base_csv = os.path.join(a.baseline, f"without_{slug(left_out)}", "per_image.csv")
            if os.path.isfile(base_csv):
                d = paired(base_csv, os.path.join(out, "per_image.csv"))
                if d:
                    print(f"{NAMES.get(left_out, left_out)} left out: {a.name} − baseline lesion Dice "
                          f"{d['mean']:+.3f} (95 % CI {d['ci'][0]:+.3f} to {d['ci'][1]:+.3f}), better on {d['better_on']}, "
                          f"worse on {d['worse_on']} of {d['n']}")
    print("| " + " | ".join(HEADER) + " |\n|" + "---|" * len(HEADER))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    if a.card:
        write_to_card(a.card, entries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
