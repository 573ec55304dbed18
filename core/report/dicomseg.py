"""A DICOM Segmentation object (SEG) of the lesion mask that references its source ultrasound image.

Made with highdicom, so OHIF or 3D Slicer open it over the image it came from: it carries the source's
study instance UID and patient, and references the source's series and SOP instance UIDs. Bytes in,
bytes out: the source DICOM is kept in memory by the caller and nothing here touches the disk.

Real-world sources: de-identification tools often drop the Type 2 patient and study attributes
(PatientBirthDate, AccessionNumber, ...); they are supplied empty in our copy of the header, as the
standard allows, never in the caller's bytes. Every SEG we write passes dicom3tools' ``dciodvfy``
without an Error (tests/core/report/test_dicom_validity.py).

Cine loops: a SEG of every frame needs the source's Frame of Reference (highdicom, following the
standard, aligns multi-frame segmentations by their plane positions). Ultrasound cine loops rarely carry
one, so for those the SEG covers one frame, the caller's chosen one, and says which and why
(``Segmentation.note``); its source reference names that frame (Referenced Frame Number).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

SEG_SERIES_NUMBER = 900
REQUIRED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")
# Type 2 attributes of the Patient and General Study modules: present, possibly empty (PS3.3 C.7.1.1, C.7.2.1)
TYPE2_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                       "ReferringPhysicianName", "AccessionNumber", "StudyID")
SOFTWARE_VERSION = "0.5.0"
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"


class DicomSegError(ValueError):
    """The source DICOM cannot be referenced by a Segmentation; the message says why."""


@dataclass
class Segmentation:
    """A written SEG. frames: the source frames it covers (1-based); note: a remark for the user, or None."""

    data: bytes
    sop_instance_uid: str
    series_instance_uid: str
    frames: list[int]
    note: str | None = None
    dataset: object = None  # the highdicom Segmentation, for the SR's reference to it


def number_of_frames(ds) -> int:
    try:
        return max(1, int(getattr(ds, "NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def source_header(source: bytes):
    """The source's header (no pixels) as a fresh dataset, with missing Type 2 patient and study attributes
    supplied empty. Raises DicomSegError when it cannot be read or lacks the UIDs a reference needs."""
    import pydicom

    try:
        src = pydicom.dcmread(io.BytesIO(source), force=True, stop_before_pixels=True)
    except Exception as exc:
        raise DicomSegError(f"the source DICOM could not be read ({type(exc).__name__}: {exc})") from exc
    missing = [k for k in REQUIRED_UIDS if not getattr(src, k, None)]
    if missing:
        raise DicomSegError(f"the source DICOM has no {', '.join(missing)}, so a Segmentation cannot reference it")
    for keyword in TYPE2_PATIENT_STUDY:
        if keyword not in src:
            setattr(src, keyword, "")
    return src


def source_problem(source: bytes) -> str | None:
    """Why a Segmentation cannot reference this DICOM (read without its pixels), or None when it can."""
    try:
        source_header(source)
    except DicomSegError as exc:
        return str(exc).replace("the source DICOM", "the DICOM")
    return None


def _algorithm(model_name: str, version: str):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    return hd.AlgorithmIdentificationSequence(name=model_name[:64], version=version,
                                              family=codes.DCM.ArtificialIntelligence)


def _description(edited: bool, model_name: str, version: str):
    import highdicom as hd
    from pydicom.sr.codedict import codes

    return hd.seg.SegmentDescription(
        segment_number=1, segment_label="Lesion",
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Lesion,
        algorithm_type=(hd.seg.SegmentAlgorithmTypeValues.SEMIAUTOMATIC if edited
                        else hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC),
        algorithm_identification=_algorithm(model_name, version))


def _single_frame_view(src):
    """A copy of a multi-frame header that highdicom accepts as a one-frame source (frame is 1-based)."""
    import copy

    one = copy.deepcopy(src)
    # highdicom reads a multi-frame SOP class as an enhanced image with functional groups, which an ultrasound
    # cine has not; as one frame of the single-frame US class it places the SEG's frame over the source's pixels.
    # The references are pointed back at the real class and frame afterwards (_refer_to_frame).
    one.SOPClassUID = US_IMAGE_STORAGE
    for keyword in ("NumberOfFrames", "FrameIncrementPointer", "FrameTime", "FrameTimeVector"):
        if keyword in one:
            delattr(one, keyword)
    return one


def _refer_to_frame(seg, src, frame: int) -> None:
    """Point every reference at the real multi-frame source: its SOP class, and the frame (Type 1C Referenced
    Frame Number) in each source image reference; the series' instance list (which has no frame number)
    gets its own items, since highdicom shares one reference object between the sequences."""
    import copy

    for series in getattr(seg, "ReferencedSeriesSequence", []):
        items = [copy.deepcopy(item) for item in getattr(series, "ReferencedInstanceSequence", [])]
        for item in items:
            item.ReferencedSOPClassUID = src.SOPClassUID
        series.ReferencedInstanceSequence = items
    sources = list(getattr(seg, "SourceImageSequence", []))
    for group in seg.PerFrameFunctionalGroupsSequence:
        for derivation in getattr(group, "DerivationImageSequence", []):
            sources += list(getattr(derivation, "SourceImageSequence", []))
    for item in sources:
        item.ReferencedSOPClassUID = src.SOPClassUID
        item.ReferencedFrameNumber = frame


def make_segmentation(source: bytes, masks: np.ndarray, *, edited: bool = False, model_name: str = "model",
                      software_version: str = SOFTWARE_VERSION, frame: int | None = None) -> Segmentation:
    """A binary DICOM SEG of masks over the DICOM whose file bytes are source.

    masks: (H, W) bool for a single image; (N, H, W) bool, one per frame, for a cine loop of N frames.
    frame: for a cine loop whose geometry allows only one frame, the 1-based frame to cover (default 1).
    The one segment is labelled "Lesion" (SNOMED CT Lesion); its algorithm type is SEMIAUTOMATIC when the
    clinician edited the mask and AUTOMATIC otherwise. An empty mask gives a SEG with an empty frame.
    Raises DicomSegError when the source lacks the UIDs a reference needs or the masks' size differs."""
    import highdicom as hd

    src = source_header(source)
    masks = np.asarray(masks, bool)
    n = number_of_frames(src)
    if masks.ndim == 2:
        masks = masks[None]
    if masks.shape[1:] != (int(src.Rows), int(src.Columns)):
        raise DicomSegError(f"the mask is {masks.shape[2]}×{masks.shape[1]} but the DICOM is {src.Columns}×{src.Rows}")
    if masks.shape[0] not in (1, n):
        raise DicomSegError(f"{masks.shape[0]} masks for a DICOM of {n} frames")
    note = None
    if n == 1:
        covered, pixels, source_ds = [1], masks[:1], src
    elif "FrameOfReferenceUID" in src and masks.shape[0] == n:
        covered, pixels, source_ds = list(range(1, n + 1)), masks, src
    else:
        frame = 1 if frame is None else int(frame)
        if not 1 <= frame <= n:
            raise DicomSegError(f"frame {frame} is not one of the loop's {n} frames")
        pixels = masks[frame - 1 if masks.shape[0] == n else 0][None]
        covered, source_ds = [frame], _single_frame_view(src)
        note = (f"covers frame {frame} of {n}: this cine loop has no Frame of Reference, which a DICOM "
                "Segmentation of several frames needs to place them")
    kwargs = dict(
        pixel_array=pixels.astype(np.uint8), segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_description(edited, model_name, software_version)],
        series_instance_uid=hd.UID(), series_number=SEG_SERIES_NUMBER, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="busseg", manufacturer_model_name="busseg",
        software_versions=software_version, device_serial_number="none",
        series_description="Lesion segmentation (edited)" if edited else "Lesion segmentation",
        omit_empty_frames=False)
    try:
        seg = hd.seg.Segmentation(source_images=[source_ds], **kwargs)
    except (ValueError, TypeError, AttributeError) as exc:
        raise DicomSegError(f"highdicom refused the source ({exc})") from exc
    if source_ds is not src:
        _refer_to_frame(seg, src, covered[0])
    # General Image module: Type 2C PatientOrientation (no plane orientation in an ultrasound SEG)
    seg.PatientOrientation = src.get("PatientOrientation", "") or ""
    out = io.BytesIO()
    seg.save_as(out)
    return Segmentation(out.getvalue(), str(seg.SOPInstanceUID), str(seg.SeriesInstanceUID), covered, note, seg)


def segmentation_bytes(source: bytes, mask: np.ndarray, *, edited: bool = False, model_name: str = "model",
                       software_version: str = SOFTWARE_VERSION, frame: int | None = None) -> bytes:
    """The SEG's file bytes (make_segmentation, for callers that need only the file)."""
    return make_segmentation(source, mask, edited=edited, model_name=model_name,
                             software_version=software_version, frame=frame).data
