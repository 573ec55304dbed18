"""A DICOM Structured Report (TID 1500 Measurement Report) of the lesion's measurements, beside its SEG.

Made with highdicom.sr: one planar ROI measurement group for the largest lesion, referencing the SEG's
segment (and, through it, the source image and frame), with the lesion area, the longest diameter (long axis)
and its perpendicular (short axis), width and height: in mm and mm² when the image carries its pixel spacing,
otherwise in pixels. The malignancy estimate appears only as its band (low, intermediate, high), in a
qualitative evaluation whose name says it is a research estimate, not a diagnosis. Bytes in, bytes out.
"""
from __future__ import annotations

import io

import numpy as np

from core.analysis.measure import axis_diameters, lesion_components, outer_contour
from core.report.dicomseg import SOFTWARE_VERSION, DicomSegError, Segmentation, source_header

SR_SERIES_NUMBER = 901
# private codes (coding scheme designators starting "99" are the standard's local schemes, PS3.16 8.2)
SCHEME = "99BUSSEG"
MALIGNANCY_BAND = ("MALBAND", "Malignancy estimate band (research estimate, not a diagnosis)")
LESION_FOUND = ("LESFOUND", SCHEME, "Lesion found by the model (research estimate)")
BAND_CODES = {"low": ("MALLOW", "Low (research estimate)"),
              "intermediate": ("MALINT", "Intermediate (research estimate)"),
              "high": ("MALHIGH", "High (research estimate)")}


def _code(value: str, scheme: str, meaning: str):
    from highdicom.sr import CodedConcept

    return CodedConcept(value, scheme, meaning)


def lesion_figures(mask: np.ndarray, spacing_mm: tuple[float, float] | None) -> dict[str, float] | None:
    """The largest lesion's area, long and short axis, width and height (mm when spacing is known, else px);
    None when the mask holds no lesion."""
    comps = lesion_components(np.asarray(mask, bool))
    if not comps:
        return None
    lesion = comps[0]
    contour = outer_contour(lesion)
    sp = spacing_mm or (1.0, 1.0)
    import cv2

    _, _, w, h = cv2.boundingRect(contour.reshape(-1, 1, 2).astype(np.int32))
    longest, across = axis_diameters(contour, sp)
    return {"area": float(np.count_nonzero(lesion)) * sp[0] * sp[1], "long_axis": longest, "short_axis": across,
            "width": w * sp[1], "height": h * sp[0]}


def _referenced_segment(seg: Segmentation, src):
    """The SEG's lesion segment and the source image (and frame, for a cine loop) it was drawn on."""
    import highdicom as hd

    multi = int(getattr(src, "NumberOfFrames", 1) or 1) > 1
    source = hd.sr.SourceImageForSegmentation(src.SOPClassUID, src.SOPInstanceUID,
                                              referenced_frame_numbers=seg.frames if multi else None)
    # the whole segment, not one SEG frame: TID 1410's Referenced Segmentation Frame carries a frame and a segment
    # number together, which dciodvfy rejects (PS3.3 C.17.3.2.2), so the group is TID 1411's, by segment
    return hd.sr.ReferencedSegment(sop_class_uid=seg.dataset.SOPClassUID, sop_instance_uid=seg.sop_instance_uid,
                                   segment_number=1, source_images=[source])


def measurement_report_bytes(source: bytes, seg: Segmentation, mask: np.ndarray,
                             spacing_mm: tuple[float, float] | None, band: str | None, *,
                             model_name: str = "model", software_version: str = SOFTWARE_VERSION) -> bytes:
    """A TID 1500 Enhanced SR over the SEG ``seg`` (made by core.report.dicomseg.make_segmentation from the
    same source) and its source image. mask: the (H, W) mask of the frame the SEG covers. band: the malignancy
    band, or None. A mask with no lesion gives a report whose group says the model found none, with no figures."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    src = source_header(source)
    if seg.dataset is None:
        raise DicomSegError("the SEG's dataset is needed to reference it")
    figures = lesion_figures(mask, spacing_mm)
    mm = spacing_mm is not None
    length_unit = codes.UCUM.Millimeter if mm else _code("{pixels}", "UCUM", "pixels")
    area_unit = codes.UCUM.SquareMillimeter if mm else _code("{pixels}", "UCUM", "pixels")
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name="busseg", model_name=model_name[:64]))
    measurements = []
    if figures is not None:
        measurements = [
            hd.sr.Measurement(name=codes.SCT.Area, value=round(figures["area"], 3), unit=area_unit),
            hd.sr.Measurement(name=_code("103339001", "SCT", "Long Axis"), value=round(figures["long_axis"], 3),
                              unit=length_unit),
            hd.sr.Measurement(name=_code("103340004", "SCT", "Short Axis"), value=round(figures["short_axis"], 3),
                              unit=length_unit),
            hd.sr.Measurement(name=codes.SCT.Width, value=round(figures["width"], 3), unit=length_unit),
            hd.sr.Measurement(name=codes.DCM.Height, value=round(figures["height"], 3), unit=length_unit)]
    # whether the model found a lesion at all, so a report of an empty mask still says something
    evaluations = [hd.sr.QualitativeEvaluation(_code(*LESION_FOUND),
                                               codes.SCT.Present if figures is not None else codes.SCT.Absent)]
    if figures is not None and band in BAND_CODES:
        evaluations.append(hd.sr.QualitativeEvaluation(_code(MALIGNANCY_BAND[0], SCHEME, MALIGNANCY_BAND[1]),
                                                       _code(BAND_CODES[band][0], SCHEME, BAND_CODES[band][1])))
    groups = [hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="Lesion 1"),
        referenced_segment=_referenced_segment(seg, src),
        finding_type=codes.SCT.Lesion,
        algorithm_id=hd.sr.AlgorithmIdentification(name=model_name[:64], version=software_version),
        measurements=measurements or None, qualitative_evaluations=evaluations)]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.SCT.UltrasonographyOfBreast, imaging_measurements=groups,
        title=codes.DCM.ImagingMeasurementReport)
    try:
        sr = hd.sr.EnhancedSR(
            evidence=[src, seg.dataset], content=report[0], series_instance_uid=hd.UID(),
            series_number=SR_SERIES_NUMBER, sop_instance_uid=hd.UID(), instance_number=1,
            manufacturer="busseg", series_description="Lesion measurements (research)",
            is_complete=True, is_final=False, is_verified=False)
    except (ValueError, TypeError, AttributeError) as exc:
        raise DicomSegError(f"highdicom refused the report ({exc})") from exc
    out = io.BytesIO()
    sr.save_as(out)
    return out.getvalue()
