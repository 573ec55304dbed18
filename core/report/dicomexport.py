"""The DICOM results of one analysed image (or cine frame): its SEG and, beside it, its measurement report (SR).

One function for the batch command, the Segment page's downloads and the PACS store, so the three send the same
objects: the (edited) mask of the frame shown, the spacing the figures used, the malignancy band only when a lesion
is marked. Nothing is half-made: when the SEG cannot be written, neither is the SR, and the reason is given.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from core.analysis.segment import Analysis, View, calibrated_malignancy, effective_spacing
from core.inference.decision import malignancy_band
from core.report.dicomseg import DicomSegError, make_segmentation
from core.report.dicomsr import measurement_report_bytes


@dataclass
class DicomOutputs:
    """seg, sr: file bytes, or None with problem saying why; note: a remark on what the SEG covers."""

    seg: bytes | None
    sr: bytes | None
    problem: str | None = None
    note: str | None = None


def dicom_outputs(a: Analysis, v: View, model_path: str, typed_mm_per_px: float | None = None) -> DicomOutputs:
    """The SEG and SR of view v over analysis a's DICOM source (a.frame names a cine loop's frame)."""
    if a.dicom is None:
        return DicomOutputs(None, None, "the image is not a DICOM file")
    model = os.path.basename(model_path)
    frame = None if a.frame is None else a.frame + 1
    malignancy = calibrated_malignancy(a) if v.mask.any() else None
    band = None if malignancy is None else malignancy_band(malignancy)
    try:
        # a mask drawn by hand or from a box (LiteMedSAM) is semi-automatic; refine (no person) stays automatic
        seg = make_segmentation(a.dicom, v.mask, edited=v.edited or v.prompted,
                                model_name=model + (" + LiteMedSAM" if v.prompted else ""), frame=frame)
        sr = measurement_report_bytes(a.dicom, seg, v.mask, effective_spacing(a, typed_mm_per_px), band,
                                      model_name=model)
    except DicomSegError as exc:
        return DicomOutputs(None, None, str(exc))
    return DicomOutputs(seg.data, sr, None, seg.note)
