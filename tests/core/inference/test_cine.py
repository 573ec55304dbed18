"""Cine loops: frame-by-frame batched segmentation (core.inference.cine) and core.predict's one row per frame.

The acceptance run of issue 32 is here too: pydicom's ultrasound scanner files plus a de-identified frame through
core.predict, every input with a SEG and an SR that dciodvfy accepts."""
import csv
import os

import numpy as np
import pytest

from core.inference.cine import largest_frame, predict_frames, to_float, to_uint8
from tests.helpers import US_EXAMPLES, anonymised_frame_bytes, dciodvfy_errors, us_example_bytes


class _BrightnessModel:
    """Stands in for the network: a pixel's lesion probability is its brightness; counts the forward passes."""

    image_size = 8

    def __init__(self):
        self.batches = []

    def model_input(self, gray):
        import cv2

        return cv2.resize(gray, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255.0

    def forward_batch_with_malignancy(self, batch):
        self.batches.append(len(batch))
        return batch[..., 0], batch.reshape(len(batch), -1).mean(axis=1)


def test_frames_go_through_in_batches_and_come_back_as_uint8_probabilities():
    frames = np.stack([np.full((16, 24), 20 * i, np.uint8) for i in range(11)])
    model = _BrightnessModel()
    cine = predict_frames(model, frames, batch_frames=4)
    assert model.batches == [4, 4, 3]
    assert cine.probability.dtype == np.uint8 and cine.probability.shape == (11, 16, 24)
    assert [int(cine.probability[i, 0, 0]) for i in range(11)] == [20 * i for i in range(11)]
    assert cine.malignancy == pytest.approx([20 * i / 255 for i in range(11)], abs=1e-6)
    assert cine.frame_probability(10).dtype == np.float32


def test_uint8_probabilities_round_to_the_nearest_step():
    p = np.array([0.0, 0.5, 0.501, 1.0], np.float32)
    assert to_uint8(p).tolist() == [0, 128, 128, 255]
    assert np.abs(to_float(to_uint8(p)) - p).max() <= 0.5 / 255 + 1e-7


def test_the_largest_lesion_frame_is_suggested():
    assert largest_frame([0, 40, 90, 90, 10]) == 2
    assert largest_frame([0, 0, 0]) == 0


def test_pydicoms_ultrasound_files_and_a_deidentified_frame_all_get_a_seg_and_an_sr(tmp_path, tiny_model_path):
    """Issue 32's acceptance: no error row, the cine gives 30 frame rows, every input a SEG and an SR, and
    dciodvfy finds no Error in any of them."""
    from core.predict import main

    src = tmp_path / "in"
    src.mkdir()
    for name in US_EXAMPLES:
        (src / name).write_bytes(us_example_bytes(name))
    (src / "anonymised_frame.dcm").write_bytes(anonymised_frame_bytes())
    out = tmp_path / "out"
    assert main([str(src), "--out", str(out), "--weights", tiny_model_path, "--threshold", "0.5"]) == 0
    with open(out / "predictions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["error"] for r in rows] == [""] * len(rows)
    cine = [r for r in rows if os.path.basename(r["file"]) == "examples_ybr_color.dcm"]
    assert [int(r["frame"]) for r in cine] == list(range(1, 31))
    assert len(rows) == 30 + 4
    chosen = [r for r in cine if "largest lesion" in r["note"]]
    assert len(chosen) == 1 and int(chosen[0]["lesion_area_px"]) == max(int(r["lesion_area_px"]) for r in cine)
    assert "Frame of Reference" in chosen[0]["note"]
    for stem in [os.path.splitext(n)[0] for n in US_EXAMPLES] + ["anonymised_frame"]:
        for suffix in ("_seg.dcm", "_sr.dcm"):
            assert dciodvfy_errors((out / f"{stem}{suffix}").read_bytes(), tmp_path) == [], stem + suffix
    assert {r["dicom_seg"] for r in cine} == {"examples_ybr_color_seg.dcm"}
    assert {r["dicom_sr"] for r in cine} == {"examples_ybr_color_sr.dcm"}
