"""95 % confidence intervals for the figures an evaluation reports.

A mean Dice over 76 test images can move by several hundredths on another
sample of the same size, so every summary figure travels with its interval:
a percentile bootstrap over images for the mean Dice, a bootstrap that
resamples malignant and benign lesions separately for the malignancy AUC
(so each resample keeps both classes), and a Wilson score interval for the
false-alarm rate (a proportion over few normal images, where the bootstrap
is poor). The seed is fixed so the same rows always give the same interval.
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binomtest, bootstrap, mannwhitneyu

LEVEL = 0.95
RESAMPLES = 10_000


def _bounds(ci) -> tuple[float, float]:
    return float(ci.low), float(ci.high)


def mean_interval(values, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """Percentile-bootstrap interval of the mean; None with fewer than two values."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if v.size < 2:
        return None
    res = bootstrap((v,), np.mean, confidence_level=level, n_resamples=resamples, method="percentile",
                    random_state=np.random.default_rng(seed))
    return _bounds(res.confidence_interval)


def proportion_interval(hits: int, n: int, level: float = LEVEL) -> tuple[float, float] | None:
    """Wilson score interval of hits/n; None when n is 0."""
    if n <= 0:
        return None
    return _bounds(binomtest(int(hits), int(n)).proportion_ci(confidence_level=level, method="wilson"))


def _auc(positive, negative, axis=-1):
    # The Mann-Whitney U of the positives, over all pairs, is the ROC AUC (ties count one half).
    u = mannwhitneyu(positive, negative, axis=axis, method="asymptotic").statistic
    return u / (positive.shape[axis] * negative.shape[axis])


def auc_interval(labels, scores, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> tuple[float, float] | None:
    """Bootstrap interval of the ROC AUC, resampling each class on its own; None unless each class has two cases."""
    labels, scores = np.asarray(labels), np.asarray(scores, float)
    positive, negative = scores[labels == 1], scores[labels == 0]
    if positive.size < 2 or negative.size < 2:
        return None
    res = bootstrap((positive, negative), _auc, vectorized=True, confidence_level=level, n_resamples=resamples,
                    method="percentile", random_state=np.random.default_rng(seed))
    return _bounds(res.confidence_interval)


def format_bounds(ci, digits: int = 3, percent: bool = False) -> str:
    """'0.690–0.786' (or '6%–41%' with percent), or '' when there is no interval."""
    if not ci:
        return ""
    lo, hi = ci
    return f"{lo:.0%}–{hi:.0%}" if percent else f"{lo:.{digits}f}–{hi:.{digits}f}"


def format_interval(ci, digits: int = 3, percent: bool = False) -> str:
    """'95 % CI 0.690–0.786', or '' when there is no interval."""
    return f"95 % CI {format_bounds(ci, digits, percent)}" if ci else ""


def paired_difference(before, after, level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> dict | None:
    """Mean of after − before over the same images, its bootstrap interval, and what that allows one to say.

    Resampling the per-image differences keeps each image's pair together, which is far tighter than
    comparing two separate intervals: most images score alike under both models.
    """
    d = np.asarray(after, float) - np.asarray(before, float)
    d = d[np.isfinite(d)]
    ci = mean_interval(d, level, resamples, seed)
    if ci is None:
        return None
    verdict = "better" if ci[0] > 0 else "worse" if ci[1] < 0 else "not distinguishable"
    return {"n": int(d.size), "mean": float(d.mean()), "ci": [ci[0], ci[1]], "verdict": verdict,
            "better_on": int((d > 0.01).sum()), "worse_on": int((d < -0.01).sum())}


def difference_caption(diff: dict | None, after: str, before: str) -> str:
    """A paired Dice difference in words, for the pages; '' when there is none."""
    if not diff:
        return ""
    lo, hi = diff["ci"]
    said = {"better": f"{after} is better", "worse": f"{after} is worse",
            "not distinguishable": "these images cannot tell the two apart"}[diff["verdict"]]
    return (f"Mean Dice, {after} − {before}: {diff['mean']:+.3f} (95 % interval {lo:+.3f} to {hi:+.3f}, "
            f"paired over {diff['n']} lesion images; better on {diff['better_on']}, worse on {diff['worse_on']}): {said}.")
