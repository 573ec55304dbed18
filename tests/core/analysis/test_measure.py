"""core.measure: sizes and shapes of hand-drawn masks."""
import cv2
import numpy as np
import pytest

from core.analysis.measure import measure


def test_rectangle_measurements_in_pixels_and_mm():
    m = np.zeros((100, 100), bool)
    m[10:40, 20:30] = True  # 30 rows tall, 10 columns wide
    r = measure(m, pixel_spacing_mm=(0.5, 0.2))
    assert r.area_px == 300
    assert r.area_mm2 == pytest.approx(300 * 0.1)
    assert (r.width_px, r.height_px) == (10, 30)
    assert r.longest_diameter_px == pytest.approx(np.hypot(29, 9))
    assert r.height_mm == pytest.approx(15.0) and r.width_mm == pytest.approx(2.0)
    assert r.taller_than_wide is True
    assert r.lesion_count == 1


def test_unknown_spacing_gives_no_mm():
    m = np.zeros((50, 50), bool)
    m[10:20, 5:45] = True
    r = measure(m)
    assert r.area_mm2 is None and r.longest_diameter_mm is None and r.taller_than_wide is False


def test_disc_is_nearly_circular_and_line_is_not():
    disc = np.zeros((200, 200), np.uint8)
    cv2.circle(disc, (100, 100), 60, 1, -1)
    assert measure(disc.astype(bool)).circularity == pytest.approx(1.0, abs=0.02)
    bar = np.zeros((200, 200), bool)
    bar[95:105, 10:190] = True
    # the contour runs through boundary pixel centres: a 179 × 9 rectangle
    assert measure(bar).circularity == pytest.approx(4 * np.pi * 179 * 9 / (2 * (179 + 9)) ** 2, rel=1e-3)


def test_specks_are_not_counted_as_lesions():
    m = np.zeros((200, 200), bool)
    m[10:60, 10:60] = True
    m[100:140, 100:140] = True
    m[190, 190] = True  # a one-pixel speck
    r = measure(m)
    assert r.lesion_count == 2
    assert r.area_px == 2500 + 1600 + 1


def test_empty_mask():
    r = measure(np.zeros((10, 10), bool))
    assert r.area_px == 0 and r.lesion_count == 0 and r.circularity is None
