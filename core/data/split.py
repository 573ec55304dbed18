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


def shuffled_groups(keys: list[str], labels: list[str], groups: list[int], seed: int = 0) -> list[tuple[str, list[str]]]:
    """The near-duplicate groups as (class, sorted member keys), in a seeded shuffle of a canonical order.

    A group counts under its most common class. The canonical order (groups by their first key) comes
    first, so the result does not depend on listing order."""
    members: dict[int, list[str]] = {}
    for k, g in zip(keys, groups):
        members.setdefault(g, []).append(k)
    label_of = dict(zip(keys, labels))
    ordered = sorted((sorted(m) for m in members.values()), key=lambda m: m[0])
    np.random.default_rng(seed).shuffle(ordered)
    return [(Counter(label_of[k] for k in m).most_common(1)[0][0], m) for m in ordered]


def make_split(keys: list[str], labels: list[str], groups: list[int], seed: int = 0,
               val_fraction: float = 0.15, test_fraction: float = 0.15) -> dict[str, list[str]]:
    """Split case keys into {"train", "val", "test"}; deterministic for a given seed.

    Groups are shuffled (seeded, ``shuffled_groups``) and dealt, class by class, to test until that
    class's test share is reached, then to val, then to train. Works from a dozen images upwards.
    """
    ordered = shuffled_groups(keys, labels, groups, seed)
    by_class: dict[str, list[list[str]]] = {}
    for cls, m in ordered:
        by_class.setdefault(cls, []).append(m)
    split = {"train": [], "val": [], "test": []}
    for cls in sorted(by_class):
        n = sum(len(m) for m in by_class[cls])
        want = {"test": round(test_fraction * n), "val": round(val_fraction * n)}
        got = {"test": 0, "val": 0}
        for m in by_class[cls]:
            side = next((s for s in ("test", "val") if got[s] < want[s]), "train")
            if side != "train":
                got[side] += len(m)
            split[side].extend(m)
    if not split["val"] and split["train"]:
        # tiny datasets: validation needs at least one group
        moved = set(next(m for _, m in ordered if m[0] in split["train"]))
        split["train"] = [k for k in split["train"] if k not in moved]
        split["val"].extend(sorted(moved))
    return {k: sorted(v) for k, v in split.items()}


def stratum(case) -> str:
    """What a split balances on: the case's dataset and class ("busi/benign", "busbra/malignant")."""
    return f"{case.dataset}/{case.label}"


def extend_split(fixed: dict[str, list[str]], keys: list[str], strata: list[str], groups: list[int], seed: int = 0,
                 val_fraction: float = 0.15, test_fraction: float = 0.15) -> dict[str, list[str]]:
    """A split that keeps every key of ``fixed`` on its side and splits the other keys afresh (make_split).

    This is how a model's split grows when a dataset is added: the images it was tested on stay its test
    images. A group with a member in ``fixed`` goes whole to that member's side, so adding data never puts a
    near-duplicate or a patient's other image across the line."""
    side_of = {k: side for side, members in fixed.items() for k in members}
    group_side: dict[int, str] = {}
    for k, g in zip(keys, groups):
        if k in side_of:
            # a group already spread over two sides would be a leak in the fixed split: check_no_group_leak says so
            group_side.setdefault(g, side_of[k])
    out = {"train": [], "val": [], "test": []}
    rest = [(k, s, g) for k, s, g in zip(keys, strata, groups) if g not in group_side]
    for k, g in zip(keys, groups):
        if g in group_side:
            out[group_side[g]].append(k)
    if rest:
        fresh = make_split([k for k, _, _ in rest], [s for _, s, _ in rest], [g for _, _, g in rest], seed=seed,
                           val_fraction=val_fraction, test_fraction=test_fraction)
        for side, members in fresh.items():
            out[side].extend(members)
    return {k: sorted(v) for k, v in out.items()}


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
