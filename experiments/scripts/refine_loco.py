"""`--refine` where a new hospital meets it: the U-Net's own lesions redrawn by LiteMedSAM, on centres and scanners the
U-Net never saw. Rule and outcome: experiments/LOG.md, "`--refine` under the leave-one-centre-out rule".

For each 12-filter left-out network (its own threshold and gate, from its card) and every image of what it left out:
the U-Net's mask, LiteMedSAM redrawing it from each lesion's tight box, and from the largest lesion's box only
(core.inference.boxprompt.refine, as `python -m core.predict --refine [--refine-largest]` runs it). Dice per lesion
image against the union of its masks; refine − U-Net paired per image; normal scans with a false alarm (the
card's count, core.metrics.scores.false_alarm).

    PYTHONPATH=. python3 experiments/scripts/refine_loco.py RUNS [--json OUT] [--limit N] [--only LABEL]
"""
import argparse
import json
import time

import numpy as np

from core.data.layouts import load_cases, scan_datasets
from core.inference.boxprompt import BoxSegmenter, refine
from core.inference.decision import lesion_mask
from core.inference.predictor import Predictor
from core.metrics.intervals import mean_interval, paired_difference
from core.metrics.scores import dice, false_alarm

BUSI, BUSBRA = "../shared/busi/Dataset_BUSI_with_GT", "../shared/busbra/BUSBRA"
SCANNERS = {"ge_logiq_5__10_12mhz": "GE Logiq 5 @10-12MHz", "ge_logiq_7__10_14mhz": "GE Logiq 7 @10-14MHz",
            "toshiba_aplio_300__12_14_mhz": "Toshiba Aplio 300 @12-14 MHz", "u_systems__10_14mhz": "U-Systems @10-14MHz"}
VARIANTS = ("unet", "refine_each", "refine_largest")


def networks(runs: str) -> list[tuple[str, str, str, str | None]]:
    """(label, model, left-out folder, left-out scanner or None)."""
    out = [("BUSI → BUS-BRA (centre)", f"{runs}/loco/baseline_without_busbra/model.keras", BUSBRA, None),
           ("BUS-BRA → BUSI (centre)", f"{runs}/loco/baseline_s1_without_busi/model.keras", BUSI, None)]
    for slug, device in SCANNERS.items():
        out.append((f"without {device.split(' @')[0]}", f"{runs}/loso/default-design-128_without_{slug}/model.keras",
                    BUSBRA, device))
    return out


def score_network(model: str, folder: str, device: str | None, seg: BoxSegmenter, limit: int | None) -> dict:
    predictor = Predictor.load(model)
    gate = predictor.decision.gate if predictor.decision else None
    cases = [c for c in scan_datasets([folder]).cases if device is None or c.device == device][:limit]
    dices = {v: [] for v in VARIANTS}
    marked = {v: 0 for v in VARIANTS}
    normals = 0
    for lc in load_cases(cases, []):
        prob = predictor.predict(lc.gray).probability
        unet = lesion_mask(prob, predictor.threshold, gate)
        masks = {"unet": unet, "refine_each": refine(seg, lc.gray, unet),
                 "refine_largest": refine(seg, lc.gray, unet, largest_only=True)}
        if lc.mask.any():
            for v, m in masks.items():
                dices[v].append(float(dice(lc.mask, m)))
        else:
            normals += 1
            for v, m in masks.items():
                marked[v] += int(bool(false_alarm(m)))  # the card's count: specks are not a lesion
    rec = {"model": model, "threshold": predictor.threshold, "gate": gate, "lesion_images": len(dices["unet"]),
           "normal_images": normals, "normals_marked": marked}
    for v in VARIANTS:
        rec[v] = {"mean_dice": float(np.mean(dices[v])), "ci95": mean_interval(dices[v]),
                  "median_dice": float(np.median(dices[v]))}
    for v in VARIANTS[1:]:
        rec[f"{v}_minus_unet"] = paired_difference(dices["unet"], dices[v])
    return rec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--json")
    ap.add_argument("--limit", type=int, help="only the first N images of each left-out set (a quick look)")
    ap.add_argument("--only", help="only the left-out sets whose label contains this")
    a = ap.parse_args()
    seg = BoxSegmenter()
    results = []
    print("| left out | lesion images | U-Net | refine, each lesion | paired | refine, largest | paired | normals marked |")
    print("|---|---|---|---|---|---|---|---|")
    for label, model, folder, device in networks(a.runs):
        if a.only and a.only not in label:
            continue
        t0 = time.perf_counter()
        r = {"left_out": label, **score_network(model, folder, device, seg, a.limit)}
        r["seconds"] = round(time.perf_counter() - t0, 1)
        results.append(r)
        cells = [f"{r['unet']['mean_dice']:.3f}"]
        for v in VARIANTS[1:]:
            d = r[f"{v}_minus_unet"]
            cells += [f"{r[v]['mean_dice']:.3f}", f"{d['mean']:+.3f} ({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f})"]
        m = r["normals_marked"]
        normals = f"{m['unet']} / {m['refine_each']} of {r['normal_images']}" if r["normal_images"] else "—"
        print(f"| {label} | {r['lesion_images']} | {' | '.join(cells)} | {normals} |", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
