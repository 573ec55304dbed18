"""A DICOM Segmentation object (SEG) of the lesion mask that references its source ultrasound image.

Made with highdicom, so OHIF or 3D Slicer open it over the image it came from: it carries the source's
study instance UID and patient, and references the source's series and SOP instance UIDs. Bytes in,
bytes out: the source DICOM is kept in memory by the caller and nothing here touches the disk.
"""
from __future__ import annotations

import io

import numpy as np

SEG_SERIES_NUMBER = 900
REQUIRED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")


class DicomSegError(ValueError):
    """The source DICOM cannot be referenced by a Segmentation; the message says why."""


def source_problem(source: bytes) -> str | None:
    """Why a Segmentation cannot reference this DICOM (read without its pixels), or None when it can."""
    import pydicom

    try:
        src = pydicom.dcmread(io.BytesIO(source), force=True, stop_before_pixels=True)
    except Exception as exc:
        return f"the DICOM could not be read ({type(exc).__name__})"
    missing = [k for k in REQUIRED_UIDS if not getattr(src, k, None)]
    if missing:
        return f"the DICOM has no {', '.join(missing)}, so a Segmentation cannot reference it"
    if "NumberOfFrames" in src and int(src.NumberOfFrames) > 1:
        return "multi-frame DICOM: only single-frame images are exported as a Segmentation"
    return None


def segmentation_bytes(source: bytes, mask: np.ndarray, *, edited: bool = False, model_name: str = "model",
                       software_version: str = "0.5.0") -> bytes:
    """A binary DICOM SEG of mask (H, W) bool over the DICOM whose file bytes are source.

    The one segment is labelled "Lesion" (SNOMED CT Lesion); its algorithm type is SEMIAUTOMATIC when the
    clinician edited the mask and AUTOMATIC otherwise. An empty mask gives a SEG with an empty frame.
    Raises DicomSegError when the source lacks the UIDs a reference needs or the mask's size differs."""
    import highdicom as hd
    import pydicom
    from pydicom.sr.codedict import codes

    try:
        src = pydicom.dcmread(io.BytesIO(source), force=True)
    except Exception as exc:
        raise DicomSegError(f"the source DICOM could not be read ({type(exc).__name__}: {exc})") from exc
    missing = [k for k in REQUIRED_UIDS if not getattr(src, k, None)]
    if missing:
        raise DicomSegError(f"the source DICOM has no {', '.join(missing)}, so a Segmentation cannot reference it")
    mask = np.asarray(mask, bool)
    if mask.shape != (int(src.Rows), int(src.Columns)):
        raise DicomSegError(f"the mask is {mask.shape[1]}×{mask.shape[0]} but the DICOM is {src.Columns}×{src.Rows}")
    if "NumberOfFrames" in src and int(src.NumberOfFrames) > 1:
        raise DicomSegError("multi-frame DICOM: only single-frame images are exported as a Segmentation")
    algorithm = hd.AlgorithmIdentificationSequence(name=model_name[:64], version=software_version,
                                                   family=codes.DCM.ArtificialIntelligence)
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label="Lesion",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Lesion,
        algorithm_type=(hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC if edited
                        else hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC),
        algorithm_identification=algorithm)
    try:
        seg = hd.seg.Segmentation(
            source_images=[src], pixel_array=mask.astype(np.uint8),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[description],
            series_instance_uid=hd.UID(), series_number=SEG_SERIES_NUMBER, sop_instance_uid=hd.UID(),
            instance_number=1, manufacturer="busseg", manufacturer_model_name="busseg",
            software_versions=software_version, device_serial_number="none",
            series_description="Lesion segmentation (edited)" if edited else "Lesion segmentation",
            omit_empty_frames=False)
    except (ValueError, TypeError, AttributeError) as exc:
        raise DicomSegError(f"highdicom refused the source ({exc})") from exc
    out = io.BytesIO()
    seg.save_as(out)
    return out.getvalue()
