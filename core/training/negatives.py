"""Lesion-free training examples cut from lesion images: the part of the frame beside the lesion.

BUS-BRA has no normal scans and BUSI has 107, all from one scanner, so a network trained on both learns "a lesion is
always there" for every centre but one. Every lesion image also shows healthy tissue beside the lesion; a crop of
that tissue, with an empty mask, is a normal example from that image's own centre and scanner. The crop is the
largest band of the frame that stays clear of the lesion's bounding box by a margin, so no lesion pixel (nor its
blurred edge) is in it.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

# The crop keeps this share of the frame's side clear of the lesion box on each side: lesion edges are soft in
# ultrasound and annotators draw them tight, so tissue right at the box edge may still belong to the lesion.
MARGIN = 0.04
# Smaller crops are mostly speckle at the network's input size, and resizing them would blow speckle up into
# structures the network never sees in a real frame.
MIN_SIDE = 0.30
# the key prefix that marks a crop (core.training.dataprep draws crops by their own weight)
CROP_PREFIX = "crop:"


def lesion_free_box(mask: np.ndarray, margin: float = MARGIN, min_side: float = MIN_SIDE):
    """(y0, y1, x0, x1) of the largest full-width or full-height band of the frame that stays clear of the
    lesion's bounding box (plus the margin), or None when no band is at least ``min_side`` of the frame's height
    and width. mask: (H, W) bool with at least one lesion pixel."""
    H, W = mask.shape
    ys, xs = np.nonzero(mask)
    if not len(ys):
        return None
    my, mx = int(round(margin * H)), int(round(margin * W))
    top, bottom = int(ys.min()) - my, int(ys.max()) + 1 + my
    left, right = int(xs.min()) - mx, int(xs.max()) + 1 + mx
    bands = [(0, top, 0, W), (bottom, H, 0, W), (0, H, 0, left), (0, H, right, W)]
    ok = [((y1 - y0) * (x1 - x0), (y0, y1, x0, x1)) for y0, y1, x0, x1 in bands
          if y1 - y0 >= min_side * H and x1 - x0 >= min_side * W]
    return max(ok)[1] if ok else None


def lesion_free_crops(loaded: list, margin: float = MARGIN, min_side: float = MIN_SIDE) -> list:
    """One lesion-free LoadedCase per lesion image that has room for one. Each keeps its source's dataset,
    patient and device (so splits and per-centre tables still hold), is labelled normal with no malignancy
    class, and is keyed ``crop:<source key>``."""
    out = []
    for lc in loaded:
        if not lc.mask.any():
            continue
        box = lesion_free_box(lc.mask, margin, min_side)
        if box is None:
            continue
        y0, y1, x0, x1 = box
        case = replace(lc.case, key=f"{CROP_PREFIX}{lc.case.key}", label="normal", mask_paths=[],
                       meta={**lc.case.meta, "crop_of": lc.case.key})
        out.append(replace(lc, case=case, gray=np.ascontiguousarray(lc.gray[y0:y1, x0:x1]),
                           mask=np.zeros((y1 - y0, x1 - x0), bool)))
    return out
