"""Decoding DICOM pixel data, every frame, into grayscale uint8 arrays.

This module owns the DICOM half of core.data.imageio: which transfer syntaxes we can decode (through
pydicom's decoders and the pylibjpeg plugins pinned in requirements.txt: JPEG baseline, extended and
lossless, JPEG-LS, JPEG 2000 with its RCT/ICT colour transforms, RLE, deflate, big and little endian),
every photometric interpretation (MONOCHROME1/2, RGB, YBR_FULL, YBR_FULL_422, YBR_RCT, YBR_ICT,
PALETTE COLOR), and multi-frame cine loops. Frames are decoded one at a time and kept as uint8 gray,
so a loop of several hundred frames stays a few tens of megabytes. A file that still cannot be decoded
raises ImageReadError with a sentence naming its transfer syntax and what to do.
"""
from __future__ import annotations

import io

import numpy as np

MAX_FRAMES = 2000  # a cine loop longer than this (about a minute at 30 fps) is refused, not half-read


def transfer_syntax_name(ds) -> str:
    """The transfer syntax in words, e.g. 'JPEG 2000 Image Compression (Lossless Only) (1.2.840.10008.1.2.4.90)'."""
    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if uid is None:
        return "an unstated transfer syntax (no file meta information)"
    name = getattr(uid, "name", "") or ""
    return f"{name} ({uid})" if name and name != str(uid) else f"transfer syntax {uid}"


def number_of_frames(ds) -> int:
    try:
        return max(1, int(getattr(ds, "NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _frames(ds):
    """Yield (frame array, photometric interpretation after decoding) for each frame, decoded one at a time."""
    from pydicom.pixels import get_decoder

    meta = getattr(ds, "file_meta", None)
    uid = getattr(meta, "TransferSyntaxUID", None) if meta is not None else None
    if uid is None:  # a bare dataset without file meta: pydicom's own guess (implicit little endian)
        from pydicom.uid import ImplicitVRLittleEndian

        uid = ImplicitVRLittleEndian
    decoder = get_decoder(uid)
    if not decoder.is_available:
        raise LookupError("no installed decoder handles it")
    # as_rgb: YBR_FULL(_422) become RGB, and JPEG 2000's RCT/ICT are undone by the decoder itself
    for arr, meta in decoder.iter_array(ds, as_rgb=True):
        yield arr, str(meta.get("photometric_interpretation", getattr(ds, "PhotometricInterpretation", "")))


def _frame_to_gray(arr: np.ndarray, photometric: str, ds, to_uint8, rgb_to_gray, has_colour, notes: list[str]):
    """One decoded frame -> ((H, W) uint8 gray, carried colour)."""
    if photometric == "PALETTE COLOR" and arr.ndim == 2:
        from pydicom.pixels import apply_color_lut

        arr = apply_color_lut(arr, ds)
        if arr.dtype == np.uint16:  # 16-bit palette entries: the top byte is the colour (not a min-max stretch)
            arr = (arr >> 8).astype(np.uint8)
    if arr.ndim == 3:
        if photometric.startswith("YBR") and photometric not in ("YBR_RCT", "YBR_ICT"):
            # a decoder that left YBR as it was (as_rgb is honoured by pydicom's own; this is a safety net)
            from pydicom.pixels import convert_color_space

            arr = convert_color_space(arr, photometric, "RGB")
        rgb = to_uint8(arr[..., :3], notes)
        return rgb_to_gray(rgb), has_colour(rgb)
    gray = to_uint8(arr, notes)
    if photometric == "MONOCHROME1":
        gray = 255 - gray
    return gray, False


def decode_dicom_frames(data: bytes, name: str, max_pixels: int, to_uint8, rgb_to_gray, has_colour, error):
    """DICOM bytes -> (dataset without pixels, (N, H, W) uint8 gray frames, carried colour, notes).

    to_uint8, rgb_to_gray, has_colour: core.data.imageio's conversions, so DICOM and picture files give the
    same model input. error: the exception class to raise (ImageReadError)."""
    import pydicom

    notes: list[str] = []
    try:
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:
        raise error(f"{name}: not a readable DICOM file ({type(exc).__name__}: {exc}).") from exc
    if not any(tag in ds for tag in ("SOPClassUID", "Rows", "PixelData", "Modality")):
        raise error(f"{name}: not a readable DICOM file (it holds none of the elements a DICOM image has).")
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        raise error(f"{name}: the DICOM file holds no image (no pixel data); it may be a report or a "
                    "segmentation. Choose the ultrasound image itself.")
    syntax = transfer_syntax_name(ds)
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (AttributeError, TypeError, ValueError) as exc:
        raise error(f"{name}: the DICOM image has no valid Rows and Columns.") from exc
    n = number_of_frames(ds)
    if rows * cols > max_pixels:
        raise error(f"{name}: {cols}×{rows} pixels is larger than the {max_pixels:,}-pixel limit. "
                    "Export a smaller image.")
    if n > MAX_FRAMES:
        raise error(f"{name}: {n} frames is more than the {MAX_FRAMES}-frame limit; export a shorter loop.")
    frames = np.empty((n, rows, cols), np.uint8)
    colour = False
    photometric = str(getattr(ds, "PhotometricInterpretation", ""))
    try:
        count = 0
        for i, (arr, photometric) in enumerate(_frames(ds)):
            if i >= n:
                break
            gray, c = _frame_to_gray(arr, photometric, ds, to_uint8, rgb_to_gray, has_colour,
                                     notes if i == 0 else [])
            frames[i] = gray
            colour = colour or c
            count += 1
        if count < n:
            raise ValueError(f"only {count} of the {n} frames it declares are in the file")
    except Exception as exc:
        raise error(
            f"{name}: the pixel data in {syntax} could not be decoded ({type(exc).__name__}: {exc}). "
            "Export the image from the scanner or PACS as uncompressed DICOM (Explicit VR Little Endian) "
            "or PNG and try again."
        ) from exc
    if photometric == "MONOCHROME1":
        notes.append("MONOCHROME1 inverted for display")
    if n > 1:
        notes.append(f"cine loop of {n} frames")
    del ds.PixelData  # keep the header only; the frames above are all the pixels we need
    return ds, frames, colour, notes
