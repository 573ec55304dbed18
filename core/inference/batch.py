"""Batch prediction: segment many image files into mask PNGs and one CSV (``python -m core.predict``).


The command line and its options are documented in core/predict.py; this module does the work, so the
pages, the command and the benchmarks share one path.
"""
from __future__ import annotations

import csv
import os

from core import runtime  # noqa: F401
from core.analysis.measure import measure
from core.data.imageio import IMAGE_EXTENSIONS, ImageReadError, decode_image, encode_png, is_dicom
from core.inference.decision import calibrate, lesion_score, malignancy_band
from core.inference.predictor import Predictor, lesion_mask, mask_at

CSV_FIELDS = ["file", "width", "height", "lesion_area_px", "lesion_area_mm2", "lesion_count",
              "longest_diameter_px", "lesion_score", "gated", "malignancy_calibrated", "malignancy_band", "threshold",
              "edited", "inference_ms", "dicom_seg", "error"]


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


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ImageReadError(f"{os.path.basename(path)}: cannot be opened ({exc.strerror}).") from exc


def predict_files(predictor: Predictor, files: list[str], out_dir: str, threshold: float | None = None,
                  pixel_spacing_mm: float | None = None, progress=None, report: bool = False) -> list[dict]:
    """Segment each file; write masks, DICOM Segmentations for DICOM inputs, predictions.csv and (report=True)
    the PDF reports into out_dir. Returns the CSV rows."""
    from core.files import write_bytes_atomic

    os.makedirs(out_dir, exist_ok=True)
    threshold = predictor.threshold if threshold is None else threshold
    rows, used, reported = [], set(), []
    for i, path in enumerate(files):
        row = {"file": path, "threshold": threshold, "edited": False, "dicom_seg": "", "error": ""}
        try:
            data = _read(path)
            img = decode_image(data, os.path.basename(path))
            pred = predictor.predict(img.gray)
            mask = lesion_mask(pred.probability, threshold, predictor.decision)
            score = lesion_score(pred.probability, threshold)
            malignancy = calibrate(pred.malignancy, predictor.decision.platt) if mask.any() else None
            spacing = img.pixel_spacing_mm or ((pixel_spacing_mm, pixel_spacing_mm) if pixel_spacing_mm else None)
            m = measure(mask, spacing)
            stem = unique_stem(path, used)
            write_bytes_atomic(os.path.join(out_dir, f"{stem}_pred.png"), encode_png(mask.astype("uint8") * 255))
            if is_dicom(data, path):
                row["dicom_seg"] = _write_seg(predictor, data, mask, os.path.join(out_dir, f"{stem}_seg.dcm"))
            if report:
                reported.append(_write_report(predictor, img, pred, data if is_dicom(data, path) else None, threshold,
                                              pixel_spacing_mm, os.path.join(out_dir, f"{stem}_report.pdf")))
            row.update(width=img.width, height=img.height, lesion_area_px=m.area_px,
                       lesion_area_mm2="" if m.area_mm2 is None else round(m.area_mm2, 3),
                       lesion_count=m.lesion_count,
                       longest_diameter_px="" if m.longest_diameter_px is None else round(m.longest_diameter_px, 2),
                       lesion_score=round(score, 4), gated=bool(mask_at(pred.probability, threshold).any() and not mask.any()),
                       malignancy_calibrated="" if malignancy is None else round(malignancy, 4),
                       malignancy_band="" if malignancy is None else malignancy_band(malignancy),
                       inference_ms=round(pred.inference_ms, 2))
        except ImageReadError as exc:
            row["error"] = str(exc)
        except Exception as exc:  # one bad file must not stop the batch
            row["error"] = f"{os.path.basename(path)}: {type(exc).__name__}: {exc}"
        rows.append(row)
        if progress:
            progress(i + 1, len(files))
    with open(os.path.join(out_dir, "predictions.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    if reported:
        from core.report.pdf import batch_report

        write_bytes_atomic(os.path.join(out_dir, "report.pdf"),
                           batch_report(reported, threshold, predictor.card, os.path.basename(predictor.path)))
    return rows


def _write_seg(predictor: Predictor, source: bytes, mask, path: str) -> str:
    """Writes the DICOM Segmentation; returns its file name, or why it was not written."""
    from core.files import write_bytes_atomic
    from core.report.dicomseg import DicomSegError, segmentation_bytes

    try:
        write_bytes_atomic(path, segmentation_bytes(source, mask, model_name=os.path.basename(predictor.path)))
    except DicomSegError as exc:
        return f"not written: {exc}"
    return os.path.basename(path)


def _write_report(predictor: Predictor, img, pred, dicom: bytes | None, threshold: float,
                  pixel_spacing_mm: float | None, path: str):
    """Writes the image's PDF report (as the Segment page makes it); returns (analysis, view) for the batch's."""
    from core.analysis import segment as an
    from core.files import write_bytes_atomic
    from core.report.pdf import image_report

    a = an.Analysis(img.name, img, pred.probability, pred.malignancy, pred.inference_ms,
                    decision=predictor.decision, dicom=dicom)
    v = an.view_at(a, threshold, pixel_spacing_mm)
    write_bytes_atomic(path, image_report(a, v, threshold, predictor.card, os.path.basename(predictor.path)))
    return a, v
