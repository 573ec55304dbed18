"""Would a smarter rule for turning probabilities into a mask recover the misses? Validation only, train-only models.

    python3 bench/decision_rules_on_val.py [--data BUSI_DIR] [MODEL.keras ...]

By default it scores the three shipped models trained on the train split alone
(``weights/d5_256.keras``, ``weights/f12_256.keras``, ``weights/f12_128.keras``),
whose validation images are truly held out. For each it prints the mean lesion
Dice at the card's threshold, then two rules that cost nothing at inference:

- **class-conditional threshold**: one threshold where the malignancy head says
  benign (< 0.5), another where it says malignant (both from 0.3 to 0.6);
- **fallback for an empty mask**: where nothing reaches the threshold but the
  highest probability reaches f (0.1, 0.2, 0.3), mark the pixels at or above half
  that maximum (with the false alarms it would add on normal images).

It also lists the misses (Dice < 0.3): the highest probability anywhere, and the
highest inside the true lesion. That says whether a miss is a weak mark in the
right place, which a rule could recover, or a confident mark in the wrong place,
which it cannot.

A diagnostic, not a rule for shipping: no rule here is adopted unless it adds
at least 0.01 for all three models (the bar of bench/postprocess_on_val.py).
Outcome (2026-11-25, about 3 min): no rule moves Dice by more than +0.005 for
any model (D5B 0.706 -> at best 0.708; B 0.687 -> 0.692; A 0.706 -> 0.707), and
the fallback changes nothing but one more false alarm for A. The misses are not
weak marks in the right place. Where D5B leaves the mask empty (6 of its 13
misses), its strongest response lies outside the lesion (at most 0.12 inside),
so a fallback marks the wrong place. For B and A, 7 of 14 and 7 of 13 misses peak
above 0.65 elsewhere while staying under 0.2 inside the lesion. So no rule is
adopted; the misses need a better model or more data.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.evaluation.folder import evaluate_folder  # noqa: E402
from core.inference.predictor import Predictor  # noqa: E402
from core.metrics.scores import dice, false_alarm  # noqa: E402

MODELS = ["weights/d5_256.keras", "weights/f12_256.keras", "weights/f12_128.keras"]
THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
FALLBACKS = (0.1, 0.2, 0.3)


def with_fallback(probability: np.ndarray, threshold: float, floor: float) -> np.ndarray:
    """The thresholded mask; if it is empty and the maximum reaches floor, the pixels at or above half the maximum."""
    mask = probability >= threshold
    peak = float(probability.max())
    if not mask.any() and peak >= floor:
        mask = probability >= 0.5 * peak
    return mask


def report(path: str, data: str) -> None:
    predictor = Predictor.load(path)
    t = predictor.threshold
    scored = evaluate_folder(predictor, data, split="val").scored
    lesions = [s for s in scored if s.case.mask.any()]
    normals = [s for s in scored if not s.case.mask.any()]
    base = [dice(s.case.mask, s.probability >= t) for s in lesions]
    print(f"\n{os.path.basename(path)}: threshold {t:.2f}, mean lesion Dice {np.mean(base):.3f} over {len(lesions)}")
    print("  misses (Dice, highest probability, highest inside the lesion, class):")
    for d, s in zip(base, lesions):
        if d < 0.3:
            print(f"    {d:.2f}  {s.probability.max():.2f}  {s.probability[s.case.mask].max():.2f}  {s.case.case.label}")
    print("  class-conditional threshold (rows: benign-looking, columns: malignant-looking):")
    print("          " + "".join(f"  {m:.1f}  " for m in THRESHOLDS))
    for b in THRESHOLDS:
        row = [np.mean([dice(s.case.mask, s.probability >= (m if (s.malignancy or 0) >= 0.5 else b)) for s in lesions])
               for m in THRESHOLDS]
        print(f"    {b:.1f}   " + "".join(f" {v:.3f} " for v in row))
    alarms = sum(false_alarm(s.probability >= t) for s in normals)
    for f in FALLBACKS:
        d = np.mean([dice(s.case.mask, with_fallback(s.probability, t, f)) for s in lesions])
        fa = sum(false_alarm(with_fallback(s.probability, t, f)) for s in normals)
        print(f"  fallback f={f:.1f}: Dice {d:.3f}; false alarms {fa}/{len(normals)} (as shipped {alarms})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*", default=MODELS)
    ap.add_argument("--data", default="../shared/busi/Dataset_BUSI_with_GT")
    a = ap.parse_args(argv)
    for m in a.models:
        report(m, a.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
