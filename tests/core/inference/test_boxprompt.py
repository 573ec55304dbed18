"""core.inference.boxprompt: LiteMedSAM on ONNX Runtime against PyTorch's reference outputs, the embedding cache,
and the box and mask geometry on hand-checked arrays."""
import hashlib
import os
import re

import numpy as np
import pytest

from core.inference import boxprompt as bp
from tests.helpers import ROOT

REFERENCE = os.path.join(ROOT, "weights", "litemedsam.reference.npz")
# the tolerance the conversion tool checked (tools/convert_litemedsam.py, weights/litemedsam.card.md)
TOL_LOGIT, TOL_IOU, TOL_MASK_DICE = 0.25, 0.02, 0.99


@pytest.fixture(scope="module")
def segmenter():
    if not bp.BoxSegmenter.available():
        pytest.fail("weights/litemedsam_*.onnx are missing: they ship with the repository")
    return bp.BoxSegmenter()


def test_onnx_matches_pytorch_reference_outputs(segmenter):
    from core.metrics.scores import dice

    ref = np.load(REFERENCE)
    for i, box in enumerate(ref["boxes"]):
        gray = ref[f"image{i}"]
        segmenter._load()
        emb, prep, _ = segmenter.embedding(gray)
        names = [x.name for x in segmenter._decoder.get_inputs()]
        logits, iou = segmenter._decoder.run(None, {names[0]: emb, names[1]: bp.box_to_model(box, prep.scale)})
        assert np.abs(logits[0, 0] - ref["logits"][i]).max() <= TOL_LOGIT
        assert abs(float(iou.reshape(-1)[0]) - float(ref["iou"][i])) <= TOL_IOU
        torch_mask = np.unpackbits(ref[f"mask{i}"], count=gray.size).reshape(gray.shape).astype(bool)
        mask = segmenter.segment(gray, box).mask
        assert mask.shape == gray.shape and mask.any()
        assert dice(torch_mask, mask) >= TOL_MASK_DICE


def test_card_lists_the_shipped_files_sha256():
    card = open(os.path.join(ROOT, "weights", "litemedsam.card.md"), encoding="utf-8").read()
    rows = re.findall(r"^\| (\S+) \| (\d+) \| ([0-9a-f]{64}) \|$", card, re.M)
    assert {r[0] for r in rows} >= {"litemedsam_encoder.onnx", "litemedsam_decoder.onnx", "litemedsam.reference.npz"}
    for name, size, sha in rows:
        path = os.path.join(ROOT, "weights", name)
        assert os.path.getsize(path) == int(size), name
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == sha, name
    assert "Apache-2.0" in card and "BUSI" in card
    assert os.path.getsize(os.path.join(ROOT, "weights", "litemedsam.LICENSE")) > 1000


class _Counting:
    """A stand-in ONNX session: counts runs, returns fixed outputs."""

    def __init__(self, outputs, names):
        self.runs, self._outputs, self._names = 0, outputs, names

    def get_inputs(self):
        return [type("I", (), {"name": n})() for n in self._names]

    def run(self, _, feeds):
        self.runs += 1
        self.feeds = feeds
        return self._outputs


def _fake_segmenter():
    seg = bp.BoxSegmenter("none", "none")
    seg._encoder = _Counting([np.zeros((1, 256, 64, 64), np.float32)], ["image"])
    logits = -np.ones((1, 1, 256, 256), np.float32)
    logits[..., :64, :128] = 1.0
    seg._decoder = _Counting([logits, np.array([[0.9]], np.float32)], ["embedding", "box"])
    return seg


def test_second_box_on_the_same_image_runs_only_the_decoder():
    seg = _fake_segmenter()
    gray = np.full((100, 200), 50, np.uint8)
    first = seg.segment(gray, (10, 20, 110, 70))
    second = seg.segment(gray, (0, 0, 50, 50))
    assert seg.encoder_runs == 1 and seg._encoder.runs == 1 and seg._decoder.runs == 2
    assert second.encoder_ms == 0.0 and first.iou == pytest.approx(0.9)
    seg.segment(gray.copy(), (0, 0, 50, 50))  # the same pixels again: still cached
    assert seg._encoder.runs == 1
    seg.segment(np.full((100, 200), 51, np.uint8), (0, 0, 50, 50))  # another image: encoded
    assert seg._encoder.runs == 2


def test_box_is_scaled_with_the_image_and_the_mask_comes_back_at_the_original_size():
    seg = _fake_segmenter()
    gray = np.zeros((100, 200), np.uint8)
    gray[:, 100:] = 200
    out = seg.segment(gray, (10, 20, 110, 70))
    # longest side 200 -> 256: scale 1.28, the image fills 128 x 256 of the 256 frame
    np.testing.assert_allclose(seg._decoder.feeds["box"], [[12.8, 25.6, 140.8, 89.6]], rtol=1e-6)
    image = seg._encoder.feeds["image"]
    assert image.shape == (1, 3, 256, 256)
    assert image[0, :, :128, 128:].min() == 1.0 and image[0, :, :128, :128].max() == 0.0  # min-max to [0, 1]
    assert image[0, :, 128:, :].max() == 0.0  # padding below
    # logits positive on rows 0..63 and columns 0..127 of the 128 x 256 crop: the top-left quarter of 100 x 200
    expected = np.zeros((100, 200), bool)
    expected[:50, :100] = True
    assert out.mask.shape == (100, 200) and (out.mask == expected).all()


def test_check_box_orders_clips_and_refuses():
    np.testing.assert_array_equal(bp.check_box((50, 40, 10, 5), (60, 80)), [10, 5, 50, 40])
    np.testing.assert_array_equal(bp.check_box((-5, -5, 200, 30), (60, 80)), [0, 0, 79, 30])
    for bad in [(100, 10, 120, 20), (-20, -20, -1, -1), (10, 10, 10, 30), (5, 5, 5, 5), ("a", 1, 2, 3), (1, 2, 3)]:
        with pytest.raises(bp.BoxPromptError):
            bp.check_box(bad, (60, 80))


def test_lesion_boxes_are_tight_largest_first():
    m = np.zeros((20, 30), bool)
    m[2:5, 3:6] = True  # 9 px
    m[10:18, 20:28] = True  # 64 px
    assert bp.lesion_boxes(m) == [(20, 10, 27, 17), (3, 2, 5, 4)]
    assert bp.lesion_boxes(m, largest_only=True) == [(20, 10, 27, 17)]
    assert bp.lesion_boxes(np.zeros((5, 5), bool)) == []


def test_refine_prompts_each_lesion_and_keeps_an_empty_mask_empty():
    seg = _fake_segmenter()
    gray = np.full((100, 200), 80, np.uint8)
    m = np.zeros((100, 200), bool)
    m[5:10, 5:10] = m[60:70, 150:160] = True
    m[90, 10:30] = m[0, 199] = True  # a one-pixel-thin line and a stray pixel: nothing to prompt with
    out = bp.refine(seg, gray, m)
    assert seg._decoder.runs == 2 and out.sum() == 5000
    assert not bp.refine(seg, gray, np.zeros((100, 200), bool)).any() and seg._decoder.runs == 2


def test_precompute_in_background_fills_the_cache_so_a_box_runs_only_the_decoder():
    seg = _fake_segmenter()
    seg.available = lambda *a: True  # the fake sessions stand in for the files
    gray = np.full((100, 200), 50, np.uint8)
    seg.precompute_in_background(gray).join(5)
    assert seg._encoder.runs == 1
    assert seg.segment(gray, (10, 20, 110, 70)).encoder_ms == 0.0 and seg._encoder.runs == 1
