"""Batch prediction: segment many image files into mask PNGs and one CSV (``python -m core.predict``).

The command line and its options are documented in core/predict.py. Each file goes through the per-image pipeline
the Segment page uses (``core.analysis.segment.analyse`` and ``view_at``), so a batch row and the page agree by
construction. This module owns the pieces both engines
share: the input walk, the output stems (decided for every file before any is segmented, so they do not depend on
which files fail or on the order a cluster finishes them), ``segment_file`` (one file to its CSV row and its output
files: the mask PNG, and for a DICOM input a DICOM Segmentation over it), and the writers. The plain engine is
``predict_files``; the Ray engine (``core.batch.ray_engine``) calls the same ``segment_file`` on its workers, so
the two give the same results by construction.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

from core import runtime  # noqa: F401
from core.analysis.segment import Analysis, Upload, analyse, calibrated_malignancy, mask_png, view_at
from core.data.imageio import IMAGE_EXTENSIONS, ImageReadError
from core.inference.decision import lesion_score, malignancy_band
from core.inference.predictor import Predictor

CSV_FIELDS = ["file", "width", "height", "lesion_area_px", "lesion_area_mm2", "lesion_count",
              "longest_diameter_px", "lesion_score", "gated", "malignancy_calibrated", "malignancy_band", "threshold",
              "edited", "inference_ms", "dicom_seg", "error"]
# columns that measure this run's speed rather than the image: they differ between engines and runs
TIMING_FIELDS = ("inference_ms",)
MASK_SUFFIX, SEG_SUFFIX, REPORT_SUFFIX = "_pred.png", "_seg.dcm", "_report.pdf"


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
    files' output names never depend on which files were readable."""
    used: set[str] = set()
    return [unique_stem(path, used) for path in files]


@dataclass
class Segmented:
    """One file's results. files: output suffix (MASK_SUFFIX, SEG_SUFFIX, REPORT_SUFFIX) -> bytes, empty when the
    file failed. reported: (analysis, view) for the batch report, when a report was asked for."""

    row: dict
    files: dict[str, bytes] = field(default_factory=dict)
    reported: tuple | None = None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ImageReadError(f"{os.path.basename(path)}: cannot be opened ({exc.strerror}).") from exc


def segment_file(predictor: Predictor, path: str, threshold: float | None = None,
                 pixel_spacing_mm: float | None = None, data: bytes | None = None, report: bool = False) -> Segmented:
    """One image file -> its CSV row and output files, through the Segment page's own pipeline (``analyse`` once,
    then ``view_at`` the threshold). ``data``: the file's bytes when the caller has read them.
    Never raises for a bad file: the row's ``error`` says what went wrong."""
    threshold = predictor.threshold if threshold is None else threshold
    out = Segmented({"file": path, "threshold": threshold, "edited": False, "dicom_seg": "", "error": ""})
    try:
        data = _read(path) if data is None else data
        a = analyse(predictor, Upload(os.path.basename(path), data))
        v = view_at(a, threshold, pixel_spacing_mm)
        m = v.measurements
        malignancy = calibrated_malignancy(a) if v.mask.any() else None
        out.files[MASK_SUFFIX] = mask_png(v)
        if a.dicom is not None:
            out.row["dicom_seg"] = _segmentation(predictor, a.dicom, v.mask, out.files)
        if report:
            out.reported = _report(predictor, a, v, threshold, out.files)
        out.row.update(width=a.image.width, height=a.image.height, lesion_area_px=m.area_px,
                       lesion_area_mm2="" if m.area_mm2 is None else round(m.area_mm2, 3),
                       lesion_count=m.lesion_count,
                       longest_diameter_px="" if m.longest_diameter_px is None else round(m.longest_diameter_px, 2),
                       lesion_score=round(lesion_score(a.probability, threshold), 4),
                       gated=v.gated,
                       malignancy_calibrated="" if malignancy is None else round(malignancy, 4),
                       malignancy_band="" if malignancy is None else malignancy_band(malignancy),
                       inference_ms=round(a.inference_ms, 2))
    except ImageReadError as exc:
        out.row["error"], out.files = str(exc), {}
    except Exception as exc:  # one bad file must not stop the batch
        out.row["error"], out.files = f"{os.path.basename(path)}: {type(exc).__name__}: {exc}", {}
    return out


def _segmentation(predictor: Predictor, source: bytes, mask, files: dict[str, bytes]) -> str:
    """Adds the DICOM Segmentation to files; returns what the CSV says: 'written', or why it was not."""
    from core.report.dicomseg import DicomSegError, segmentation_bytes

    try:
        files[SEG_SUFFIX] = segmentation_bytes(source, mask, model_name=os.path.basename(predictor.path))
    except DicomSegError as exc:
        return f"not written: {exc}"
    return "written"


def _report(predictor: Predictor, a: Analysis, v, threshold: float, files: dict[str, bytes]):
    """Adds the image's PDF report (as the Segment page makes it) to files; returns (analysis, view) for the batch's."""
    from core.report.pdf import image_report

    files[REPORT_SUFFIX] = image_report(a, v, threshold, predictor.card, os.path.basename(predictor.path))
    return a, v


def write_output(out_dir: str, stem: str, suffix: str, data: bytes) -> None:
    from core.files import write_bytes_atomic

    write_bytes_atomic(os.path.join(out_dir, f"{stem}{suffix}"), data)


def write_outputs(out_dir: str, stem: str, files: dict[str, bytes], row: dict) -> None:
    """Writes one file's outputs; the CSV names the DICOM Segmentation's file."""
    for suffix, data in files.items():
        write_output(out_dir, stem, suffix, data)
    if SEG_SUFFIX in files:
        row["dicom_seg"] = f"{stem}{SEG_SUFFIX}"


def write_predictions_csv(out_dir: str, rows: list[dict]) -> str:
    path = os.path.join(out_dir, "predictions.csv")
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def predict_files(predictor: Predictor, files: list[str], out_dir: str, threshold: float | None = None,
                  pixel_spacing_mm: float | None = None, progress=None, report: bool = False) -> list[dict]:
    """Segment each file in this process; write masks, DICOM Segmentations for DICOM inputs, predictions.csv and
    (report=True) the PDF reports, one per image and report.pdf for the batch, into out_dir. Returns the CSV rows."""
    os.makedirs(out_dir, exist_ok=True)
    rows, reported = [], []
    for i, (path, stem) in enumerate(zip(files, output_stems(files))):
        result = segment_file(predictor, path, threshold, pixel_spacing_mm, report=report)
        write_outputs(out_dir, stem, result.files, result.row)
        if result.reported:
            reported.append(result.reported)
        rows.append(result.row)
        if progress:
            progress(i + 1, len(files))
    write_predictions_csv(out_dir, rows)
    if reported:
        from core.report.pdf import batch_report

        threshold = predictor.threshold if threshold is None else threshold
        write_output(out_dir, "report", ".pdf", batch_report(reported, threshold, predictor.card,
                                                             os.path.basename(predictor.path)))
    return rows
