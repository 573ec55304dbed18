"""The no-lesion gate fitted at the new centre itself, on half of its labelled images, against the training centre's
gate, scored on the other half. Rule and outcome: experiments/LOG.md, "Fitting the gate at the hospital itself".

For each BUS-BRA-only network (it never saw BUSI) and all of BUSI: five seeded halvings (near-duplicate groups whole,
classes balanced), each half fitting the product's gate rule (core.evaluation.decision_fit.choose_gate) and the other
scored; the same scoring half under the network's own card gate. Also a small site sample: 20 lesion images and 20
normals drawn from the fitting half.

    PYTHONPATH=. python3 experiments/scripts/site_gate.py RUNS [--json OUT]
"""
import argparse
import json

import numpy as np

from core.data.dataset_audit import group_cases
from core.data.split import make_split
from core.evaluation.decision_fit import choose_gate, gate_objective
from core.evaluation.folder import evaluate_folder
from core.inference.predictor import Predictor

BUSI = "../shared/busi/Dataset_BUSI_with_GT"
NETWORKS = ("baseline_s1_without_busi", "narrow8_without_busi", "distil8_without_busi", "top8_without_busi")
SEEDS = range(5)
SMALL = 20


def outcome(scored, threshold: float, gate: float | None) -> dict:
    objective, dice, fa = gate_objective(scored, threshold, gate)
    return {"objective": objective, "dice": dice, "normals_flagged": fa * sum(not s.case.mask.any() for s in scored)}


def small_sample(scored, seed: int) -> list:
    rng = np.random.default_rng(seed)
    lesion = [s for s in scored if s.case.mask.any()]
    normal = [s for s in scored if not s.case.mask.any()]
    pick = lambda xs: [xs[i] for i in rng.choice(len(xs), min(SMALL, len(xs)), replace=False)]  # noqa: E731
    return pick(lesion) + pick(normal)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("--json")
    a = ap.parse_args()
    results = []
    print("| network | card gate | site gates chosen | objective: card / site / site, 20+20 | lesion Dice: card / site | "
          "normals flagged (of a half): card / site |")
    print("|---|---|---|---|---|---|")
    for name in NETWORKS:
        predictor = Predictor.load(f"{a.runs}/loco/{name}/model.keras")
        thr, card_gate = predictor.threshold, predictor.decision.gate
        ev = evaluate_folder(predictor, [BUSI])
        scored = ev.scored
        group_of = group_cases([s.case for s in scored]).group_of
        keys = [s.case.case.key for s in scored]
        labels = [s.case.case.label for s in scored]
        by_key = dict(zip(keys, scored))
        fits = []
        for seed in SEEDS:
            halves = make_split(keys, labels, [group_of[k] for k in keys], seed, val_fraction=0.0, test_fraction=0.5)
            halves["train"] += halves.pop("val")  # make_split always keeps one group aside for validation
            for fit_side, score_side in (("train", "test"), ("test", "train")):
                fit = [by_key[k] for k in halves[fit_side]]
                score = [by_key[k] for k in halves[score_side]]
                site = (choose_gate(fit, thr) or {}).get("min_score")
                small = (choose_gate(small_sample(fit, seed), thr) or {}).get("min_score")
                fits.append({"seed": seed, "fit_on": fit_side, "site_gate": site, "small_gate": small,
                             "card": outcome(score, thr, card_gate), "site": outcome(score, thr, site),
                             "small": outcome(score, thr, small)})
        mean = {k: {m: float(np.mean([f[k][m] for f in fits])) for m in ("objective", "dice", "normals_flagged")}
                for k in ("card", "site", "small")}
        r = {"network": name, "threshold": thr, "card_gate": card_gate, "fits": fits, "mean": mean,
             "objective_site_minus_card": mean["site"]["objective"] - mean["card"]["objective"]}
        results.append(r)
        gates = sorted({f["site_gate"] for f in fits}, key=lambda g: -1 if g is None else g)
        print(f"| {name} | {card_gate} | {', '.join(str(g) for g in gates)} | {mean['card']['objective']:.3f} / "
              f"{mean['site']['objective']:.3f} / {mean['small']['objective']:.3f} | {mean['card']['dice']:.3f} / "
              f"{mean['site']['dice']:.3f} | {mean['card']['normals_flagged']:.1f} / "
              f"{mean['site']['normals_flagged']:.1f} |", flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
