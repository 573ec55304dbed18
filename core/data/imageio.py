"""Decoding images and masks from bytes or files into plain numpy arrays.

This module owns every way an ultrasound image reaches the product: PNG, JPEG,
BMP, TIFF and DICOM, in any Pillow mode (1, L, P, RGB, RGBA, CMYK, I;16, I, F),
EXIF-rotated or not. Everything comes out as a 2-D ``uint8`` grayscale array,
and masks come out as 2-D ``bool`` arrays. Bad input raises ``ImageReadError``
with a message that names the file and says what to do; callers show that
message and carry on with the other files. Nothing here writes to disk.
"""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Ultrasound frames are at most a few thousand pixels a side. Anything beyond
# this many pixels is refused before decoding, so a decompression bomb cannot
# exhaust memory. Pillow's own limit is raised to match so that it errors
# (rather than warns) only above our limit.
MAX_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom")


# Leading bytes of the formats we accept: a file that starts like an image but
# does not decode is damaged, not of the wrong kind.
_IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"BM", b"II*\x00", b"MM\x00*")


class ImageReadError(ValueError):
    """An input file could not be turned into an image; the message says why."""


@dataclass
class DecodedImage:
    """A decoded grayscale image and what we learned about it.

    gray: (H, W) uint8.
    pixel_spacing_mm: (row_mm, col_mm) when the file says how big a pixel is.
    frames: every frame of a cine loop (core.data.dicomio decodes DICOM); None for a single image.
    notes: human-readable remarks (e.g. "rotated by EXIF", "16-bit rescaled").
    """

    name: str
    gray: np.ndarray
    pixel_spacing_mm: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    had_colour: bool = False
    frames: np.ndarray | None = None  # (N, H, W) uint8 for a multi-frame (cine) DICOM; gray is frames[0]

    @property
    def frame_count(self) -> int:
        return 1 if self.frames is None else int(self.frames.shape[0])

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as (H, W) uint8 gray."""
        return self.gray if self.frames is None else self.frames[index]

    @property
    def height(self) -> int:
        return int(self.gray.shape[0])

    @property
    def width(self) -> int:
        return int(self.gray.shape[1])


def _looks_like_dicom(data: bytes) -> bool:
    return len(data) > 132 and data[128:132] == b"DICM"


def _to_uint8(arr: np.ndarray, notes: list[str]) -> np.ndarray:
    """Scale any numeric array into 0..255 without losing its contrast."""
    if arr.dtype == np.uint8:
        return arr
    kind = str(arr.dtype)  # what the file held, for the note (uint16, int32, float32, ...)
    arr = arr.astype(np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        raise ImageReadError("has no finite pixel values")
    lo, hi = float(arr[finite].min()), float(arr[finite].max())
    notes.append(f"{kind} pixel values {lo:g}..{hi:g} rescaled to 0..255")
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    out = (np.where(finite, arr, lo) - lo) * (255.0 / (hi - lo))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    # ITU-R 601 luma, the same weights Pillow's "L" conversion uses, so an
    # image converted here or by Pillow gives the same model input.
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return np.clip(np.rint(0.299 * r + 0.587 * g + 0.114 * b), 0, 255).astype(np.uint8)


def _has_colour(rgb: np.ndarray, tolerance: int = 8) -> bool:
    """True when some pixels are clearly coloured (e.g. calliper marks drawn in colour)."""
    spread = rgb.max(axis=-1).astype(np.int16) - rgb.min(axis=-1).astype(np.int16)
    return bool((spread > tolerance).mean() > 1e-4)


def _pil_to_gray(img: Image.Image, notes: list[str]) -> tuple[np.ndarray, bool]:
    """Any Pillow mode -> (H, W) uint8 gray, and whether the image carried colour."""
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # a broken EXIF block must not lose the image
        orientation = 1
    if orientation not in (None, 1):
        img = ImageOps.exif_transpose(img)
        notes.append("rotated upright using its EXIF orientation")
    mode = img.mode
    if mode in ("1", "L"):
        return np.asarray(img.convert("L")), False
    if mode in ("I;16", "I;16B", "I;16L", "I", "F", "I;16N"):
        return _to_uint8(np.asarray(img), notes), False
    if mode in ("LA", "PA", "RGBA", "P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "RGBa", "La"):
        if mode == "CMYK":
            notes.append("CMYK converted to RGB")
        if mode == "P" and "transparency" in img.info:
            img = img.convert("RGBA")
        if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
            # Transparent pixels are shown as black, as a viewer would show
            # them on a dark ultrasound background.
            rgba = img.convert("RGBA")
            bg = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            img = Image.alpha_composite(bg, rgba)
        img = img.convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    rgb = np.asarray(img)
    return _rgb_to_gray(rgb), _has_colour(rgb)


def _dicom_spacing(ds) -> tuple[float, float] | None:
    """Pixel spacing (row, col) in mm from PixelSpacing or the US region calibration."""
    spacing = getattr(ds, "PixelSpacing", None)
    if spacing is not None and len(spacing) == 2:
        row, col = float(spacing[0]), float(spacing[1])
        if row > 0 and col > 0:
            return row, col
    regions = getattr(ds, "SequenceOfUltrasoundRegions", None)
    if regions:
        for region in regions:
            # Units code 3 means centimetres (DICOM PS3.3 C.8.5.5.1.1).
            dx = getattr(region, "PhysicalDeltaX", None)
            dy = getattr(region, "PhysicalDeltaY", None)
            ux = getattr(region, "PhysicalUnitsXDirection", 3)
            uy = getattr(region, "PhysicalUnitsYDirection", 3)
            if dx and dy and ux == 3 and uy == 3 and float(dx) > 0 and float(dy) > 0:
                return abs(float(dy)) * 10.0, abs(float(dx)) * 10.0
    return None


def is_dicom(data: bytes, name: str = "") -> bool:
    """True for bytes (or a file name) that decode_image reads as DICOM."""
    return _looks_like_dicom(data) or name.lower().endswith((".dcm", ".dicom"))


def _decode_dicom(data: bytes, name: str) -> DecodedImage:
    from core.data.dicomio import decode_dicom_frames

    ds, frames, colour, notes = decode_dicom_frames(data, name, MAX_PIXELS, _to_uint8, _rgb_to_gray, _has_colour,
                                                    ImageReadError)
    return DecodedImage(name, frames[0], _dicom_spacing(ds), notes, colour,
                        frames=frames if len(frames) > 1 else None)


def decode_image(data: bytes, name: str = "image") -> DecodedImage:
    """Decode raw file bytes (any supported format) into a grayscale image.

    Raises ImageReadError with a message naming ``name`` for empty, corrupt,
    oversized or non-image input.
    """
    if not data:
        raise ImageReadError(f"{name}: the file is empty (0 bytes). Choose the image file again.")
    if is_dicom(data, name):
        return _decode_dicom(data, name)
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise ImageReadError(
                        f"{name}: {w}×{h} pixels is larger than the {MAX_PIXELS:,}-pixel limit "
                        "(it may be a decompression bomb). Export a smaller image."
                    )
                if w == 0 or h == 0:
                    raise ImageReadError(f"{name}: the image has no pixels.")
                img.load()
                try:
                    gray, colour = _pil_to_gray(img, notes)
                except ImageReadError as exc:  # _to_uint8's reason, said about this file
                    raise ImageReadError(f"{name}: the image {exc}. Export it again.") from exc
    except ImageReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageReadError(f"{name}: the image is larger than the {MAX_PIXELS:,}-pixel limit and was refused "
                             "as a possible decompression bomb. Export a smaller image.") from exc
    except UnidentifiedImageError as exc:
        if data.startswith(_IMAGE_SIGNATURES):
            raise ImageReadError(f"{name}: the image data is damaged or truncated. Export it again.") from exc
        raise ImageReadError(
            f"{name}: not a readable image. Supported formats are PNG, JPEG, BMP, TIFF and DICOM."
        ) from exc
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        raise ImageReadError(f"{name}: the image data is damaged or truncated ({exc}).") from exc
    return DecodedImage(name, np.ascontiguousarray(gray), None, notes, colour)


def display_name(name: str) -> str:
    """A file name as text any page or report can show: bytes of a name that is not UTF-8 (which Python keeps as
    lone surrogates, and which Streamlit cannot send to the browser) become U+FFFD. Opening the file still needs
    the name as it is."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _read_bytes(path: str | os.PathLike) -> tuple[bytes, str]:
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            return fh.read(), display_name(os.path.basename(path))
    except OSError as exc:
        raise ImageReadError(f"{display_name(os.path.basename(path))}: cannot be opened ({exc.strerror}).") from exc


def read_image_file(path: str | os.PathLike) -> DecodedImage:
    """Decode an image file on disk (used by the commands, never for uploads)."""
    return decode_image(*_read_bytes(path))


def decode_mask(data: bytes, name: str = "mask") -> np.ndarray:
    """Decode a mask file in any mode (1, L, P, RGB, RGBA, 16-bit) into a (H, W) bool array.

    A pixel is lesion when any colour channel is clearly above black. For RGBA
    masks a transparent pixel is background whatever its colour.
    """
    if not data:
        raise ImageReadError(f"{name}: the mask file is empty (0 bytes).")
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageReadError(f"{name}: {w}×{h} pixels is larger than the {MAX_PIXELS:,}-pixel limit.")
            img.load()
            mode = img.mode
            if mode == "P":
                img = img.convert("RGBA")
                mode = "RGBA"
            arr = np.asarray(img)
    except ImageReadError:
        raise
    except UnidentifiedImageError as exc:  # Pillow's words name an in-memory buffer, not the file: say it plainly
        raise ImageReadError(f"{name}: not a readable mask image (not a PNG, JPEG, BMP or TIFF file).") from exc
    except Exception as exc:
        raise ImageReadError(f"{name}: not a readable mask image ({exc}).") from exc
    if mode in ("RGBA", "LA"):
        return (arr[..., :-1].max(axis=-1) > 127) & (arr[..., -1] > 0)
    if arr.ndim == 3:
        arr = arr.max(axis=-1)
    if arr.dtype == bool:
        return arr.copy()
    if arr.dtype != np.uint8:
        # 16-bit or float masks: anything above half the type's use counts.
        hi = float(arr.max()) if arr.size else 0.0
        return arr > (hi / 2.0) if hi > 0 else np.zeros(arr.shape, bool)
    if arr.size and arr.max() == 1:  # masks saved as 0/1 rather than 0/255
        return arr > 0
    return arr > 127


def read_mask_file(path: str | os.PathLike) -> np.ndarray:
    """Decode a mask file on disk into a (H, W) bool array."""
    return decode_mask(*_read_bytes(path))


def encode_png(arr: np.ndarray) -> bytes:
    """Encode a uint8 (H, W) gray or (H, W, 3) RGB array as PNG bytes, in memory.

    Uses OpenCV at compression level 1: about 10x faster than Pillow's default
    on speckled ultrasound, which keeps threshold changes interactive.
    """
    import cv2

    arr = np.ascontiguousarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError("PNG encoding failed")
    return buf.tobytes()
