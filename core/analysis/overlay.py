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
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)


def _contour_width(shape) -> int:
    return max(1, int(round(max(shape) / 400)))


def draw_contour(rgb: np.ndarray, mask: np.ndarray, colour=CONTOUR_RGB) -> np.ndarray:
    """Draws the mask's outline onto rgb (in place) and returns it."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(rgb, contours, -1, colour, _contour_width(mask.shape))
    return rgb


def _blend(rgb: np.ndarray, region: np.ndarray, colour, opacity: float) -> None:
    """In place: rgb[region] = (1 - opacity) * rgb + opacity * colour, in uint8 arithmetic (fast)."""
    if not region.any():
        return
    solid = np.empty_like(rgb)
    solid[:] = colour
    mixed = cv2.addWeighted(rgb, 1.0 - opacity, solid, opacity, 0.0)
    rgb[region] = mixed[region]


def lesion_overlay(gray: np.ndarray, mask: np.ndarray, opacity: float = 0.4, colour=LESION_RGB,
                   contour=CONTOUR_RGB) -> np.ndarray:
    """A coloured fill of opacity `opacity` plus an outline, over the grayscale image."""
    rgb = to_rgb(gray)
    _blend(rgb, mask, colour, opacity)
    return draw_contour(rgb, mask, contour)


def heatmap(gray: np.ndarray, probability: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """The probability map in the 'jet' colour scale blended over the image."""
    colours = cv2.applyColorMap(np.clip(probability * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    colours = cv2.cvtColor(colours, cv2.COLOR_BGR2RGB).astype(np.float32)
    rgb = to_rgb(gray).astype(np.float32)
    return np.clip((1 - opacity) * rgb + opacity * colours, 0, 255).astype(np.uint8)


def agreement_overlay(gray: np.ndarray, gt: np.ndarray, pred: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """True positives green, false positives red, false negatives blue."""
    rgb = to_rgb(gray)
    for region, colour in ((gt & pred, TP_RGB), (~gt & pred, FP_RGB), (gt & ~pred, FN_RGB)):
        _blend(rgb, region, colour, opacity)
    return rgb


def image_figure(rgb: np.ndarray, title: str = ""):
    """A zoomable plotly figure of an RGB image, sent as a JPEG (quality 92), not a pixel array.

    For display only: about a fifth of the PNG's bytes, so the browser gets and
    draws it sooner. The downloads stay lossless PNG.
    """
    import base64

    import plotly.graph_objects as go

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    uri = "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()
    fig = go.Figure(go.Image(source=uri))
    fig.update_layout(margin=dict(l=0, r=0, t=30, b=0), title=title, dragmode="zoom", height=480)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    return fig
