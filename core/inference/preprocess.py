"""The one preprocessing path shared by training and inference.

image (H, W) uint8 gray  -> model input (S, S, 1) float32 in [0, 1]
mask  (H, W) bool        -> target      (S, S) bool (nearest neighbour)
probability (S, S)       -> probability at the original (H, W)

Images are shrunk with area interpolation (enlarged with linear); masks are
resized with nearest neighbour so a target never holds a made-up boundary.
"""
from __future__ import annotations

import cv2
import numpy as np


def resize_image(gray: np.ndarray, size: int) -> np.ndarray:
    """(H, W) uint8 -> (size, size) uint8, area interpolation when shrinking."""
    h, w = gray.shape[:2]
    interp = cv2.INTER_AREA if (h >= size and w >= size) else cv2.INTER_LINEAR
    return cv2.resize(gray, (size, size), interpolation=interp)


def resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """(H, W) bool -> (size, size) bool, nearest neighbour."""
    return cv2.resize(mask.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST).astype(bool)


def normalise(small: np.ndarray) -> np.ndarray:
    """(S, S) uint8 -> (S, S, 1) float32 in [0, 1]."""
    return (small.astype(np.float32) * (1.0 / 255.0))[..., None]


def to_model_input(gray: np.ndarray, size: int) -> np.ndarray:
    """(H, W) uint8 gray -> (size, size, 1) float32, ready for the network."""
    if gray.ndim != 2:
        raise ValueError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    return normalise(resize_image(gray, size))


def probability_to_original(prob: np.ndarray, height: int, width: int) -> np.ndarray:
    """(S, S) float probability -> (height, width) float32, linear interpolation.

    Interpolating the probability (not the thresholded mask) keeps lesion
    borders smooth at the original resolution and lets the threshold move
    without recomputation.
    """
    prob = np.asarray(prob, np.float32).squeeze()
    return np.clip(cv2.resize(prob, (width, height), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)
