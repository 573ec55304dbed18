"""Finding and loading labelled dataset folders, in the layouts we understand.

Two published layouts are read, detected from the folder itself:

- BUSI (Kaggle): ``<root>/{benign,malignant,normal}/name.png`` with ``name_mask.png`` (and sometimes
  ``name_mask_1.png`` ...) beside it. Every mask file of an image is merged (logical OR).
  Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. Data in Brief 28 (2020) 104863.
- BUS-BRA: ``Images/bus_NNNN-x.png``, ``Masks/mask_NNNN-x.png`` and ``bus_data.csv`` (Case = patient,
  Pathology, Histology, BIRADS, Device). Gómez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W,
  "BUS-BRA: A Breast Ultrasound Dataset for Assessing Computer-aided Diagnosis Systems", Medical Physics.

Images are paired with their masks by name, never by sort order. Each case carries its dataset, its patient
where the layout names one, and the layout's metadata (device, BI-RADS). Anything that does not fit is skipped
and reported in ``Dataset.problems`` rather than failing the whole load.
"""
from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from core.data.imageio import IMAGE_EXTENSIONS, ImageReadError, display_name, read_image_file, read_mask_file

CLASSES = ("benign", "malignant", "normal")
# malignancy label per class; normal images carry no malignancy label
CLASS_LABEL = {"benign": 0, "malignant": 1, "normal": -1}
MASK_RE = re.compile(r"^(?P<stem>.+?)_mask(?:_(?P<idx>\d+))?$", re.IGNORECASE)
BUSI_DIRNAME = "Dataset_BUSI_with_GT"
BUSBRA_CSV = "bus_data.csv"
LAYOUTS = {"busi": "BUSI (benign/, malignant/, normal/ with name_mask.png beside each image)",
           "busbra": "BUS-BRA (Images/, Masks/ and bus_data.csv)"}


class DatasetError(ValueError):
    """The folder cannot be used as a dataset at all; the message says what to do."""


@dataclass
class Case:
    """One image of the dataset with the paths of all its mask files.

    key: "<class>/<stem>" for BUSI (as its manifests have always named them), "busbra/<ID>" for BUS-BRA:
    unique across the datasets we read and stable across machines.
    patient: the patient the image belongs to, where the layout says ("busbra:3"); None otherwise.
    meta: what else the layout gives, e.g. {"device": ..., "birads": ...}.
    """

    key: str
    label: str
    image_path: str
    mask_paths: list[str]
    dataset: str = "busi"
    patient: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def device(self) -> str:
        return self.meta.get("device") or "unknown"

    @property
    def malignant(self) -> int:
        return CLASS_LABEL[self.label]


@dataclass
class Dataset:
    """A scanned dataset folder (or several, scan_datasets): its cases, paired image to masks by name, not loaded.

    root: the folder, or the folders joined by " + "; cases: one per image, in a stable order; problems: what the
    scan could not use, in plain words; extra_masks: mask files with no image of their name, as ``label/file``
    (an image's several masks, BUSI's ``_mask_1``, belong to its case); layout: "busi" or "busbra", the layout it was read with."""

    root: str
    cases: list[Case]
    problems: list[str] = field(default_factory=list)
    extra_masks: list[str] = field(default_factory=list)
    layout: str = "busi"

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in CLASSES}
        for case in self.cases:
            out[case.label] += 1
        return out

    def counts_by_dataset(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for case in self.cases:
            out.setdefault(case.dataset, {c: 0 for c in CLASSES})[case.label] += 1
        return out


def find_busi_root(path: str) -> str:
    """The folder that holds BUSI's class folders: the path itself, a folder up to three levels below it (as
    unzipped from Kaggle, with wrapper folders), or the parent of one class folder."""
    roots = [root for root, layout in _roots_or_empty(path) if layout == "busi"]
    if roots:
        return roots[0]
    raise DatasetError(
        f"{os.path.abspath(path)} does not look like BUSI: no benign/, malignant/ or normal/ folder was found "
        f"in it or below it. Point to the '{BUSI_DIRNAME}' folder."
    )


def find_busbra_root(path: str) -> str | None:
    """The folder holding bus_data.csv and Images/: the path itself or a folder below it; else None."""
    roots = [root for root, layout in _roots_or_empty(path) if layout == "busbra"]
    return roots[0] if roots else None


def _roots_or_empty(path: str) -> list[tuple[str, str]]:
    try:
        return dataset_roots(path)
    except DatasetError:
        return []


def _layout_here(path: str) -> str | None:
    """The layout whose root is exactly this folder, or None."""
    if os.path.isfile(os.path.join(path, BUSBRA_CSV)) and os.path.isdir(os.path.join(path, "Images")):
        return "busbra"
    try:
        names = {n.lower() for n in os.listdir(path) if os.path.isdir(os.path.join(path, n))}
    except OSError:
        return None
    return "busi" if names & {"benign", "malignant"} else None


def dataset_roots(path: str, max_depth: int = 3) -> list[tuple[str, str]]:
    """Every dataset folder at or below ``path`` (up to max_depth levels), as (root, layout), in name order.

    A folder that holds a dataset is not looked into further, so an unzipped archive with both a BUSI and a
    BUS-BRA folder inside gives both. DatasetError, naming the layouts we read, when there is none."""
    full = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(full):
        raise DatasetError(f"{full} is not a folder. Give a dataset folder in one of these layouts: "
                           + "; ".join(LAYOUTS.values()) + ".")
    parent = os.path.dirname(full)
    if _layout_here(full) is None and _layout_here(parent) == "busi" and os.path.basename(full).lower() in CLASSES:
        return [(parent, "busi")]  # one class folder of BUSI was given
    found, level = [], [full]
    for _ in range(max_depth + 1):
        nxt = []
        for p in level:
            layout = _layout_here(p)
            if layout:
                found.append((p, layout))
                continue
            try:
                nxt += [os.path.join(p, n) for n in sorted(os.listdir(p))
                        if os.path.isdir(os.path.join(p, n)) and not n.startswith((".", "__MACOSX"))]
            except OSError:
                pass
        level = nxt
    if not found:
        raise DatasetError(f"{full} is in no layout this app reads. Understood layouts: "
                           + "; ".join(LAYOUTS.values()) + ".")
    return found


def detect_layout(path: str) -> str:
    """'busi' or 'busbra' for a folder holding one dataset; DatasetError naming the understood layouts otherwise."""
    roots = dataset_roots(path)
    if len(roots) > 1:
        raise DatasetError(f"{path} holds {len(roots)} datasets ({', '.join(r for r, _ in roots)}): "
                           "read them with scan_datasets")
    return roots[0][1]


def scan_datasets(paths: list[str]) -> Dataset:
    """Every dataset in these folders (dataset_roots) as one Dataset; its root names them all. Keys must not clash."""
    parts = [scan_busbra(root) if layout == "busbra" else scan_busi(root)
             for p in paths for root, layout in dataset_roots(p)]
    if len(parts) == 1:
        return parts[0]
    seen: dict[str, str] = {}
    for part in parts:
        for c in part.cases:
            if c.key in seen:
                raise DatasetError(f"{c.key} is in both {seen[c.key]} and {part.root}: give each dataset once")
            seen[c.key] = part.root
    return Dataset(" + ".join(p.root for p in parts), [c for p in parts for c in p.cases],
                   [m for p in parts for m in p.problems], [m for p in parts for m in p.extra_masks],
                   "+".join(p.layout for p in parts))


def scan_busbra(path: str) -> Dataset:
    """Read BUS-BRA's published layout: one case per row of bus_data.csv whose image and mask exist."""
    root = find_busbra_root(path)
    if root is None:
        raise DatasetError(f"{path} does not look like BUS-BRA: no {BUSBRA_CSV} with Images/ beside it.")
    problems: list[str] = []
    cases: list[Case] = []
    try:
        with open(os.path.join(root, BUSBRA_CSV), newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {os.path.join(root, BUSBRA_CSV)}: {exc}") from None
    if not rows or not {"ID", "Pathology"} <= set(rows[0]):
        raise DatasetError(f"{BUSBRA_CSV} in {root} lacks the ID and Pathology columns of BUS-BRA's layout")
    images, masks = os.path.join(root, "Images"), os.path.join(root, "Masks")
    listed = set()
    for row in rows:
        ident = (row.get("ID") or "").strip()
        label = (row.get("Pathology") or "").strip().lower()
        if not ident:
            continue
        listed.add(ident)
        if label not in ("benign", "malignant"):
            problems.append(f"busbra/{ident}: pathology {row.get('Pathology')!r} is neither benign nor malignant, skipped")
            continue
        image = os.path.join(images, f"{ident}.png")
        mask = os.path.join(masks, f"mask_{ident.removeprefix('bus_')}.png")
        if not os.path.isfile(image):
            problems.append(f"busbra/{ident}: listed in {BUSBRA_CSV} but Images/{ident}.png is missing, skipped")
            continue
        if not os.path.isfile(mask):
            problems.append(f"busbra/{ident}: no mask Masks/{os.path.basename(mask)}, skipped")
            continue
        case_id = (row.get("Case") or "").strip()
        meta = {"device": (row.get("Device") or "").strip() or None,
                "birads": (row.get("BIRADS") or "").strip() or None,
                "histology": (row.get("Histology") or "").strip() or None,
                "side": (row.get("Side") or "").strip() or None}
        cases.append(Case(f"busbra/{ident}", label, image, [mask], "busbra",
                          f"busbra:{case_id}" if case_id else None, {k: v for k, v in meta.items() if v}))
    if os.path.isdir(images):
        for name in sorted(os.listdir(images)):
            if os.path.splitext(name)[0] not in listed and name.lower().endswith(IMAGE_EXTENSIONS):
                problems.append(f"busbra/{name}: not listed in {BUSBRA_CSV}, skipped")
    if not cases:
        raise DatasetError(f"{root} holds no BUS-BRA image with its mask")
    return Dataset(root, sorted(cases, key=lambda c: c.key), problems, [], "busbra")


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
                problems.append(f"{label}/{display_name(name)}: not an image file, skipped")
                continue
            m = MASK_RE.match(stem)
            if m:
                masks[m.group("stem")].append((int(m.group("idx") or 0), full))
            else:
                images[stem] = full
        for stem, img_path in sorted(images.items()):
            mask_files = [p for _, p in sorted(masks.pop(stem, []))]
            if not mask_files:
                problems.append(f"{label}/{display_name(os.path.basename(img_path))}: no mask file beside it, skipped")
                continue
            # the key is shown on pages and written to manifests: text, even when the file's name is not UTF-8
            cases.append(Case(f"{label}/{display_name(stem)}", label, img_path, mask_files))
        for _stem, lst in sorted(masks.items()):
            for _, p in lst:
                extra_masks.append(f"{label}/{display_name(os.path.basename(p))}")
                problems.append(f"{label}/{display_name(os.path.basename(p))}: mask without an image, skipped")
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
    """Case keys, one per line, from a file such as experiments/scripts/axillary_keys.txt; '#' starts a comment line."""
    with open(path) as fh:
        return [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
