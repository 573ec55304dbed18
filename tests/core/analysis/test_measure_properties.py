"""Property-based tests of the measurements (hypothesis) on random masks: the invariants any correct lesion
measurement keeps, whatever the shape."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from core.analysis.measure import measure

SETTINGS = settings(max_examples=150, deadline=None)
SHAPES = arrays(np.bool_, st.tuples(st.integers(1, 24), st.integers(1, 24)))  # a blob, placed on a larger canvas
SPACING = st.tuples(st.floats(0.01, 2.0), st.floats(0.01, 2.0))


def _on_canvas(blob: np.ndarray, dy: int = 0, dx: int = 0, size: int = 64) -> np.ndarray:
    canvas = np.zeros((size, size), bool)
    canvas[dy:dy + blob.shape[0], dx:dx + blob.shape[1]] = blob
    return canvas


@SETTINGS
@given(blob=SHAPES, spacing=SPACING)
def test_area_is_the_pixel_count_times_the_pixel_area(blob, spacing):
    mask = _on_canvas(blob)
    m = measure(mask, spacing)
    assert m.area_px == int(mask.sum())
    assert m.area_mm2 == pytest.approx(mask.sum() * spacing[0] * spacing[1])
    assert measure(mask).area_mm2 is None  # no spacing, no mm²


@SETTINGS
@given(blob=SHAPES)
def test_diameters_and_box_lie_within_the_masks_bounding_box(blob):
    mask = _on_canvas(blob)
    m = measure(mask)
    if not m.lesion_count:
        assert m.longest_diameter_px is None and m.width_px is None
        return
    rows, cols = np.nonzero(mask)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert 1 <= m.width_px <= w and 1 <= m.height_px <= h
    # between pixel centres: at most the box's diagonal, at least the lesion's own box side less one
    assert max(m.width_px, m.height_px) - 1 <= m.longest_diameter_px + 1e-9
    assert m.longest_diameter_px <= math.hypot(h - 1, w - 1) + 1e-9
    assert 0.0 <= m.circularity <= 1.0
    assert m.taller_than_wide == (m.height_px > m.width_px)


@SETTINGS
@given(blob=SHAPES, dy=st.integers(0, 40), dx=st.integers(0, 40))
def test_moving_the_lesion_changes_no_measurement(blob, dy, dx):
    assert measure(_on_canvas(blob, dy, dx)) == measure(_on_canvas(blob))


@SETTINGS
@given(blob=SHAPES, s=st.floats(0.01, 2.0))
def test_square_pixels_scale_the_diameter_in_mm(blob, s):
    m = measure(_on_canvas(blob), (s, s))
    if m.lesion_count:
        assert m.longest_diameter_mm == pytest.approx(m.longest_diameter_px * s)
        assert m.width_mm == pytest.approx(m.width_px * s) and m.height_mm == pytest.approx(m.height_px * s)


@SETTINGS
@given(blob=SHAPES)
def test_transposing_swaps_width_and_height_and_keeps_the_rest(blob):
    a, b = measure(_on_canvas(blob)), measure(_on_canvas(blob.T))
    assert (a.area_px, a.lesion_count) == (b.area_px, b.lesion_count)
    if a.lesion_count:
        assert (a.width_px, a.height_px) == (b.height_px, b.width_px)
        assert a.longest_diameter_px == pytest.approx(b.longest_diameter_px)
