"""Compare models, horizontal-flip test-time augmentation and two-model averages on the validation split only.

    python bench/compare_on_val.py NAME=MODEL.keras [NAME=MODEL.keras ...] [--data BUSI_DIR]

Every model must share one split manifest (the first model's is used). Only the
validation images are read: this script exists to choose between recipes without
touching the test split. For each variant it picks the threshold the way training
does (``core.evaluate.choose_threshold``) and prints mean and median lesion Dice,
false alarms on normal images and malignancy AUC.

That threshold is fitted on the same images it is scored on. For a model as
trained it is the card's own, but a new variant (flip, average) gets an
in-sample threshold that flatters it: bench/mirror_on_val.py scores the flip
at each model's card threshold instead, and found no measurable gain.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.data.layouts import load_cases, scan_busi  # noqa: E402
from core.evaluation.folder import manifest_for  # noqa: E402
from core.evaluation.scoring import Scored, choose_threshold, score_predictions, summarise
from core.inference.predictor import Predictor  # noqa: E402
from core.data.split import read_manifest  # noqa: E402


def probabilities(predictor: Predictor, gray: np.ndarray, flip: bool) -> tuple[np.ndarray, float]:
    """Full-resolution lesion probability and malignancy, optionally averaged with the mirrored image's."""
    out = predictor.predict(gray, mirror=flip)
    return out.probability, out.malignancy


def report(name: str, loaded, outputs) -> None:
    scored = [Scored(lc, p, m, 0.0) for lc, (p, m) in zip(loaded, outputs)]
    t = choose_threshold(scored)
    s = summarise(score_predictions(scored, t))
    print(f"{name:28s} threshold {t:.2f}  Dice mean {s['dice_mean']:.3f} median {s['dice_median']:.3f}  "
          f"false alarms {s['false_alarm_rate']:.3f}  AUC {s['malignancy_auc']:.3f}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+", help="NAME=PATH")
    ap.add_argument("--data", default="../shared/busi/Dataset_BUSI_with_GT")
    a = ap.parse_args(argv)
    named = dict(m.split("=", 1) for m in a.models)
    predictors = {n: Predictor.load(p) for n, p in named.items()}
    manifest = manifest_for(next(iter(named.values())))
    wanted = set(read_manifest(manifest)["val"])
    loaded = load_cases([c for c in scan_busi(a.data).cases if c.key in wanted], [])
    print(f"validation split of {manifest}: {len(loaded)} images")
    outputs = {(n, flip): [probabilities(p, lc.gray, flip) for lc in loaded]
               for n, p in predictors.items() for flip in (False, True)}
    for (n, flip), out in outputs.items():
        report(f"{n}{' + flip' if flip else ''}", loaded, out)
    names = list(predictors)
    for flip in (False, True):
        for i, a_name in enumerate(names):
            for b_name in names[i + 1:]:
                avg = [((pa + pb) / 2, (ma + mb) / 2)
                       for (pa, ma), (pb, mb) in zip(outputs[(a_name, flip)], outputs[(b_name, flip)])]
                report(f"mean of {a_name}, {b_name}{' + flip' if flip else ''}", loaded, avg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
