"""Issue 30, third step: does a logistic model over image-level features of the probability map tell lesion images
from normal ones better, at a centre the network never saw, than the lesion score alone? Rule: experiments/LOG.md,
"Generalisation, third step". Every figure of that entry comes from this script.

    python3 experiments/scripts/presence_features.py [--runs /path/to/runs] [--boot 2000]

For each left-out network: the fit set is its own validation split (never trained on) plus a lesion-free crop of
every validation lesion image; the test set is every image of the centre it never saw (BUS-BRA, which has no
normal scans, gets a lesion-free crop of each of its lesion images as its normals).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from core.metrics.scores import roc_auc as auc  # noqa: E402

BUSI = "../shared/busi/Dataset_BUSI_with_GT"
BUSBRA = "../shared/busbra/BUSBRA"
FEATURES = ("lesion_score", "peak", "top1pct_mean", "frame_mean", "marked_fraction", "largest_fraction",
            "log_regions", "solidity", "depth", "touches_edge")


def features(prob: np.ndarray, t: float) -> list[float]:
    """The image-level features of one (S, S) probability map at threshold t."""
    mask = (prob >= t).astype(np.uint8)
    flat = np.sort(prob.ravel())
    top = flat[-max(1, flat.size // 100):].mean()
    n, labels, stats, cents = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return [0.0, float(flat[-1]), float(top), float(prob.mean()), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = labels == largest
    area = int(stats[largest, cv2.CC_STAT_AREA])
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.contourArea(cv2.convexHull(np.vstack(contours)))
    x, y, w, h = stats[largest, :4]
    S0, S1 = prob.shape
    edge = float(x == 0 or y == 0 or x + w >= S1 or y + h >= S0)
    return [float(prob[region].mean()), float(flat[-1]), float(top), float(prob.mean()), float(mask.mean()),
            area / mask.size, float(np.log1p(n - 1)), float(area / hull) if hull > 0 else 1.0,
            float(cents[largest][1] / S0), edge]


def maps(predictor, loaded: list) -> np.ndarray:
    """Each loaded case's probability map at the network's resolution, in batches of 16."""
    out = []
    for i in range(0, len(loaded), 16):
        batch = np.stack([predictor.model_input(lc.gray) for lc in loaded[i:i + 16]])
        out.append(predictor.forward_batch(batch))
    return np.concatenate(out)


def table(predictor, loaded: list) -> tuple[np.ndarray, np.ndarray]:
    probs = maps(predictor, loaded)
    X = np.array([features(p, predictor.threshold) for p in probs])
    y = np.array([int(lc.mask.any()) for lc in loaded])
    return X, y


def paired_auc_difference(y, a, b, boot: int, seed: int = 0) -> tuple[float, float, float]:
    """AUC(b) - AUC(a) on the same images, and its bootstrap 95 % interval (resampling images, stratified)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    diffs = []
    for _ in range(boot):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        diffs.append(auc(y[idx], b[idx]) - auc(y[idx], a[idx]))
    return auc(y, b) - auc(y, a), float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))


def operating_point(fit_y, fit_s, test_y, test_s) -> dict:
    """The gate that keeps 95 % of the fit set's lesion images, applied to the test set."""
    gate = float(np.percentile(fit_s[fit_y == 1], 5))
    flagged = test_s >= gate
    return {"gate": gate, "false_alarms": int(flagged[test_y == 0].sum()), "normals": int((test_y == 0).sum()),
            "lesions_emptied": int((~flagged[test_y == 1]).sum()), "lesions": int((test_y == 1).sum())}


def load(folder: str, keys: list[str] | None = None) -> list:
    from core.data.layouts import load_cases, scan_datasets

    cases = scan_datasets([folder]).cases
    if keys is not None:
        wanted = set(keys)
        cases = [c for c in cases if c.key in wanted]
    return load_cases(cases)


def one_network(run: str, train_folder: str, test_folder: str, boot: int) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from core.inference.predictor import Predictor
    from core.training.negatives import lesion_free_crops

    predictor = Predictor.load(os.path.join(run, "model.keras"))
    val_keys = json.load(open(os.path.join(run, "split.json")))["split"]["val"]
    fit = load(train_folder, val_keys)
    fit += lesion_free_crops(fit)
    test = load(test_folder)
    if not any(not lc.mask.any() for lc in test):  # a centre without normal scans: its own crops stand in
        test += lesion_free_crops(test)
    Xf, yf = table(predictor, fit)
    Xt, yt = table(predictor, test)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000))
    model.fit(Xf, yf)
    a_fit, a_test = Xf[:, 0], Xt[:, 0]
    b_fit, b_test = model.predict_proba(Xf)[:, 1], model.predict_proba(Xt)[:, 1]
    diff = paired_auc_difference(yt, a_test, b_test, boot)
    coef = model[-1].coef_[0]
    return {"network": os.path.basename(run), "threshold": predictor.threshold,
            "fit": {"lesion_images": int(yf.sum()), "normals_and_crops": int((yf == 0).sum())},
            "test": {"lesion_images": int(yt.sum()), "normals": int((yt == 0).sum())},
            "auc_A": auc(yt, a_test), "auc_B": auc(yt, b_test), "auc_B_minus_A": diff,
            "fit_auc_A": auc(yf, a_fit), "fit_auc_B": auc(yf, b_fit),
            "operating_A": operating_point(yf, a_fit, yt, a_test),
            "operating_B": operating_point(yf, b_fit, yt, b_test),
            "coefficients": dict(zip(FEATURES, map(float, coef)))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default=os.environ.get("RUNS", "runs"), help="folder holding loco/<network>/")
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    results = [one_network(os.path.join(a.runs, "loco", "crops_third_without_busi"), BUSBRA, BUSI, a.boot),
               one_network(os.path.join(a.runs, "loco", "crops_third_without_busbra"), BUSI, BUSBRA, a.boot)]
    for r in results:
        d, lo, hi = r["auc_B_minus_A"]
        print(f"{r['network']} (t={r['threshold']:.2f}; fit {r['fit']}; test {r['test']}): presence AUC A "
              f"{r['auc_A']:.3f}, B {r['auc_B']:.3f}, B - A {d:+.3f} ({lo:+.3f} to {hi:+.3f}); on the fit set A "
              f"{r['fit_auc_A']:.3f}, B {r['fit_auc_B']:.3f}")
        for k in ("operating_A", "operating_B"):
            o = r[k]
            print(f"  {k[-1]} gate {o['gate']:.3f} (keeps 95 % of fit lesions): false alarms {o['false_alarms']}/"
                  f"{o['normals']}, lesions emptied {o['lesions_emptied']}/{o['lesions']}")
        print("  B's coefficients (standardised): " + ", ".join(f"{k} {v:+.2f}" for k, v in r["coefficients"].items()))
    busi, busbra = results
    d1, lo1, _ = busi["auc_B_minus_A"]
    d2 = busbra["auc_B_minus_A"][0]
    a_ok, b_ok = d1 >= 0.02 and lo1 > 0, d2 >= -0.01
    print(f"rule: (a) left-out BUSI B - A {d1:+.3f}, interval low {lo1:+.3f}: {'holds' if a_ok else 'fails'}; "
          f"(b) left-out BUS-BRA B - A {d2:+.3f}: {'holds' if b_ok else 'fails'} -> {'B passes' if a_ok and b_ok else 'B fails'}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
