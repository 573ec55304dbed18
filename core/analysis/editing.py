"""The clinician's corrections to a predicted mask: add and remove layers over the model's mask, with undo.

Edits are two boolean layers at the image's original resolution, kept apart from the model's mask:

    edited = (base | add) & ~remove

where ``base`` is the thresholded (and gated) mask. Moving the threshold changes ``base`` only, so the
clinician's strokes survive it. A brush stroke goes into ``add`` (and is taken out of ``remove``); an eraser
stroke goes into ``remove`` (and is taken out of ``add``), so the last stroke over a pixel wins.

A box (``apply_box``) brings LiteMedSAM's mask for it (core.inference.boxprompt): the first box's mask becomes the
image's mask (added where it is, removed everywhere else, so the threshold no longer changes it); each further
box adds its lesion. ``prompts`` counts the boxes in effect, so a DICOM SEG can say the mask is semi-automatic.

Strokes arrive in the drawing canvas's pixel space; ``canvas_to_image`` maps them back to image pixels
with the canvas-to-image scale factors and ``stroke_mask`` rasterises them with OpenCV. ``propose_region``
turns one click inside a lesion the model missed into a candidate region. Pure numpy and OpenCV: no UI.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

ADD, REMOVE = "add", "remove"
MAX_UNDO = 50  # strokes kept for undo per image, bit-packed: ~56 kB each for a 500×450 image


@dataclass
class Edits:
    """The add and remove layers of one image, (H, W) bool each, the number of box prompts in effect, and the undo
    history (earlier layer pairs, bit-packed with np.packbits so a long history stays small in the session's
    memory, each with its prompt count)."""

    add: np.ndarray
    remove: np.ndarray
    history: list[tuple] = field(default_factory=list)
    prompts: int = 0  # boxes whose LiteMedSAM mask is in the layers (apply_box)

    def _save(self) -> None:
        self.history.append((np.packbits(self.add), np.packbits(self.remove), self.prompts))
        del self.history[:-MAX_UNDO]

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Edits:
        return cls(np.zeros(shape, bool), np.zeros(shape, bool))

    @property
    def edited(self) -> bool:
        """True when any stroke still changes the mask (an undone or reset image is not edited)."""
        return bool(self.add.any() or self.remove.any())

    @property
    def steps(self) -> int:
        return len(self.history)


def apply(edits: Edits, region: np.ndarray, mode: str) -> Edits:
    """Paint region (H, W) bool into the add (mode ADD) or remove (mode REMOVE) layer; undoable. In place."""
    region = np.asarray(region, bool)
    if region.shape != edits.add.shape:
        raise ValueError(f"stroke of shape {region.shape} on an image of shape {edits.add.shape}")
    if mode not in (ADD, REMOVE):
        raise ValueError(f"mode must be {ADD!r} or {REMOVE!r}, not {mode!r}")
    edits._save()
    if mode == ADD:
        edits.add |= region
        edits.remove &= ~region
    else:
        edits.remove |= region
        edits.add &= ~region
    return edits


def apply_box(edits: Edits, mask: np.ndarray) -> Edits:
    """Lay a box's mask (H, W) bool (LiteMedSAM's, core.inference.boxprompt) over the image; undoable. In place.
    The first box's mask becomes the whole mask; a further box adds its lesion to the earlier ones."""
    mask = np.asarray(mask, bool)
    if mask.shape != edits.add.shape:
        raise ValueError(f"box mask of shape {mask.shape} on an image of shape {edits.add.shape}")
    edits._save()
    if edits.prompts == 0:
        edits.add, edits.remove = mask.copy(), ~mask
    else:
        edits.add |= mask
        edits.remove &= ~mask
    edits.prompts += 1
    return edits


def undo(edits: Edits) -> Edits:
    """Take back the last stroke or box (nothing happens when there is none). In place."""
    if edits.history:
        add, remove, *prompts = edits.history.pop()
        edits.prompts = prompts[0] if prompts else 0
        n, shape = edits.add.size, edits.add.shape
        edits.add = np.unpackbits(add, count=n).astype(bool).reshape(shape)
        edits.remove = np.unpackbits(remove, count=n).astype(bool).reshape(shape)
    return edits


def reset(edits: Edits) -> Edits:
    """Back to the model's mask; the reset itself can be undone. In place."""
    if edits.edited or edits.prompts:
        edits._save()
        edits.add = np.zeros_like(edits.add)
        edits.remove = np.zeros_like(edits.remove)
        edits.prompts = 0
    return edits


def combine(base: np.ndarray, edits: Edits | None) -> np.ndarray:
    """The edited mask: (base | add) & ~remove; base itself when there are no edits."""
    if edits is None:
        return base
    return (np.asarray(base, bool) | edits.add) & ~edits.remove


def canvas_to_image(points, scale_x: float, scale_y: float) -> np.ndarray:
    """Stroke points [[x, y], ...] in canvas pixels -> (N, 2) float (x, y) in image pixels.

    scale_x and scale_y are canvas pixels per image pixel on each axis (the canvas shows the whole image)."""
    arr = np.asarray(points, float).reshape(-1, 2).copy()
    arr[:, 0] /= scale_x
    arr[:, 1] /= scale_y
    return arr


def stroke_mask(shape: tuple[int, int], points: np.ndarray, width_px: float) -> np.ndarray:
    """Rasterise a stroke through points (N, 2) (x, y image pixels) of width width_px into a (H, W) bool mask.

    Round caps and joins, as the canvas draws them. A single point gives a disc."""
    out = np.zeros(shape, np.uint8)
    pts = np.rint(np.asarray(points, float)).astype(np.int32).reshape(-1, 2)
    if not len(pts):
        return out.astype(bool)
    # a 1-pixel centre line dilated by a disc of the brush's diameter: OpenCV's own thick lines come out
    # about two pixels wider than asked, which would overstate every stroke's area
    cv2.polylines(out, [pts.reshape(-1, 1, 2)], False, 1, 1, lineType=cv2.LINE_8)
    for x, y in pts:  # a click without a drag is a single point, which polylines leaves out
        if 0 <= y < shape[0] and 0 <= x < shape[1]:
            out[y, x] = 1
    d = max(1, int(round(width_px)))
    if d > 1:
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d)))
    return out.astype(bool)


def propose_region(probability: np.ndarray, gray: np.ndarray, xy: tuple[float, float],
                   max_fraction: float = 0.25, min_probability: float = 0.1) -> np.ndarray:
    """A candidate lesion around a click (x, y in image pixels) that the model missed, as a (H, W) bool mask.

    First from the model's probability map: the connected region around the click whose probability is at
    least half the local peak (the highest value within a small window of the click), when that peak reaches
    min_probability. Otherwise (or when that region is larger than max_fraction of the image) from the image:
    region growing on the smoothed grayscale from the click (pixels within a tolerance of the click's local
    level, from the local contrast), kept only
    if it stays under max_fraction of the image. Empty when neither gives a bounded region.
    """
    h, w = probability.shape
    x, y = int(round(xy[0])), int(round(xy[1]))
    if not (0 <= x < w and 0 <= y < h):
        return np.zeros((h, w), bool)
    limit = max_fraction * h * w
    r = max(3, int(0.02 * max(h, w)))
    window = probability[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]
    peak = float(window.max())
    if peak >= min_probability:
        py, px = np.unravel_index(int(np.argmax(window)), window.shape)
        seed = (max(0, y - r) + int(py), max(0, x - r) + int(px))
        above = (probability >= peak / 2).astype(np.uint8)
        _, labels = cv2.connectedComponents(above, connectivity=8)
        region = labels == labels[seed]
        if region.sum() <= limit:
            return region
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), max(1.5, 0.01 * max(h, w)))
    local = smooth[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]
    level = float(np.median(local))
    tol = max(8.0, min(40.0, 3.0 * float(local.std()) + 4.0))
    near = (np.abs(smooth - level) <= tol).astype(np.uint8)
    _, labels = cv2.connectedComponents(near, connectivity=4)
    if labels[y, x] == 0:
        return np.zeros((h, w), bool)
    region = labels == labels[y, x]
    if region.sum() > limit:
        return np.zeros((h, w), bool)
    # close the speckle holes that region growing leaves inside a hypoechoic lesion
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    return cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, k).astype(bool)
