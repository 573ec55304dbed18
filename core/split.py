"""Deterministic, class-stratified train/val/test split that keeps near-duplicates together.

Each near-duplicate group (see core.audit) lands whole on one side, so no
lesion is seen in training and then scored in testing. The split is written
as a JSON manifest next to the model so every reported figure can be traced
to the exact images it was computed on.
"""
from __future__ import annotations

import json

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from core.files import write_json_atomic


def _one_fold(keys, labels, groups, n_splits: int, seed: int):
    """Return (rest_idx, held_idx) with held ~ 1/n_splits of the data, groups whole."""
    if n_splits < 2 or len(set(groups)) < n_splits:
        raise ValueError(f"too few independent images ({len(set(groups))} groups) to split {n_splits} ways")
    sgkf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    rest, held = next(iter(sgkf.split(np.zeros(len(keys)), labels, groups)))
    return rest, held


def make_split(keys: list[str], labels: list[str], groups: list[int], seed: int = 0,
               val_fraction: float = 0.15, test_fraction: float = 0.15) -> dict[str, list[str]]:
    """Split case keys into {"train", "val", "test"}; deterministic for a given seed."""
    order = np.argsort(keys)  # independent of the order files were listed in
    keys = [keys[i] for i in order]
    labels = [labels[i] for i in order]
    groups = [groups[i] for i in order]
    rest, test = _one_fold(keys, labels, groups, max(2, round(1 / test_fraction)), seed)
    rest_keys = [keys[i] for i in rest]
    rest_labels = [labels[i] for i in rest]
    rest_groups = [groups[i] for i in rest]
    # val is val_fraction of the whole, so a slightly larger share of the rest
    n_val = max(2, round((1 - test_fraction) / val_fraction))
    train, val = _one_fold(rest_keys, rest_labels, rest_groups, n_val, seed + 1)
    return {
        "train": sorted(rest_keys[i] for i in train),
        "val": sorted(rest_keys[i] for i in val),
        "test": sorted(keys[i] for i in test),
    }


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
