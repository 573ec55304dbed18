"""core.analysis.memory: LRU eviction by bytes, pinned entries, sizes counted by hand."""
import numpy as np

from core.analysis import segment as an
from core.analysis.editing import Edits
from core.analysis.memory import AnalysisCache, analysis_bytes, edits_bytes, release_unused_memory
from core.data.imageio import DecodedImage
from core.inference.cine import CinePrediction


def _analysis(name="a.png", h=10, w=20):
    img = DecodedImage(name, np.zeros((h, w), np.uint8))
    return an.Analysis(name, img, np.zeros((h, w), np.float32), None, 1.0)


def test_analysis_bytes_counts_image_and_probability():
    a = _analysis()
    assert a.probability_u8.dtype == np.uint8  # a float map is stored as uint8, one byte a pixel
    assert analysis_bytes(a) == 200 + 200  # uint8 image + uint8 probability


def test_a_cine_frame_is_counted_once_with_its_loop():
    frames = np.zeros((3, 10, 20), np.uint8)
    probs = np.zeros((3, 10, 20), np.uint8)
    img = DecodedImage("c.dcm", frames[0], frames=frames)
    a = an.Analysis("c.dcm", img, probs[0], None, 1.0, cine=CinePrediction(probs, None, 1.0))
    assert analysis_bytes(a) == 600 + 600  # the frames and their probabilities; frame 1's views add nothing


def test_edits_bytes_counts_layers_and_history():
    e = Edits.empty((8, 8))
    assert edits_bytes(e) == 128
    e.history.append((np.packbits(e.add), np.packbits(e.remove)))
    assert edits_bytes(e) == 128 + 16


def test_least_recently_used_is_evicted_past_the_budget():
    dropped = []
    c = AnalysisCache(budget=1000, on_evict=lambda k, v: dropped.append(k))
    c.put("a", _analysis())
    c.put("b", _analysis())
    c.touch("a")  # b is now the least recently used
    assert c.put("c", _analysis()) == ["b"] and dropped == ["b"]
    assert set(c.keys()) == {"a", "c"} and c.total_bytes == 800 and c.evicted == 1


def test_pinned_entries_stay_and_fits_says_so():
    c = AnalysisCache(budget=1000)
    c.put("a", _analysis())
    c.put("b", _analysis(), pinned=["a"])
    assert c.fits(200, pinned=["a", "b"]) and not c.fits(201, pinned=["a", "b"])
    assert c.put("c", _analysis(), pinned=["a", "b"]) == []  # over budget, but everything is in view
    assert len(c) == 3


def test_recount_follows_growing_sizes():
    size = {"a": 100}
    c = AnalysisCache(budget=150, size_of=lambda k, v: size[k] if k in size else 100)
    c.put("a", 1)
    c.put("b", 2)
    assert "a" not in c  # 200 > 150
    size["b"] = 40
    c.recount()  # b is measured again only when asked
    c.put("a", 1)
    assert set(c.keys()) == {"a", "b"}
    size["b"] = 60
    assert c.recount(pinned=["b"]) == ["a"]


def test_release_unused_memory_runs():
    assert release_unused_memory() in (True, False)
