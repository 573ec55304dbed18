"""Deterministic, class-stratified train/val/test split that keeps near-duplicates together.

Each near-duplicate group (see core.audit) lands whole on one side, so no
lesion is seen in training and then scored in testing. The split is written
as a JSON manifest next to the model so every reported figure can be traced
to the exact images it was computed on.
"""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

from core.files import write_json_atomic


def make_split(keys: list[str], labels: list[str], groups: list[int], seed: int = 0,
               val_fraction: float = 0.15, test_fraction: float = 0.15) -> dict[str, list[str]]:
    """Split case keys into {"train", "val", "test"}; deterministic for a given seed.

    Groups are shuffled (seeded) and dealt, class by class (a group counts
    under its most common class), to test until that class's test share is
    reached, then to val, then to train. Works from a dozen images upwards.
    """
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    # canonical order first, so the result does not depend on listing order
    ordered = sorted((sorted(idx, key=lambda i: keys[i]) for idx in members.values()), key=lambda idx: keys[idx[0]])
    rng = np.random.default_rng(seed)
    rng.shuffle(ordered)
    by_class: dict[str, list[list[int]]] = {}
    for idx in ordered:
        cls = Counter(labels[i] for i in idx).most_common(1)[0][0]
        by_class.setdefault(cls, []).append(idx)
    split = {"train": [], "val": [], "test": []}
    for cls in sorted(by_class):
        n = sum(len(idx) for idx in by_class[cls])
        want = {"test": round(test_fraction * n), "val": round(val_fraction * n)}
        got = {"test": 0, "val": 0}
        for idx in by_class[cls]:
            side = next((s for s in ("test", "val") if got[s] < want[s]), "train")
            if side != "train":
                got[side] += len(idx)
            split[side].extend(keys[i] for i in idx)
    if not split["val"] and split["train"]:
        # tiny datasets: validation needs at least one group
        first = next(idx for idx in ordered if keys[idx[0]] in split["train"])
        moved = {keys[i] for i in first}
        split["train"] = [k for k in split["train"] if k not in moved]
        split["val"].extend(sorted(moved))
    return {k: sorted(v) for k, v in split.items()}


def check_no_group_leak(split: dict[str, list[str]], group_of: dict[str, int]) -> None:
    """Raise if any near-duplicate group has members on two sides."""
    side = {}
    for name, members in split.items():
        for k in members:
            g = group_of[k]
            if side.setdefault(g, name) != name:
                raise AssertionError(f"near-duplicate group of {k} is in both {side[g]} and {name}")


def write_manifest(path: str, split: dict[str, list[str]], extra: dict | None = None) -> None:
    """Write the split (and context) as JSON, atomically."""
    write_json_atomic(path, {"split": split, "counts": {k: len(v) for k, v in split.items()}, **(extra or {})})


def read_manifest(path: str) -> dict[str, list[str]]:
    with open(path) as fh:
        return json.load(fh)["split"]
