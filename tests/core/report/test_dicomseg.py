"""core.report.dicomseg: the SEG round trip against a synthetic ultrasound DICOM."""
import io

import numpy as np
import pydicom
import pytest

from core.data.imageio import decode_image
from core.report.dicomseg import DicomSegError, segmentation_bytes
from tests.helpers import synthetic_case, us_dicom_bytes


def test_seg_round_trip_gives_the_mask_back_and_references_the_source():
    gray, mask = synthetic_case(48, 64, seed=2)
    src_bytes = us_dicom_bytes(gray, spacing=(0.1, 0.2))
    assert decode_image(src_bytes, "us.dcm").pixel_spacing_mm == (0.1, 0.2)
    src = pydicom.dcmread(io.BytesIO(src_bytes))
    seg = pydicom.dcmread(io.BytesIO(segmentation_bytes(src_bytes, mask, edited=True, model_name="default.keras")))
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage
    assert seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    frame = seg.pixel_array
    assert frame.shape == mask.shape and np.array_equal(frame.astype(bool), mask)
    assert seg.StudyInstanceUID == src.StudyInstanceUID and seg.PatientID == src.PatientID
    assert seg.SeriesInstanceUID != src.SeriesInstanceUID and seg.SOPInstanceUID != src.SOPInstanceUID
    (ref_series,) = seg.ReferencedSeriesSequence
    assert ref_series.SeriesInstanceUID == src.SeriesInstanceUID
    assert ref_series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
    source_image = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert source_image.ReferencedSOPInstanceUID == src.SOPInstanceUID
    segment = seg.SegmentSequence[0]
    assert segment.SegmentLabel == "Lesion" and segment.SegmentAlgorithmType == "SEMIAUTOMATIC"


def test_an_empty_mask_still_gives_a_readable_seg():
    gray, _ = synthetic_case(32, 40, lesion=False)
    seg = pydicom.dcmread(io.BytesIO(segmentation_bytes(us_dicom_bytes(gray), np.zeros(gray.shape, bool))))
    assert seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    assert not np.asarray(seg.pixel_array).any()


def test_a_source_without_uids_or_of_another_size_is_refused_with_a_reason():
    from tests.core.data.test_imageio import _dicom_bytes

    with pytest.raises(DicomSegError, match="StudyInstanceUID"):
        segmentation_bytes(_dicom_bytes(spacing=(0.1, 0.1)), np.zeros((2, 2), bool))
    gray, _ = synthetic_case(32, 40)
    with pytest.raises(DicomSegError, match="40×32"):
        segmentation_bytes(us_dicom_bytes(gray), np.zeros((10, 10), bool))


def test_source_problem_is_told_before_any_seg_is_made():
    from core.report.dicomseg import source_problem
    from tests.core.data.test_imageio import _dicom_bytes

    assert source_problem(us_dicom_bytes(synthetic_case(32, 40)[0])) is None
    assert "StudyInstanceUID" in source_problem(_dicom_bytes())


def _mask_for(source: bytes) -> np.ndarray:
    src = pydicom.dcmread(io.BytesIO(source), stop_before_pixels=True)
    n = int(src.get("NumberOfFrames", 1) or 1)
    masks = np.zeros((n, src.Rows, src.Columns), bool)
    for i in range(n):  # a lesion that grows through the loop
        masks[i, 40:60 + i, 50:90 + i] = True
    return masks if n > 1 else masks[0]


def test_a_deidentified_source_without_type2_attributes_still_gets_a_seg():
    from tests.helpers import DEIDENTIFIED_AWAY, anonymised_frame_bytes

    source = anonymised_frame_bytes()
    seg = pydicom.dcmread(io.BytesIO(segmentation_bytes(source, _mask_for(source))))
    for keyword in DEIDENTIFIED_AWAY:  # supplied empty, as Type 2 allows
        assert keyword in seg and not seg.get(keyword)
    assert seg.PatientID == "ANON0001"
    assert "PatientBirthDate" not in pydicom.dcmread(io.BytesIO(source))  # the caller's bytes are untouched


def test_a_cine_loop_without_frame_of_reference_gets_its_chosen_frame_with_the_reason():
    from core.report.dicomseg import make_segmentation
    from tests.helpers import us_example_bytes

    source = us_example_bytes("examples_ybr_color.dcm")
    masks = _mask_for(source)
    out = make_segmentation(source, masks, frame=12)
    assert out.frames == [12] and "frame 12 of 30" in out.note and "Frame of Reference" in out.note
    seg = pydicom.dcmread(io.BytesIO(out.data))
    assert np.array_equal(seg.pixel_array.astype(bool), masks[11])
    ref = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert ref.ReferencedFrameNumber == 12
    assert ref.ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.3.1"  # Ultrasound Multi-frame Image Storage
    with pytest.raises(DicomSegError, match="frame 31"):
        make_segmentation(source, masks, frame=31)


@pytest.mark.parametrize("name", ["examples_palette.dcm", "examples_rgb_color.dcm", "examples_jpeg2k.dcm",
                                  "examples_ybr_color.dcm", "anonymised"])
def test_every_seg_we_write_passes_dciodvfy_without_error(name, tmp_path):
    from tests.helpers import anonymised_frame_bytes, dciodvfy_errors, us_example_bytes

    source = anonymised_frame_bytes() if name == "anonymised" else us_example_bytes(name)
    data = segmentation_bytes(source, _mask_for(source), frame=5)
    assert dciodvfy_errors(data, tmp_path) == []


def test_a_mask_from_a_box_gives_a_semiautomatic_seg_naming_litemedsam():
    from core.analysis import segment as an
    from core.analysis.editing import Edits, apply_box
    from core.report.dicomexport import dicom_outputs

    gray, lesion = synthetic_case(60, 80, seed=4)

    class _Flat:  # a model that marks nothing, so only the box's mask can make the SEG
        decision = None

        def predict(self, g):
            from core.inference.predictor import Prediction

            return Prediction(np.zeros(g.shape, np.float32), None, 1.0)

    a = an.analyse(_Flat(), an.Upload("us.dcm", us_dicom_bytes(gray)))
    plain = pydicom.dcmread(io.BytesIO(dicom_outputs(a, an.view_at(a, 0.5), "default.keras").seg))
    assert plain.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    e = Edits.empty(gray.shape)
    apply_box(e, lesion)
    v = an.view_at(a, 0.5, edits=e)
    assert v.prompted and v.edited and v.measurements.area_px == lesion.sum()
    seg = pydicom.dcmread(io.BytesIO(dicom_outputs(a, v, "default.keras").seg))
    item = seg.SegmentSequence[0]
    assert item.SegmentAlgorithmType == "SEMIAUTOMATIC"
    assert "LiteMedSAM" in item.SegmentationAlgorithmIdentificationSequence[0].AlgorithmName
