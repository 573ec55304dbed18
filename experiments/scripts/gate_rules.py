"""Two ways to fit the no-lesion gate, compared where it matters: on the centre or scanner a network never saw.

R1 is the product's rule (core.evaluation.decision_fit.choose_gate: the gate maximising the mean of validation
lesion Dice and clean normal scans; none without validation normals). R2 anchors the gate on lesions alone: the
largest gate of the same grid that keeps at least 97.5 % of the validation lesion images the network marks. Both are
fitted on the network's own validation split (less the left-out scanner's images), then applied to every image of
what it left out. Rule and outcome: experiments/LOG.md, "Fitting the gate".

    PYTHONPATH=. python3 experiments/scripts/gate_rules.py RUNS [--json OUT]
"""
import argparse
import json

import numpy as np

from core.evaluation.decision_fit import choose_gate, gate_candidates, gate_objective
from core.evaluation.folder import evaluate_folder
from core.inference.decision import lesion_score
from core.inference.predictor import Predictor

BUSI, BUSBRA = "../shared/busi/Dataset_BUSI_with_GT", "../shared/busbra/BUSBRA"
SCANNERS = {"ge_logiq_5__10_12mhz": "GE Logiq 5 @10-12MHz", "ge_logiq_7__10_14mhz": "GE Logiq 7 @10-14MHz"}
KEEP = 0.975


def networks(runs: str) -> list[tuple[str, str, list[str], str, str | None]]:
    """(label, model, training folders, left-out folder, left-out scanner) for every left-out network studied."""
    out = []
    for design, busi_only, busbra_only in [("12 filters", "baseline_without_busbra", "baseline_s1_without_busi"),
                                           ("narrow8", "narrow8_without_busbra", "narrow8_without_busi"),
                                           ("distil8", "distil8_without_busbra", "distil8_without_busi"),
                                           ("top8", "top8_without_busbra", "top8_without_busi")]:
        out.append((f"{design}: BUSI → BUS-BRA", f"{runs}/loco/{busi_only}/model.keras", [BUSI], BUSBRA, None))
        out.append((f"{design}: BUS-BRA → BUSI", f"{runs}/loco/{busbra_only}/model.keras", [BUSBRA], BUSI, None))
        for slug, device in SCANNERS.items():
            name = ("default-design-128" if design == "12 filters" else design) + f"_without_{slug}"
            out.append((f"{design}: without {device.split(' @')[0]}", f"{runs}/loso/{name}/model.keras",
                        [BUSI, BUSBRA], BUSBRA, device))
    return out


def sensitivity_gate(scored, threshold: float) -> float | None:
    """R2: the largest gate of choose_gate's grid that keeps KEEP of the validation lesion images the network marks."""
    scores = np.array([lesion_score(s.probability, threshold) for s in scored if s.case.mask.any()])
    scores = scores[scores > 0]
    kept = [g for g in gate_candidates(threshold) if scores.size and np.mean(scores >= g) >= KEEP]
    return max(kept) if kept else None


def outcome(scored, threshold: float, gate: float | None) -> dict:
    _, dice, fa = gate_objective(scored, threshold, gate)
    lesion = [lesion_score(s.probability, threshold) for s in scored if s.case.mask.any()]
    normals = sum(1 for s in scored if not s.case.mask.any())
    emptied = sum(1 for v in lesion if v > 0 and gate is not None and v < gate)
    return {"gate": gate, "dice": dice, "emptied": emptied, "n_lesion": len(lesion),
            "normals_flagged": round(fa * normals) if normals else None, "n_normal": normals}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--json")
    a = ap.parse_args()
    results = []
    print("| network | R1 gate | R2 gate | Dice: none / R1 / R2 | lesions emptied: R1 / R2 | normals flagged: none / R1 / R2 |")
    print("|---|---|---|---|---|---|")
    for label, model, train, left, device in networks(a.runs):
        predictor = Predictor.load(model)
        thr = predictor.threshold
        val = [s for s in evaluate_folder(predictor, train, split="val").scored
               if device is None or s.case.case.device != device]
        g1 = (choose_gate(val, thr) or {}).get("min_score")
        g2 = sensitivity_gate(val, thr)
        scored = [s for s in evaluate_folder(predictor, [left]).scored if device is None or s.case.case.device == device]
        r = {"network": label, "model": model, "threshold": thr,
             **{k: outcome(scored, thr, g) for k, g in (("none", None), ("R1", g1), ("R2", g2))}}
        results.append(r)
        n = r["none"]
        flagged = "—" if n["normals_flagged"] is None else \
            f"{n['normals_flagged']} / {r['R1']['normals_flagged']} / {r['R2']['normals_flagged']} of {n['n_normal']}"
        print(f"| {label} | {g1} | {g2} | {n['dice']:.3f} / {r['R1']['dice']:.3f} / {r['R2']['dice']:.3f} | "
              f"{r['R1']['emptied']} / {r['R2']['emptied']} of {n['n_lesion']} | {flagged} |", flush=True)
        del val, scored
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
