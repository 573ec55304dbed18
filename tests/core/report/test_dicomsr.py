"""core.report.dicomsr: the TID 1500 measurement report beside each SEG, with hand-computed figures."""
import io

import numpy as np
import pydicom
import pytest

from core.report.dicomseg import make_segmentation
from core.report.dicomsr import lesion_figures, measurement_report_bytes
from tests.helpers import anonymised_frame_bytes, dciodvfy_errors, us_example_bytes


def _rectangle(shape=(240, 320)) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[100:111, 50:91] = True  # 41 × 11 pixels: centres 40 apart across, 10 down
    return mask


def test_lesion_figures_of_a_rectangle():
    f = lesion_figures(_rectangle(), (0.5, 0.25))  # rows 0.5 mm, columns 0.25 mm
    assert f["area"] == pytest.approx(41 * 11 * 0.125)
    assert f["width"] == pytest.approx(41 * 0.25) and f["height"] == pytest.approx(11 * 0.5)
    # corner-to-corner between pixel centres: 40 × 0.25 = 10 mm across, 10 × 0.5 = 5 mm down
    assert f["long_axis"] == pytest.approx(np.hypot(10, 5))
    # the rectangle's extent perpendicular to its diagonal: 2 · 10 · 5 / hypot(10, 5)
    assert f["short_axis"] == pytest.approx(2 * 10 * 5 / np.hypot(10, 5))
    assert lesion_figures(np.zeros((20, 20), bool), None) is None


def _content(ds) -> dict:
    """Every numeric measurement (meaning -> (value, unit)) and coded evaluation (meaning -> value) in the SR."""
    found = {}

    def walk(items):
        for item in items:
            name = item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else None
            if item.ValueType == "NUM":
                mv = item.MeasuredValueSequence[0]
                found[name] = (float(mv.NumericValue), mv.MeasurementUnitsCodeSequence[0].CodeValue)
            elif item.ValueType == "CODE":
                found[name] = item.ConceptCodeSequence[0].CodeMeaning
            walk(getattr(item, "ContentSequence", []))

    walk(ds.ContentSequence)
    return found


def test_the_report_carries_the_figures_the_band_and_references_the_seg_and_source(tmp_path):
    source = us_example_bytes("examples_rgb_color.dcm")
    mask = _rectangle()
    seg = make_segmentation(source, mask)
    sr = pydicom.dcmread(io.BytesIO(measurement_report_bytes(source, seg, mask, (0.5, 0.25), "intermediate")))
    src = pydicom.dcmread(io.BytesIO(source), stop_before_pixels=True)
    assert sr.Modality == "SR" and sr.StudyInstanceUID == src.StudyInstanceUID
    content = _content(sr)
    assert content["Area"] == (pytest.approx(41 * 11 * 0.125), "mm2")
    assert content["Width"] == (pytest.approx(10.25), "mm") and content["Height"] == (pytest.approx(5.5), "mm")
    assert content["Long Axis"][0] == pytest.approx(np.hypot(10, 5), abs=1e-3)
    band = [v for k, v in content.items() if "Malignancy" in k]
    assert band == ["Intermediate (research estimate)"]
    assert any("research estimate" in k for k in content if "Malignancy" in k)
    evidence = {i.ReferencedSOPInstanceUID for s in sr.CurrentRequestedProcedureEvidenceSequence
                for r in s.ReferencedSeriesSequence for i in r.ReferencedSOPSequence}
    assert evidence == {src.SOPInstanceUID, seg.sop_instance_uid}
    assert dciodvfy_errors(measurement_report_bytes(source, seg, mask, (0.5, 0.25), "intermediate"), tmp_path) == []


def test_without_spacing_figures_are_in_pixels_and_an_empty_mask_says_none_was_found():
    source = anonymised_frame_bytes()
    empty = np.zeros((240, 320), bool)
    sr = pydicom.dcmread(io.BytesIO(measurement_report_bytes(source, make_segmentation(source, empty), empty, None,
                                                             None)))
    content = _content(sr)
    assert content["Lesion found by the model (research estimate)"] == "Absent"
    assert "Area" not in content
    mask = _rectangle()
    content = _content(pydicom.dcmread(io.BytesIO(measurement_report_bytes(
        source, make_segmentation(source, mask), mask, None, "low"))))
    assert content["Width"] == (41.0, "{pixels}")


@pytest.mark.parametrize("name", ["examples_palette.dcm", "examples_jpeg2k.dcm", "examples_ybr_color.dcm",
                                  "anonymised"])
def test_every_sr_passes_dciodvfy_without_error(name, tmp_path):
    source = anonymised_frame_bytes() if name == "anonymised" else us_example_bytes(name)
    header = pydicom.dcmread(io.BytesIO(source), stop_before_pixels=True)
    mask = _rectangle((header.Rows, header.Columns))
    seg = make_segmentation(source, mask, frame=3)
    assert dciodvfy_errors(measurement_report_bytes(source, seg, mask, (0.2, 0.2), "high"), tmp_path) == []
