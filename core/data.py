"""Finding and loading a BUSI-shaped dataset folder.

Owns the layout rules: ``<root>/{benign,malignant,normal}/name.png`` with
``name_mask.png`` (and sometimes ``name_mask_1.png`` ...) beside it. Images
are paired with their masks by name, never by sort order, and every mask file
of an image is merged (logical OR). Anything that does not fit is skipped and
reported in ``Dataset.problems`` rather than failing the whole load.

Dataset: Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast
ultrasound images. Data in Brief 28 (2020) 104863.
"""
from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from core.imageio import IMAGE_EXTENSIONS, ImageReadError, read_image_file, read_mask_file

CLASSES = ("benign", "malignant", "normal")
# malignancy label per class; normal images carry no malignancy label
CLASS_LABEL = {"benign": 0, "malignant": 1, "normal": -1}
MASK_RE = re.compile(r"^(?P<stem>.+?)_mask(?:_(?P<idx>\d+))?$", re.IGNORECASE)
BUSI_DIRNAME = "Dataset_BUSI_with_GT"


class DatasetError(ValueError):
    """The folder cannot be used as a dataset at all; the message says what to do."""


@dataclass
class Case:
    """One image of the dataset with the paths of all its mask files.

    key: "<class>/<stem>", unique within a dataset and stable across machines.
    """

    key: str
    label: str
    image_path: str
    mask_paths: list[str]

    @property
    def malignant(self) -> int:
        return CLASS_LABEL[self.label]


@dataclass
class Dataset:
    root: str
    cases: list[Case]
    problems: list[str] = field(default_factory=list)
    extra_masks: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in CLASSES}
        for case in self.cases:
            out[case.label] += 1
        return out


def find_busi_root(path: str) -> str:
    """Return the folder that holds the class folders.

    Accepts the dataset folder itself, its parent (as unzipped from Kaggle,
    possibly with one more wrapper level), or one class folder's parent.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise DatasetError(f"{path} is not a folder. Give the folder that contains benign/, malignant/ and normal/.")

    def has_classes(p: str) -> bool:
        try:
            names = {n.lower() for n in os.listdir(p) if os.path.isdir(os.path.join(p, n))}
        except OSError:
            return False
        return len(names & set(CLASSES)) >= 1 and bool(names & {"benign", "malignant"})

    candidates = [path]
    # one or two levels down (e.g. archive/Dataset_BUSI_with_GT)
    for level in range(2):
        nxt = []
        for c in candidates:
            if has_classes(c):
                return c
            try:
                nxt += [os.path.join(c, n) for n in sorted(os.listdir(c)) if os.path.isdir(os.path.join(c, n))]
            except OSError:
                pass
        candidates = nxt
    for c in candidates:
        if has_classes(c):
            return c
    parent = os.path.dirname(path)  # a class folder was given
    if has_classes(parent):
        return parent
    raise DatasetError(
        f"{path} does not look like BUSI: no benign/, malignant/ or normal/ folder was found "
        f"in it or one level around it. Point to the '{BUSI_DIRNAME}' folder."
    )


def _class_dirs(root: str) -> dict[str, str]:
    out = {}
    for name in os.listdir(root):
        full = os.path.join(root, name)
        if os.path.isdir(full) and name.lower() in CLASSES:
            out[name.lower()] = full
    return out


def scan_busi(path: str) -> Dataset:
    """Pair every image with its mask files by name; report what does not fit."""
    root = find_busi_root(path)
    cases: list[Case] = []
    problems: list[str] = []
    extra_masks: list[str] = []
    class_dirs = _class_dirs(root)
    for missing in sorted(set(CLASSES) - set(class_dirs)):
        problems.append(f"no '{missing}' folder in {root}")
    for label in CLASSES:
        folder = class_dirs.get(label)
        if folder is None:
            continue
        images: dict[str, str] = {}
        masks: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for name in sorted(os.listdir(folder)):
            full = os.path.join(folder, name)
            stem, ext = os.path.splitext(name)
            if not os.path.isfile(full) or name.startswith("."):
                continue
            if ext.lower() not in IMAGE_EXTENSIONS:
                problems.append(f"{label}/{name}: not an image file, skipped")
                continue
            m = MASK_RE.match(stem)
            if m:
                masks[m.group("stem")].append((int(m.group("idx") or 0), full))
            else:
                images[stem] = full
        for stem, img_path in sorted(images.items()):
            mask_files = [p for _, p in sorted(masks.pop(stem, []))]
            if not mask_files:
                problems.append(f"{label}/{os.path.basename(img_path)}: no mask file beside it, skipped")
                continue
            cases.append(Case(f"{label}/{stem}", label, img_path, mask_files))
        for stem, lst in sorted(masks.items()):
            for _, p in lst:
                extra_masks.append(f"{label}/{os.path.basename(p)}")
                problems.append(f"{label}/{os.path.basename(p)}: mask without an image, skipped")
    if not cases:
        raise DatasetError(f"{root} holds no image with a mask. Check that the masks are named 'name_mask.png'.")
    return Dataset(root, cases, problems, extra_masks)


@dataclass
class LoadedCase:
    """A case decoded into memory. gray: (H, W) uint8; mask: (H, W) bool."""

    case: Case
    gray: np.ndarray
    mask: np.ndarray
    had_colour: bool


def load_case(case: Case) -> LoadedCase:
    """Decode a case's image and the union of its masks. Raises ImageReadError."""
    img = read_image_file(case.image_path)
    merged = np.zeros(img.gray.shape, bool)
    for p in case.mask_paths:
        m = read_mask_file(p)
        if m.shape != merged.shape:
            raise ImageReadError(
                f"{case.key}: mask {os.path.basename(p)} is {m.shape[1]}×{m.shape[0]} "
                f"but the image is {merged.shape[1]}×{merged.shape[0]}"
            )
        merged |= m
    return LoadedCase(case, img.gray, merged, img.had_colour)


def load_cases(cases: list[Case], problems: list[str] | None = None, progress=None) -> list[LoadedCase]:
    """Decode many cases; unreadable ones are skipped and described in ``problems``."""
    out = []
    for i, case in enumerate(cases):
        try:
            out.append(load_case(case))
        except ImageReadError as exc:
            if problems is not None:
                problems.append(f"{exc}; skipped")
        if progress:
            progress(i + 1, len(cases))
    return out


def read_key_list(path: str) -> list[str]:
    """Case keys, one per line, from a file such as bench/axillary_keys.txt; '#' starts a comment line."""
    with open(path) as fh:
        return [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
