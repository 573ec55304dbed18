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
from core.analysis.segment import (
    Analysis,
    Upload,
    analyse,
    at_frame,
    calibrated_malignancy,
    mask_png,
    view_at,
)
from core.data.imageio import IMAGE_EXTENSIONS, ImageReadError
from core.inference.decision import lesion_score, malignancy_band
from core.inference.predictor import Predictor

CSV_FIELDS = ["file", "frame", "width", "height", "lesion_area_px", "lesion_area_mm2", "lesion_count",
              "longest_diameter_px", "lesion_score", "gated", "malignancy_calibrated", "malignancy_band", "threshold",
              "edited", "mask_from", "inference_ms", "dicom_seg", "dicom_sr", "note", "error"]
# mask_from: "unet" (the model's mask), "box" (LiteMedSAM inside the boxes of --boxes), "refine" (LiteMedSAM prompted
# with the boxes of the U-Net's own lesions, --refine)
# columns that measure this run's speed rather than the image: they differ between engines and runs
TIMING_FIELDS = ("inference_ms",)
MASK_SUFFIX, SEG_SUFFIX, SR_SUFFIX, REPORT_SUFFIX = "_pred.png", "_seg.dcm", "_sr.dcm", "_report.pdf"


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
    frame_rows: list[dict] = field(default_factory=list)  # a cine loop's rows, one per frame (row is the chosen's)

    @property
    def rows(self) -> list[dict]:
        return self.frame_rows or [self.row]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ImageReadError(f"{os.path.basename(path)}: cannot be opened ({exc.strerror}).") from exc


def segment_file(predictor: Predictor, path: str, threshold: float | None = None,
                 pixel_spacing_mm: float | None = None, data: bytes | None = None, report: bool = False,
                 boxes: list | None = None, refine: str | None = None, segmenter=None) -> Segmented:
    """One image file -> its CSV row and output files, through the Segment page's own pipeline (``analyse`` once,
    then ``view_at`` the threshold). ``data``: the file's bytes when the caller has read them.
    boxes: box prompts (x0, y0, x1, y1) in image pixels: LiteMedSAM's masks for them are the mask, laid over the
    U-Net's as the Segment page's Box tool does (semi-automatic). refine: "each" or "largest": LiteMedSAM redraws
    the U-Net's mask from the tight box of each of its lesions, or of the largest (automatic). segmenter: the
    core.inference.boxprompt.BoxSegmenter for either.
    Never raises for a bad file: the row's ``error`` says what went wrong."""
    threshold = predictor.threshold if threshold is None else threshold
    out = Segmented({"file": path, "frame": "", "threshold": threshold, "edited": False,
                     "mask_from": "box" if boxes else "refine" if refine else "unet", "dicom_seg": "",
                     "dicom_sr": "", "note": "", "error": ""})
    try:
        data = _read(path) if data is None else data
        a = analyse(predictor, Upload(os.path.basename(path), data))
        if a.cine is not None:
            if boxes or refine:
                raise ImageReadError(f"{os.path.basename(path)}: a cine loop ({a.frame_count} frames); --boxes and "
                                     "--refine take single images (open the loop on the Segment page and box the "
                                     "frame there)")
            return _segment_cine(predictor, a, threshold, pixel_spacing_mm, out)
        v = _view(a, threshold, pixel_spacing_mm, boxes, refine, segmenter)
        out.row.update(_figures(a, v, threshold))
        out.files[MASK_SUFFIX] = mask_png(v)
        if a.dicom is not None:
            _dicom_objects(predictor, a, v, pixel_spacing_mm, out.row, out.files)
        if report:
            out.reported = _report(predictor, a, v, threshold, out.files)
    except ImageReadError as exc:
        out.row["error"], out.files = str(exc), {}
    except Exception as exc:  # one bad file must not stop the batch
        out.row["error"], out.files = f"{os.path.basename(path)}: {type(exc).__name__}: {exc}", {}
    return out


def _view(a: Analysis, threshold: float, pixel_spacing_mm: float | None, boxes, refine, segmenter):
    """The U-Net's view, or LiteMedSAM's (boxes: semi-automatic, View.prompted; refine: automatic, not edited).
    A box outside the image raises core.inference.boxprompt.BoxPromptError, which names it."""
    from dataclasses import replace

    if not boxes and not refine:
        return view_at(a, threshold, pixel_spacing_mm)
    from core.analysis.editing import Edits, apply_box
    from core.inference.boxprompt import BoxPromptError
    from core.inference.boxprompt import refine as refined

    edits = Edits.empty(a.image.gray.shape)
    if boxes:
        for box in boxes:
            try:
                apply_box(edits, segmenter.segment(a.image.gray, box).mask)
            except BoxPromptError as exc:
                raise ImageReadError(f"{os.path.basename(a.name)}: {exc}") from exc
        return view_at(a, threshold, pixel_spacing_mm, edits=edits)
    unet = view_at(a, threshold, pixel_spacing_mm).mask
    m = refined(segmenter, a.image.gray, unet, largest_only=refine == "largest")
    edits.add, edits.remove = m, ~m  # the refined mask replaces the U-Net's: no person drew it, so not 'edited'
    return replace(view_at(a, threshold, pixel_spacing_mm, edits=edits), edited=False)


def _figures(a: Analysis, v, threshold: float) -> dict:
    """The CSV columns that describe one image's (or frame's) mask."""
    m = v.measurements
    malignancy = calibrated_malignancy(a) if v.mask.any() else None
    return dict(width=a.image.width, height=a.image.height, lesion_area_px=m.area_px,
                lesion_area_mm2="" if m.area_mm2 is None else round(m.area_mm2, 3),
                lesion_count=m.lesion_count,
                longest_diameter_px="" if m.longest_diameter_px is None else round(m.longest_diameter_px, 2),
                lesion_score=round(lesion_score(a.probability, threshold), 4),
                gated=v.gated,
                malignancy_calibrated="" if malignancy is None else round(malignancy, 4),
                malignancy_band="" if malignancy is None else malignancy_band(malignancy),
                inference_ms=round(a.inference_ms, 2))


def _segment_cine(predictor: Predictor, a: Analysis, threshold: float, pixel_spacing_mm: float | None,
                  out: Segmented) -> Segmented:
    """A cine loop: one row per frame (each frame through the same view_at as a single image); the mask PNG,
    SEG and SR are of the frame with the largest lesion (the SEG of every frame where the source's geometry
    allows only that: core.report.dicomseg)."""
    from core.inference.cine import largest_frame

    for i in range(a.frame_count):
        f = at_frame(a, i)
        out.frame_rows.append({**out.row, "frame": i + 1, **_figures(f, view_at(f, threshold, pixel_spacing_mm),
                                                                      threshold)})
    chosen = largest_frame([int(r["lesion_area_px"]) for r in out.frame_rows])
    f = at_frame(a, chosen)
    v = view_at(f, threshold, pixel_spacing_mm)
    out.row = out.frame_rows[chosen]
    out.row["note"] = f"largest lesion of the {a.frame_count}-frame loop"
    out.files[MASK_SUFFIX] = mask_png(v)
    _dicom_objects(predictor, f, v, pixel_spacing_mm, out.row, out.files)
    return out


def _dicom_objects(predictor: Predictor, a: Analysis, v, pixel_spacing_mm: float | None, row: dict,
                   files: dict[str, bytes]) -> None:
    """Adds the DICOM Segmentation and its measurement report (SR) to files; row says 'written', or why not."""
    from core.report.dicomexport import dicom_outputs

    out = dicom_outputs(a, v, predictor.path, pixel_spacing_mm)
    if out.problem:
        row["dicom_seg"] = row["dicom_sr"] = f"not written: {out.problem}"
        return
    files[SEG_SUFFIX], files[SR_SUFFIX] = out.seg, out.sr
    row["dicom_seg"] = row["dicom_sr"] = "written"
    if out.note:
        row["note"] = "; ".join(x for x in (row.get("note"), f"the SEG {out.note}") if x)


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
    if SR_SUFFIX in files:
        row["dicom_sr"] = f"{stem}{SR_SUFFIX}"


def write_predictions_csv(out_dir: str, rows: list[dict]) -> str:
    path = os.path.join(out_dir, "predictions.csv")
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def predict_files(predictor: Predictor, files: list[str], out_dir: str, threshold: float | None = None,
                  pixel_spacing_mm: float | None = None, progress=None, report: bool = False,
                  contents: list[bytes] | None = None, dicom_objects: list | None = None,
                  boxes: list[list] | None = None, refine: str | None = None) -> list[dict]:
    """Segment each file in this process; write masks, DICOM Segmentations and measurement reports for DICOM
    inputs, predictions.csv and (report=True) the PDF reports, one per image and report.pdf for the batch, into
    out_dir. Returns the CSV rows. contents: the files' bytes when they came from elsewhere (a PACS), with files
    their names; dicom_objects: a list that receives (SEG bytes, SR bytes) of each DICOM input that got both.
    boxes: each file's box prompts (core.batch.boxes), refine: "each" or "largest" (segment_file)."""
    os.makedirs(out_dir, exist_ok=True)
    rows, reported = [], []
    segmenter = None
    if boxes is not None or refine:
        from core.inference.boxprompt import BoxSegmenter

        segmenter = BoxSegmenter()
    for i, (path, stem) in enumerate(zip(files, output_stems(files))):
        result = segment_file(predictor, path, threshold, pixel_spacing_mm, report=report,
                              data=None if contents is None else contents[i],
                              boxes=None if boxes is None else boxes[i], refine=refine, segmenter=segmenter)
        if dicom_objects is not None and SEG_SUFFIX in result.files and SR_SUFFIX in result.files:
            dicom_objects.append((result.files[SEG_SUFFIX], result.files[SR_SUFFIX]))
        write_outputs(out_dir, stem, result.files, result.row)
        for row in result.rows:  # a cine loop's frames name the same SEG and SR
            row["dicom_seg"], row["dicom_sr"] = result.row["dicom_seg"], result.row["dicom_sr"]
        if result.reported:
            reported.append(result.reported)
        rows.extend(result.rows)
        if progress:
            progress(i + 1, len(files))
    write_predictions_csv(out_dir, rows)
    if reported:
        from core.report.pdf import batch_report

        threshold = predictor.threshold if threshold is None else threshold
        write_output(out_dir, "report", ".pdf", batch_report(reported, threshold, predictor.card,
                                                             os.path.basename(predictor.path)))
    return rows
