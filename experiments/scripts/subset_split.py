"""Nested, group-whole subsets of a split's training side, for a learning curve.

    python bench/subset_split.py --data DIR --split weights/default.split.json --out-dir DIR 0.25 0.5 1.0

Writes DIR/split_<pct>.json for each fraction: the same val and test lists as the given manifest, and a
training list cut down to about that fraction of its images. Near-duplicate groups (core.audit) are kept
whole, classes keep their shares, and the subsets are nested (the 25 % list is inside the 50 % one), so
the only thing that changes between the curve's points is how many training images the network sees.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core.data.audit import load_and_group  # noqa: E402
from core.data.split import check_no_group_leak, read_manifest, shuffled_groups, write_manifest  # noqa: E402


def nested_subsets(train: list[str], label_of: dict[str, str], group_of: dict[str, int], fractions: list[float],
                   seed: int = 0) -> dict[float, list[str]]:
    """For each fraction, a training list of about that share of each class, built from whole groups.

    The groups of each class are shuffled once (seeded, as core.split deals them) and taken in that order,
    so a smaller subset is always a prefix of a larger one."""
    by_class: dict[str, list[list[str]]] = {}
    for cls, m in shuffled_groups(train, [label_of[k] for k in train], [group_of[k] for k in train], seed):
        by_class.setdefault(cls, []).append(m)
    out = {}
    for f in fractions:
        chosen: list[str] = []
        for groups in by_class.values():
            want = round(f * sum(len(m) for m in groups))
            got = 0
            for m in groups:
                if got >= want:
                    break
                chosen.extend(m)
                got += len(m)
        out[f] = sorted(chosen)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", required=True, help="the manifest whose val and test lists stay fixed")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("fractions", nargs="+", type=float)
    a = ap.parse_args(argv)
    loaded, grouping, _ = load_and_group(a.data)
    label_of = {lc.case.key: lc.case.label for lc in loaded}
    split = read_manifest(a.split)
    os.makedirs(a.out_dir, exist_ok=True)
    for f, train in nested_subsets(split["train"], label_of, grouping.group_of, a.fractions, a.seed).items():
        sub = {"train": train, "val": split["val"], "test": split["test"]}
        check_no_group_leak(sub, grouping.group_of)
        path = os.path.join(a.out_dir, f"split_{round(f * 100)}.json")
        write_manifest(path, sub, {"subset_of": os.path.basename(a.split), "fraction": f, "seed": a.seed})
        print(f"{path}: {len(train)} training images ({dict(Counter(label_of[k] for k in train))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
