"""Segmenting a cine loop: every frame through the network in batches, probabilities kept as uint8.

A loop of several hundred frames would need gigabytes as float32 probability maps at the scanner's resolution;
as uint8 (1/255 steps, far finer than any threshold a clinician sets) it needs one byte a pixel, the same as the
frames themselves. ``frame_probability`` gives one frame back as float32 for thresholding and measuring, so only
one float frame exists at a time. The largest-lesion frame is what the Segment page and the SEG suggest.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.inference.preprocess import probability_to_original

BATCH_FRAMES = 8  # frames per forward pass: enough to amortise the call, small enough for a 2-core CPU's cache


@dataclass
class CinePrediction:
    """probability: (N, H, W) uint8, probability × 255 rounded; malignancy: one value per frame, or None."""

    probability: np.ndarray
    malignancy: list[float] | None
    inference_ms: float

    @property
    def frame_count(self) -> int:
        return int(self.probability.shape[0])

    def frame_probability(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as (H, W) float32 in [0, 1]."""
        return to_float(self.probability[index])


def to_uint8(probability: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(np.asarray(probability, np.float32) * 255.0), 0, 255).astype(np.uint8)


def to_float(probability_u8: np.ndarray) -> np.ndarray:
    return probability_u8.astype(np.float32) * np.float32(1.0 / 255.0)


def predict_frames(predictor, frames: np.ndarray, batch_frames: int = BATCH_FRAMES, progress=None) -> CinePrediction:
    """(N, H, W) uint8 gray frames -> CinePrediction, BATCH_FRAMES frames per forward pass."""
    n, h, w = frames.shape
    out = np.empty((n, h, w), np.uint8)
    malignancy: list[float] | None = []
    t0 = time.perf_counter()
    for start in range(0, n, batch_frames):
        chunk = frames[start:start + batch_frames]
        batch = np.stack([predictor.model_input(f) for f in chunk])
        probs, mal = predictor.forward_batch_with_malignancy(batch)
        for j, p in enumerate(probs):
            out[start + j] = to_uint8(probability_to_original(p, h, w))
        if mal is None:
            malignancy = None
        elif malignancy is not None:
            malignancy += [float(v) for v in mal]
        if progress:
            progress(min(start + batch_frames, n), n)
    return CinePrediction(out, malignancy, (time.perf_counter() - t0) * 1000.0)


def largest_frame(areas: list[int]) -> int:
    """The 0-based index of the frame with the largest lesion area (the first of equals; 0 when none has one)."""
    return int(np.argmax(areas)) if len(areas) and max(areas) > 0 else 0
