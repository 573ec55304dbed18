"""core.preprocess: one path for training and inference."""
import numpy as np

from core.inference.preprocess import probability_to_original, resize_mask, to_model_input


def test_model_input_shape_range_and_dtype():
    gray = np.arange(0, 256, dtype=np.uint8).reshape(16, 16)
    x = to_model_input(gray, 8)
    assert x.shape == (8, 8, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_target_is_nearest_neighbour_binary():
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    y = resize_mask(mask, 8)
    expected = np.zeros((8, 8), bool)
    expected[:4, :4] = True
    assert y.dtype == bool and (y == expected).all()


def test_probability_goes_back_to_original_size():
    p = np.zeros((4, 4), np.float32)
    p[:2] = 1.0
    full = probability_to_original(p, 30, 50)
    assert full.shape == (30, 50)
    assert full[0, 0] == 1.0 and full[-1, -1] == 0.0


def test_constant_image_stays_constant():
    gray = np.full((10, 13), 51, np.uint8)
    assert np.allclose(to_model_input(gray, 8), 51 / 255)
