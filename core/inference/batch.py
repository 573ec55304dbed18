"""Batch prediction: segment many image files into mask PNGs and one CSV (``python -m core.predict``).

    python -m core.predict INPUT... --out DIR [--weights PATH] [--threshold T] [--pixel-spacing MM]

INPUT is image files or folders (walked recursively; files with ``_mask`` in
their name are skipped). For each image it writes ``DIR/<stem>_pred.png``
(uint8 0/255, the input's width and height) and a row in
``DIR/predictions.csv``. A bad file gets a row with ``error`` filled in and
the others carry on.

This module owns the pieces both engines share: the input walk, the output
stems (decided for every file before any is segmented, so they do not depend on
which files fail or on the order a cluster finishes them), ``segment_file``
(one file to one CSV row and its mask PNG), and the writers. The plain engine is
``predict_files``; the Ray engine (``core.inference.ray_batch``) calls the same
``segment_file`` on its workers, so the two give the same results by construction.
"""
from __future__ import annotations

import csv
import os

from core import runtime  # noqa: F401
from core.analysis.measure import measure
from core.data.imageio import IMAGE_EXTENSIONS, ImageReadError, decode_image, encode_png, read_image_file
from core.inference.decision import calibrate, lesion_score, malignancy_band
from core.inference.predictor import Predictor, lesion_mask, mask_at

CSV_FIELDS = ["file", "width", "height", "lesion_area_px", "lesion_area_mm2", "lesion_count",
              "longest_diameter_px", "lesion_score", "gated", "malignancy_calibrated", "malignancy_band", "threshold",
              "inference_ms", "error"]
# columns that measure this run's speed rather than the image: they differ between engines and runs
TIMING_FIELDS = ("inference_ms",)


def collect_inputs(inputs: list[str]) -> list[str]:
    """Image files named directly, plus images found recursively in folders (masks skipped)."""
    files = []
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, names in os.walk(item):
                dirnames.sort()
                for n in sorted(names):
                    if n.lower().endswith(IMAGE_EXTENSIONS) and "_mask" not in n.lower():
                        files.append(os.path.join(dirpath, n))
        else:
            files.append(item)
    return files


def unique_stem(path: str, used: set[str]) -> str:
    """Output stem for a file; folders of BUSI reuse names, so clashes get a suffix."""
    stem = os.path.splitext(os.path.basename(path))[0]
    out, i = stem, 1
    while out in used:
        i += 1
        out = f"{stem}_{i}"
    used.add(out)
    return out


def output_stems(files: list[str]) -> list[str]:
    """One output stem per file, in input order. A file that later fails keeps its stem, so the other
    files' mask names never depend on which files were readable."""
    used: set[str] = set()
    return [unique_stem(path, used) for path in files]


def mask_path(out_dir: str, stem: str) -> str:
    return os.path.join(out_dir, f"{stem}_pred.png")


def segment_file(predictor: Predictor, path: str, threshold: float | None = None,
                 pixel_spacing_mm: float | None = None, data: bytes | None = None) -> tuple[dict, bytes | None]:
    """One image file -> (its CSV row, its mask as PNG bytes, or None when the file failed).

    ``data``: the file's bytes when the caller has already read them; otherwise the file is read from ``path``.
    Never raises for a bad file: the row's ``error`` says what went wrong.
    """
    threshold = predictor.threshold if threshold is None else threshold
    row = {"file": path, "threshold": threshold, "error": ""}
    try:
        img = read_image_file(path) if data is None else decode_image(data, os.path.basename(path))
        pred = predictor.predict(img.gray)
        mask = lesion_mask(pred.probability, threshold, predictor.decision)
        score = lesion_score(pred.probability, threshold)
        malignancy = calibrate(pred.malignancy, predictor.decision.platt) if mask.any() else None
        spacing = img.pixel_spacing_mm or ((pixel_spacing_mm, pixel_spacing_mm) if pixel_spacing_mm else None)
        m = measure(mask, spacing)
        png = encode_png(mask.astype("uint8") * 255)
        row.update(width=img.width, height=img.height, lesion_area_px=m.area_px,
                   lesion_area_mm2="" if m.area_mm2 is None else round(m.area_mm2, 3),
                   lesion_count=m.lesion_count,
                   longest_diameter_px="" if m.longest_diameter_px is None else round(m.longest_diameter_px, 2),
                   lesion_score=round(score, 4), gated=bool(mask_at(pred.probability, threshold).any() and not mask.any()),
                   malignancy_calibrated="" if malignancy is None else round(malignancy, 4),
                   malignancy_band="" if malignancy is None else malignancy_band(malignancy),
                   inference_ms=round(pred.inference_ms, 2))
        return row, png
    except ImageReadError as exc:
        row["error"] = str(exc)
    except Exception as exc:  # one bad file must not stop the batch
        row["error"] = f"{os.path.basename(path)}: {type(exc).__name__}: {exc}"
    return row, None


def write_mask(out_dir: str, stem: str, png: bytes) -> None:
    from core.files import write_bytes_atomic

    write_bytes_atomic(mask_path(out_dir, stem), png)


def write_predictions_csv(out_dir: str, rows: list[dict]) -> str:
    path = os.path.join(out_dir, "predictions.csv")
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def predict_files(predictor: Predictor, files: list[str], out_dir: str, threshold: float | None = None,
                  pixel_spacing_mm: float | None = None, progress=None) -> list[dict]:
    """Segment each file in this process; write masks and predictions.csv into out_dir. Returns the CSV rows."""
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for i, (path, stem) in enumerate(zip(files, output_stems(files))):
        row, png = segment_file(predictor, path, threshold, pixel_spacing_mm)
        if png is not None:
            write_mask(out_dir, stem, png)
        rows.append(row)
        if progress:
            progress(i + 1, len(files))
    write_predictions_csv(out_dir, rows)
    return rows
