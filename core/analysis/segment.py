"""What the Segment page computes, without any UI: uploads in, analyses and exports out.

``pair_uploads`` sorts uploaded files into images and their BUSI-named masks.
``analyse`` runs the model once per image and keeps the probability map.
``view_at`` derives everything that depends on the threshold (mask,
measurements, Dice/IoU against ground truth) from that cached map, so moving
a slider never re-runs the network; the clinician's edits (core.analysis.editing)
are laid over the thresholded mask there, so they survive a threshold change.
Everything stays in memory, a DICOM input's own bytes included; probability maps are kept as uint8 (1/255
steps, as a cine loop's frames are, core.inference.cine), a quarter of float32, and made float only when read.
"""
from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field, replace

import numpy as np

from core.analysis.editing import Edits, combine
from core.analysis.measure import Measurements, measure
from core.analysis.overlay import lesion_overlay
from core.cards.modelcard import AXILLARY_NODES, has_limitation
from core.cards.schema import ModelCard, read_card
from core.data.imageio import (
    DecodedImage,
    ImageReadError,
    decode_image,
    decode_mask,
    encode_png,
    is_dicom,
)
from core.data.layouts import MASK_RE
from core.inference.cine import CinePrediction, predict_frames, to_float, to_uint8
from core.inference.decision import Decision, calibrate, lesion_mask, lesion_score, malignancy_band
from core.metrics.scores import dice, iou


@dataclass
class Upload:
    """An image's bytes and the bytes of any masks uploaded with it."""

    name: str
    data: bytes
    masks: list[tuple[str, bytes]] = field(default_factory=list)


def pair_uploads(files: list[tuple[str, bytes]]) -> tuple[list[Upload], list[str]]:
    """Split uploads into images with their masks (``name_mask.png``, ``name_mask_1.png``).

    Returns (uploads, messages) where messages name masks with no image.
    """
    images: dict[str, Upload] = {}
    masks: dict[str, list[tuple[str, bytes]]] = {}
    order = []
    for name, data in files:
        stem = os.path.splitext(name)[0]
        m = MASK_RE.match(stem)
        if m:
            masks.setdefault(m.group("stem"), []).append((name, data))
        else:
            images[stem] = Upload(name, data)
            order.append(stem)
    messages = []
    for stem, lst in masks.items():
        if stem in images:
            images[stem].masks = sorted(lst)
        else:
            messages.append(f"{', '.join(n for n, _ in lst)}: no image named '{stem}' was uploaded with this mask")
    return [images[s] for s in order], messages


@dataclass
class Analysis:
    """One image after inference. probability_u8: (H, W) uint8 at the original resolution, probability × 255
    rounded (a float map given here is stored so); ``probability`` gives it back as float32 in [0, 1]."""

    name: str
    image: DecodedImage
    probability_u8: np.ndarray
    malignancy: float | None
    inference_ms: float
    gt_mask: np.ndarray | None = None
    mask_message: str | None = None
    decision: Decision | None = None  # the model card's threshold, no-lesion gate and malignancy calibration
    dicom: bytes | None = None  # a DICOM input's own bytes, in memory, for the DICOM Segmentation export
    cine: CinePrediction | None = None  # a cine loop: every frame's probability (uint8); the fields above are frame 1
    frame: int | None = None  # at_frame's 0-based frame of a cine loop; None for a single image

    def __post_init__(self):
        # a session keeps hundreds of these within its memory budget (core.analysis.memory): one byte a pixel
        if self.probability_u8.dtype != np.uint8:
            self.probability_u8 = to_uint8(self.probability_u8)

    @property
    def probability(self) -> np.ndarray:
        """(H, W) float32 in [0, 1], made from the stored uint8 on each read: read it once per use."""
        return to_float(self.probability_u8)

    @property
    def frame_count(self) -> int:
        return 1 if self.cine is None else self.cine.frame_count


def merge_masks(masks: list[tuple[str, bytes]], shape: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """Union of the uploaded mask files for one image, or (None, message) when they do not fit."""
    merged = None
    for name, data in masks:
        try:
            m = decode_mask(data, name)
        except ImageReadError as exc:
            return None, f"{exc} The prediction is shown without ground truth."
        if m.shape != tuple(shape):
            return None, (f"{name}: the mask is {m.shape[1]}×{m.shape[0]} pixels but its image is "
                          f"{shape[1]}×{shape[0]}; upload the mask that belongs to this image.")
        merged = m if merged is None else merged | m
    return merged, None


def analyse(predictor, upload: Upload) -> Analysis:
    """Decode and segment one upload; a cine loop frame by frame, in batches (core.inference.cine).
    Raises ImageReadError for an unusable image."""
    image = decode_image(upload.data, upload.name)
    gt, message = merge_masks(upload.masks, image.gray.shape) if upload.masks else (None, None)
    dicom = upload.data if is_dicom(upload.data, upload.name) else None
    decision = getattr(predictor, "decision", None)
    if image.frame_count > 1:
        cine = predict_frames(predictor, image.frames)
        return Analysis(upload.name, image, cine.probability[0], cine.malignancy[0] if cine.malignancy else None,
                        cine.inference_ms, gt, message, decision, dicom, cine, 0)
    pred = predictor.predict(image.gray)
    return Analysis(upload.name, image, pred.probability, pred.malignancy, pred.inference_ms, gt, message,
                    decision, dicom)


def at_frame(analysis: Analysis, index: int) -> Analysis:
    """The analysis of one frame (0-based) of a cine loop, for view_at and every export; a single image as it is.
    The frame's probability is a view into the loop's uint8 array: nothing is copied."""
    if analysis.cine is None:
        return analysis
    img = analysis.image
    frame = DecodedImage(img.name, img.frames[index], img.pixel_spacing_mm, img.notes, img.had_colour)
    malignancy = analysis.cine.malignancy[index] if analysis.cine.malignancy else None
    return replace(analysis, image=frame, probability_u8=analysis.cine.probability[index], malignancy=malignancy,
                   inference_ms=analysis.cine.inference_ms / analysis.cine.frame_count, frame=index, cine=None)


def frame_areas(analysis: Analysis, threshold: float, gate: bool = True) -> list[int]:
    """The model's lesion area (px) in each frame of a cine loop, at this threshold (the Segment page's plot)."""
    if analysis.cine is None:
        return [int(view_at(analysis, threshold, gate=gate).measurements.area_px)]
    return [int(view_at(at_frame(analysis, i), threshold, gate=gate).measurements.area_px)
            for i in range(analysis.cine.frame_count)]


@dataclass
class View:
    """Everything that depends on the threshold. mask: (H, W) bool, edits included. gated: the no-lesion gate
    emptied the model's mask. edited: the clinician's edits change the mask (at this threshold). prompted: the mask
    holds LiteMedSAM's outline for a box the clinician drew (core.analysis.editing.apply_box), or for a box given
    on the command line: semi-automatic."""

    mask: np.ndarray
    measurements: Measurements
    dice: float | None
    iou: float | None
    gated: bool = False
    edited: bool = False
    prompted: bool = False


def effective_spacing(analysis: Analysis, typed_mm_per_px: float | None) -> tuple[float, float] | None:
    """DICOM spacing when the file carries it, else the spacing the user typed, else unknown."""
    if analysis.image.pixel_spacing_mm:
        return analysis.image.pixel_spacing_mm
    if typed_mm_per_px and typed_mm_per_px > 0:
        return (typed_mm_per_px, typed_mm_per_px)
    return None


def view_at(analysis: Analysis, threshold: float, typed_mm_per_px: float | None = None, gate: bool = True,
            edits: Edits | None = None) -> View:
    """The mask and its figures at this threshold; with gate=True the model's no-lesion gate applies, as in
    core.predict and core.evaluate (gate=False: the clinician asked to see the raw thresholded mask).
    edits: the clinician's add and remove layers, laid over the (gated) thresholded mask."""
    probability = analysis.probability
    raw = lesion_mask(probability, threshold)
    use_gate = gate and analysis.decision is not None
    model_mask = lesion_mask(probability, threshold, analysis.decision.gate) if use_gate else raw
    gated = bool(raw.any() and not model_mask.any())
    mask = combine(model_mask, edits) if edits is not None and edits.edited else model_mask
    edited = mask is not model_mask and bool((mask != model_mask).any())  # the edits change what is exported
    prompted = bool(edits is not None and edits.prompts)
    m = measure(mask, effective_spacing(analysis, typed_mm_per_px))
    if analysis.gt_mask is None:
        return View(mask, m, None, None, gated, edited, prompted)
    return View(mask, m, dice(analysis.gt_mask, mask), iou(analysis.gt_mask, mask), gated, edited, prompted)


def no_lesion_words(analysis: Analysis, threshold: float, card: ModelCard | dict | None) -> str:
    """Why nothing is marked, and how often this model misses a lesion that is there (from its model card)."""
    peak = float(analysis.probability_u8.max()) / 255.0 if analysis.probability_u8.size else 0.0
    card = read_card(card) or ModelCard()
    t = card.test_metrics
    text = (f"No lesion is marked at threshold {threshold:.2f}, so no malignancy estimate is shown. "
            f"The highest lesion probability anywhere in this image is {peak:.2f}.")
    if t.get("n_missed") is not None and t.get("n_lesion"):
        text += (f" On its test split this model missed or mostly missed {t['n_missed']} of {t['n_lesion']} lesions "
                 "(Dice below 0.3)")
        unmarked = [b for b in t.get("by_size") or [] if b.get("n_unmarked")]
        if unmarked:
            # an empty mask is the case in front of the user, so say how often, and at which sizes, that hid a lesion
            text += (f", and left {sum(b['n_unmarked'] for b in unmarked)} wholly unmarked ("
                     + ", ".join(f"{b['n_unmarked']} covering {b['band']} of the image" for b in unmarked) + ")")
    else:
        text += " Like any model, this one misses some lesions"
    text += ": if you see a lesion, check the probability heatmap or lower the threshold, and trust your own reading."
    if has_limitation(card, AXILLARY_NODES):
        text += (" It does not mark benign axillary lymph nodes, which BUSI labels as lesions, so an empty result on "
                 "an axillary scan says nothing about the node (see the model's known limits on the Home page).")
    return text


def malignancy_words(analysis: Analysis, card: ModelCard | dict | None = None) -> str:
    """The malignancy estimate in a band with its honest caveat; never a bare percentage.

    Calibrated (Platt, on validation) when the card carries a calibration; the band is then followed by how well
    the head separated benign from malignant on a hospital the model never saw, where the card says."""
    p = analysis.malignancy
    if p is None:
        return "This model has no malignancy output."
    platt = analysis.decision.platt if analysis.decision else None
    if platt is None:
        return ("The model's malignancy output is not calibrated, so it is not shown. "
                "This is a research model, not a diagnosis.")
    band = malignancy_band(calibrate(p, platt))
    text = (f"Malignancy estimate: **{band}** (calibrated bands: low under 10 %, intermediate 10–50 %, high over 50 %). "
            "A research estimate, not a diagnosis, meaningful only when a lesion is present.")
    cross = (read_card(card) or ModelCard()).cross_centre_auc
    if cross:
        text += (" How far to trust it: on images from hospitals it never trained on, this estimate told benign from "
                 "malignant with AUC " + ", ".join(f"{v['auc']:.2f} ({k})" for k, v in cross.items())
                 + " (0.5 is chance, 1 is perfect).")
    return text


def gated_words(analysis: Analysis, threshold: float) -> str:
    """Why the mask is empty although the threshold marks something: the no-lesion gate."""
    score = lesion_score(analysis.probability, threshold)
    return (f"The model judges this image to hold no lesion: the region it marks at threshold {threshold:.2f} has a mean "
            f"lesion probability of {score:.2f}, under its no-lesion gate of {analysis.decision.gate:.2f}, so nothing is "
            "marked. On a scanner the model never trained on, the gate empties real lesions far more often (its "
            "card: 'What a hospital it never saw gets'). Switch the gate off in the sidebar to see that region, and "
            "trust your own reading.")


def summary_row(analysis: Analysis, view: View, threshold: float) -> dict:
    m = view.measurements
    return {
        "file": analysis.name,
        "frame": None if analysis.frame is None else analysis.frame + 1,
        "width": analysis.image.width,
        "height": analysis.image.height,
        "threshold": round(threshold, 3),
        "edited": view.edited,
        "lesion_area_px": m.area_px,
        "lesion_area_mm2": None if m.area_mm2 is None else round(m.area_mm2, 2),
        "lesion_count": m.lesion_count,
        "longest_diameter_px": None if m.longest_diameter_px is None else round(m.longest_diameter_px, 1),
        "longest_diameter_mm": None if m.longest_diameter_mm is None else round(m.longest_diameter_mm, 2),
        "width_px": m.width_px,
        "height_px": m.height_px,
        "taller_than_wide": m.taller_than_wide,
        "circularity": None if m.circularity is None else round(m.circularity, 3),
        "malignancy_band": _band(analysis) if m.lesion_count else None,
        "dice": None if view.dice is None else round(view.dice, 4),
        "iou": None if view.iou is None else round(view.iou, 4),
        "inference_ms": round(analysis.inference_ms, 1),
    }


def calibrated_malignancy(analysis: Analysis) -> float | None:
    """The head's malignancy probability, Platt-calibrated when the card carries a calibration (else as the head
    gave it); None for a model with no malignancy head."""
    return calibrate(analysis.malignancy, analysis.decision.platt if analysis.decision else None)


def _band(analysis: Analysis) -> str | None:
    platt = analysis.decision.platt if analysis.decision else None
    return None if analysis.malignancy is None or platt is None else malignancy_band(calibrated_malignancy(analysis))


def rows_to_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows([{k: "" if v is None else v for k, v in r.items()} for r in rows])
    return buf.getvalue().encode()


def rows_to_json(rows: list[dict]) -> bytes:
    return json.dumps(rows, indent=1).encode()


def mask_png(view: View) -> bytes:
    return encode_png(view.mask.astype(np.uint8) * 255)


def overlay_png(analysis: Analysis, view: View, opacity: float) -> bytes:
    return encode_png(lesion_overlay(analysis.image.gray, view.mask, opacity))


def sample_uploads(folder: str) -> list[Upload]:
    """The shipped sample gallery: every image in a BUSI-shaped folder with its masks, read as bytes."""
    files = []
    for dirpath, dirnames, names in os.walk(folder):
        dirnames.sort()
        for n in sorted(names):
            if n.lower().endswith(".png"):
                with open(os.path.join(dirpath, n), "rb") as fh:
                    files.append((n, fh.read()))
    uploads, _ = pair_uploads(files)
    return uploads
