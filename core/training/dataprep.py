"""Training data: scan, decode, audit and split the datasets, then resize them into cached arrays."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.training.negatives import CROP_PREFIX
from core.training.run import RunFolder
from core.training.settings import TrainSettings


@dataclass
class Arrays:
    """Cached, resized training arrays. x: (N, S, S) uint8; y: (N, S, S) bool; malignant: (N,) 0/1; cls_weight: (N,) weight of the malignancy loss (0 = no label)."""

    keys: list[str]
    x: np.ndarray
    y: np.ndarray
    malignant: np.ndarray
    cls_weight: np.ndarray
    # (N,) relative chance of each image being drawn (dataset weights); None: each image once per epoch
    draw_weight: np.ndarray | None = None



def draw_weights(keys: list[str], dataset_of: dict[str, str], dataset_weights: dict[str, float] | None,
                 crop_weight: float = 1.0) -> np.ndarray | None:
    """Each fitted image's relative chance of being drawn: its dataset's weight (1 when not named) times
    ``crop_weight`` for a lesion-free crop (key ``crop:...``). None when every weight is 1: each image is then
    drawn once per epoch, without replacement."""
    if not dataset_weights and crop_weight == 1.0:
        return None
    if crop_weight <= 0:
        raise ValueError(f"the crop weight must be above 0, not {crop_weight}")
    w = np.array([(dataset_weights or {}).get(dataset_of[k], 1.0) * (crop_weight if k.startswith(CROP_PREFIX) else 1.0)
                  for k in keys], np.float64)
    return None if np.all(w == 1.0) else w


def prepare_data(settings: TrainSettings, run: RunFolder, log=print):
    """Scan, decode, audit and split the data; return (arrays per split, loaded per split, audit report)."""
    from core.data.dataset_audit import NEAR_DUPLICATE_BITS, audit_loaded, group_cases
    from core.data.layouts import load_cases, scan_datasets
    from core.data.split import check_no_group_leak, extend_split, make_split, read_manifest, stratum, write_manifest
    from core.inference.preprocess import resize_image, resize_mask

    dataset = scan_datasets(settings.data)
    cases = dataset.cases
    if settings.exclude_devices:
        cases = [c for c in cases if c.device not in settings.exclude_devices]
        log(f"left out scanners {', '.join(settings.exclude_devices)}: {len(dataset.cases) - len(cases)} images")
    if settings.max_cases:
        # a deterministic, class-balanced subset for quick runs and tests
        by_class: dict[str, list] = {}
        for c in sorted(cases, key=lambda c: c.key):
            by_class.setdefault(stratum(c), []).append(c)
        per = max(1, settings.max_cases // max(1, len(by_class)))
        cases = [c for lst in by_class.values() for c in lst[:per]]
    unreadable: list[str] = []
    log(f"decoding {len(cases)} images from {dataset.root}")
    loaded = load_cases(cases, unreadable)
    for msg in dataset.problems + unreadable:
        log(f"warning: {msg}")
    if dataset.problems or unreadable:
        log(f"warning: {len(dataset.problems) + len(unreadable)} files skipped (see above)")
    grouping = group_cases(loaded)
    report = audit_loaded(dataset, loaded, grouping, unreadable)
    keys = [lc.case.key for lc in loaded]
    strata = [stratum(lc.case) for lc in loaded]
    group_ids = [grouping.group_of[k] for k in keys]
    if os.path.exists(run.split):
        split = read_manifest(run.split)
    elif settings.split_from:
        # the manifest's images keep their sides; images it does not name (a dataset added) are split afresh
        split = extend_split(read_manifest(settings.split_from), keys, strata, group_ids, seed=settings.seed,
                             val_fraction=settings.val_fraction, test_fraction=settings.test_fraction)
    else:
        split = make_split(keys, strata, group_ids, seed=settings.seed, val_fraction=settings.val_fraction,
                           test_fraction=settings.test_fraction)
    known = set(keys)
    split = {k: [x for x in v if x in known] for k, v in split.items()}
    check_no_group_leak(split, grouping.group_of)
    dataset_of = {lc.case.key: lc.case.dataset for lc in loaded}
    write_manifest(run.split, split, {"dataset_root": os.path.basename(dataset.root), "seed": settings.seed,
                                      "near_duplicate_bits": NEAR_DUPLICATE_BITS,
                                      "by_dataset": {side: dict(sorted(Counter(dataset_of[k] for k in members).items()))
                                                     for side, members in split.items()}})
    by_key = {lc.case.key: lc for lc in loaded}
    if settings.negative_crops:
        # lesion-free crops of train and validation lesion images (core.training.negatives); never of test images,
        # so every test figure stays on whole real frames. Validation's crops take part in the gate's fit.
        from core.training.negatives import lesion_free_crops

        for side in ("train", "val"):
            crops = lesion_free_crops([by_key[k] for k in split[side]])
            by_key.update((lc.case.key, lc) for lc in crops)
            dataset_of.update((lc.case.key, lc.case.dataset) for lc in crops)
            split[side] = split[side] + [lc.case.key for lc in crops]
            log(f"{side}: {len(crops)} lesion-free crops of lesion images added")
    conflicted = grouping.conflicted_keys
    S = settings.image_size

    def arrays(names: list[str]) -> Arrays:
        lcs = [by_key[k] for k in names]
        mal = np.array([max(0, lc.case.malignant) for lc in lcs], np.float32)
        has_label = np.array([lc.case.malignant >= 0 and lc.case.key not in conflicted for lc in lcs], bool)
        # balance benign/malignant in the head's loss
        pos = max(1, int((mal[has_label] == 1).sum()))
        neg = max(1, int((mal[has_label] == 0).sum()))
        w = np.where(mal == 1, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg)).astype(np.float32) * has_label
        return Arrays(names,
                      np.stack([resize_image(lc.gray, S) for lc in lcs]) if lcs else np.zeros((0, S, S), np.uint8),
                      np.stack([resize_mask(lc.mask, S) for lc in lcs]) if lcs else np.zeros((0, S, S), bool),
                      mal, w)

    out = {name: arrays(v) for name, v in split.items()}
    # what the network fits: the train split, or train and val together for a final refit
    out["fit"] = arrays(split["train"] + split["val"]) if settings.fit_on == "train+val" else out["train"]
    fit = out["fit"]
    fit.draw_weight = draw_weights(fit.keys, dataset_of, settings.dataset_weights,
                                   settings.negative_crop_weight if settings.negative_crops else 1.0)
    if fit.draw_weight is not None:
        groups = sorted(set(dataset_of[k] for k in fit.keys))
        shares = {d: float(fit.draw_weight[[dataset_of[k] == d for k in fit.keys]].sum() / fit.draw_weight.sum())
                  for d in groups}
        crop_share = float(fit.draw_weight[[k.startswith(CROP_PREFIX) for k in fit.keys]].sum()
                           / fit.draw_weight.sum())
        log("share of each epoch's draws: " + ", ".join(f"{d} {v:.0%}" for d, v in shares.items())
            + (f"; lesion-free crops {crop_share:.0%}" if settings.negative_crops else ""))
    loaded_split = {name: [by_key[k] for k in v] for name, v in split.items()}
    return out, loaded_split, report

