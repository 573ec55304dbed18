"""Pictures drawn from an image and masks: overlays, contours, heatmaps, agreement maps.

All inputs are at the original resolution: gray (H, W) uint8, masks (H, W)
bool, probability (H, W) float. All outputs are (H, W, 3) uint8 RGB.
"""
from __future__ import annotations

import cv2
import numpy as np

LESION_RGB = (255, 64, 64)
CONTOUR_RGB = (255, 255, 0)
GT_RGB = (64, 200, 255)
TP_RGB, FP_RGB, FN_RGB = (40, 200, 80), (255, 64, 64), (60, 120, 255)


def to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=-1)


def _contour_width(shape) -> int:
    return max(1, int(round(max(shape) / 400)))


def draw_contour(rgb: np.ndarray, mask: np.ndarray, colour=CONTOUR_RGB) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = rgb.copy()
    cv2.drawContours(out, contours, -1, colour, _contour_width(mask.shape))
    return out


def lesion_overlay(gray: np.ndarray, mask: np.ndarray, opacity: float = 0.4, colour=LESION_RGB,
                   contour=CONTOUR_RGB) -> np.ndarray:
    """A coloured fill of opacity `opacity` plus an outline, over the grayscale image."""
    rgb = to_rgb(gray).astype(np.float32)
    fill = np.asarray(colour, np.float32)
    rgb[mask] = (1 - opacity) * rgb[mask] + opacity * fill
    return draw_contour(np.clip(rgb, 0, 255).astype(np.uint8), mask, contour)


def heatmap(gray: np.ndarray, probability: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """The probability map in the 'jet' colour scale blended over the image."""
    colours = cv2.applyColorMap(np.clip(probability * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB).astype(np.float32)
    rgb = to_rgb(gray).astype(np.float32)
    return np.clip((1 - opacity) * rgb + opacity * colours, 0, 255).astype(np.uint8)


def agreement_overlay(gray: np.ndarray, gt: np.ndarray, pred: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """True positives green, false positives red, false negatives blue."""
    rgb = to_rgb(gray).astype(np.float32)
    for region, colour in ((gt & pred, TP_RGB), (~gt & pred, FP_RGB), (gt & ~pred, FN_RGB)):
        rgb[region] = (1 - opacity) * rgb[region] + opacity * np.asarray(colour, np.float32)
    return np.clip(rgb, 0, 255).astype(np.uint8)
