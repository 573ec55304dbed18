"""How far apart two models really are on the same images: a paired bootstrap of mean lesion Dice.

    python bench/paired_difference.py A/per_image.csv B/per_image.csv [--resamples 10000] [--keys FILE]

Each CSV is `python -m core.evaluate ... --out DIR`'s per_image.csv, on the same images. Prints each
model's mean Dice and misses (Dice < 0.3) over the lesion images, the mean of B - A, and a 95 %
percentile interval from resampling the images with replacement (seed 0). An interval that spans 0
means this split cannot tell the two apart. With --keys (case keys one per line, '#' comments, e.g.
experiments/scripts/axillary_keys.txt) it also prints the same for the images named there and for the rest.
"""
from __future__ import annotations

import argparse
import csv
import os

import numpy as np


def lesion_dice(path: str) -> dict[str, float]:
    with open(path) as fh:
        return {r["key"]: float(r["dice"]) for r in csv.DictReader(fh) if float(r["gt_area_px"]) > 0}


def report(title: str, keys: list[str], a: dict[str, float], b: dict[str, float], resamples: int) -> None:
    print(f"{title}: {len(keys)} lesion images")
    if not keys:
        return
    da, db = np.array([a[k] for k in keys]), np.array([b[k] for k in keys])
    diff = db - da
    idx = np.random.default_rng(0).integers(0, len(keys), (resamples, len(keys)))
    lo, hi = np.percentile(diff[idx].mean(1), [2.5, 97.5])
    for name, d in (("A", da), ("B", db)):
        print(f"  {name}: mean Dice {d.mean():.3f}, median {np.median(d):.3f}, misses (Dice < 0.3) {(d < 0.3).sum()}")
    print(f"  B - A: {diff.mean():+.3f}, 95 % interval [{lo:+.3f}, {hi:+.3f}]; B better on {(diff > 0.01).sum()}, "
          f"worse on {(diff < -0.01).sum()}, within 0.01 on {(abs(diff) <= 0.01).sum()}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--resamples", type=int, default=10000)
    ap.add_argument("--keys", help="also compare on the images named in this file, and on the rest")
    args = ap.parse_args(argv)
    a, b = lesion_dice(args.a), lesion_dice(args.b)
    keys = sorted(set(a) & set(b))
    if len(keys) != len(a) or len(keys) != len(b):
        raise SystemExit("the two files do not cover the same lesion images")
    report("all", keys, a, b, args.resamples)
    if args.keys:
        from core.data.layouts import read_key_list

        named = set(read_key_list(args.keys))
        report(f"named in {os.path.basename(args.keys)}", [k for k in keys if k in named], a, b, args.resamples)
        report("the rest", [k for k in keys if k not in named], a, b, args.resamples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
