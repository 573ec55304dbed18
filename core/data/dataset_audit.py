"""Dataset audit (``python -m core.audit``): the traps in BUSI-shaped data, found and returned as data.
(The audit log of model and training changes is another thing: core.access.audit_log.)

- near-duplicate groups (the same lesion in several frames), by perceptual hash;
- label conflicts: the same image filed under two classes;
- missing and extra masks, cases with several mask files;
- images that carry colour annotations.

``python -m core.audit --data DIR`` prints the report.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import imagehash
import numpy as np
from PIL import Image

from core.data.layouts import Dataset, LoadedCase, load_cases, scan_datasets

# Hamming distance (of 64 bits) at or under which two frames count as the same
# lesion. On BUSI the distances of true pairs stop at 6-8 and unrelated
# images start at 10-12; 10 errs on the side of grouping, which only costs
# a little stratification precision but never leaks a lesion across splits.
NEAR_DUPLICATE_BITS = 10
# Pairs this close are the same picture; filed under two classes, a conflict.
SAME_IMAGE_BITS = 2


@dataclass
class AuditReport:
    root: str
    counts: dict[str, int]
    counts_by_dataset: dict[str, dict[str, int]]
    near_duplicate_groups: list[list[str]]
    label_conflicts: list[list[str]]
    missing_masks: list[str]
    extra_masks: list[str]
    multi_mask_cases: list[str]
    colour_annotated: list[str]
    unreadable: list[str]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary_lines(self) -> list[str]:
        dup_imgs = sum(len(g) for g in self.near_duplicate_groups)
        return [
            f"dataset: {self.root}",
            "images: " + ", ".join(f"{k} {v}" for k, v in self.counts.items()),
            *([f"  {d}: " + ", ".join(f"{k} {v}" for k, v in c.items() if v) for d, c in self.counts_by_dataset.items()]
              if len(self.counts_by_dataset) > 1 else []),
            f"near-duplicate groups: {len(self.near_duplicate_groups)} ({dup_imgs} images)",
            f"label conflicts (same image under two classes): {len(self.label_conflicts)}"
            + "".join(f"\n    {' = '.join(g)}" for g in self.label_conflicts),
            f"images with several mask files (merged): {len(self.multi_mask_cases)}",
            f"images without a mask (skipped): {len(self.missing_masks)}",
            f"masks without an image (skipped): {len(self.extra_masks)}",
            f"images with colour annotations: {len(self.colour_annotated)}",
            f"unreadable files (skipped): {len(self.unreadable)}",
        ]


def perceptual_hashes(grays: list[np.ndarray]) -> np.ndarray:
    """(N, 64) bool DCT perceptual hashes of grayscale images."""
    return np.array([imagehash.phash(Image.fromarray(g)).hash.flatten() for g in grays], bool).reshape(len(grays), -1)


def hash_distances(hashes: np.ndarray) -> np.ndarray:
    """(N, N) Hamming distances between hashes."""
    h = hashes.astype(np.int16)
    return h.shape[1] - (h @ h.T + (1 - h) @ (1 - h).T)


def group_by_distance(dist: np.ndarray, max_bits: int) -> list[int]:
    """Connected components of the graph 'distance <= max_bits' (union-find); returns a group id per item."""
    n = dist.shape[0]
    parent = list(range(n))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    ii, jj = np.nonzero(np.triu(dist <= max_bits, k=1))
    for a, b in zip(ii.tolist(), jj.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


@dataclass
class Grouping:
    """Per-case group ids (near-duplicates share one) and conflicting keys."""

    group_of: dict[str, int]
    near_duplicate_groups: list[list[str]]
    label_conflicts: list[list[str]]

    @property
    def conflicted_keys(self) -> set[str]:
        return {k for g in self.label_conflicts for k in g}


def group_cases(loaded: list[LoadedCase]) -> Grouping:
    """Group ids that keep near-duplicate frames, and a patient's images, together.

    Near-duplicates are looked for across all the cases given, so two datasets loaded together are checked
    against each other too. Images of one patient (where the layout names patients) share a group whatever
    they look like: a split must not put one of a patient's images in training and another in test."""
    keys = [lc.case.key for lc in loaded]
    if not loaded:
        return Grouping({}, [], [])
    dist = hash_distances(perceptual_hashes([lc.gray for lc in loaded]))
    linked = dist <= NEAR_DUPLICATE_BITS
    by_patient: dict[str, list[int]] = {}
    for i, lc in enumerate(loaded):
        if lc.case.patient:
            by_patient.setdefault(lc.case.patient, []).append(i)
    for members in by_patient.values():
        for a in members[1:]:
            linked[members[0], a] = linked[a, members[0]] = True
    gid = group_by_distance(np.where(linked, 0, NEAR_DUPLICATE_BITS + 1), NEAR_DUPLICATE_BITS)
    groups: dict[int, list[str]] = {}
    for k, g in zip(keys, gid):
        groups.setdefault(g, []).append(k)
    near = [sorted(v) for v in groups.values() if len(v) > 1]
    same = group_by_distance(dist, SAME_IMAGE_BITS)
    same_groups: dict[int, list[int]] = {}
    for i, g in enumerate(same):
        same_groups.setdefault(g, []).append(i)
    conflicts = []
    for members in same_groups.values():
        labels = {loaded[i].case.label for i in members}
        if len(labels) > 1:
            conflicts.append(sorted(keys[i] for i in members))
    return Grouping(dict(zip(keys, gid)), sorted(near), sorted(conflicts))


def audit_loaded(dataset: Dataset, loaded: list[LoadedCase], grouping: Grouping, unreadable: list[str]) -> AuditReport:
    counts = {c: 0 for c in dataset.counts()}
    for lc in loaded:
        counts[lc.case.label] += 1
    by_dataset: dict[str, dict[str, int]] = {}
    for lc in loaded:
        by_dataset.setdefault(lc.case.dataset, {c: 0 for c in counts})[lc.case.label] += 1
    return AuditReport(
        root=dataset.root,
        counts=counts,
        counts_by_dataset=by_dataset,
        near_duplicate_groups=grouping.near_duplicate_groups,
        label_conflicts=grouping.label_conflicts,
        missing_masks=[p.split(":")[0] for p in dataset.problems if "no mask file" in p],
        extra_masks=list(dataset.extra_masks),
        multi_mask_cases=[c.key for c in dataset.cases if len(c.mask_paths) > 1],
        colour_annotated=[lc.case.key for lc in loaded if lc.had_colour],
        unreadable=unreadable,
        problems=list(dataset.problems) + unreadable,
    )


def load_and_group(paths: str | list[str]):
    """Scan and decode dataset folders (any understood layout), group near-duplicates and patients, and audit
    them: (loaded, grouping, report)."""
    dataset = scan_datasets([paths] if isinstance(paths, str) else list(paths))
    unreadable: list[str] = []
    loaded = load_cases(dataset.cases, unreadable)
    grouping = group_cases(loaded)
    return loaded, grouping, audit_loaded(dataset, loaded, grouping, unreadable)


def audit_dataset(path: str | list[str]) -> AuditReport:
    """Scan, decode and audit dataset folders."""
    return load_and_group(path)[2]


def audit_with_split(paths: str | list[str], seed: int = 0, val_fraction: float = 0.15, test_fraction: float = 0.15):
    """Audit dataset folders and preview the split training would use: (report, {split: {"dataset/class": count}})."""
    from core.data.split import make_split, stratum

    loaded, grouping, report = load_and_group(paths)
    keys = [lc.case.key for lc in loaded]
    stratum_of = {lc.case.key: stratum(lc.case) for lc in loaded}
    try:
        split = make_split(keys, [stratum_of[k] for k in keys], [grouping.group_of[k] for k in keys],
                           seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)
    except ValueError as exc:
        report.problems.append(f"cannot split: {exc}")
        return report, {}
    strata = sorted(set(stratum_of.values()))
    table = {name: {s: sum(stratum_of[k] == s for k in members) for s in strata} for name, members in split.items()}
    return report, table
