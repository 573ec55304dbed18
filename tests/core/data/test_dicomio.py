"""DICOM decoding (core.data.dicomio through decode_image): every encoding scanners write, cine frames, clear refusals.

Small images are encoded here with pydicom's and the pylibjpeg plugins' encoders (or Pillow for JPEG baseline), so
the expected gray values are computed by hand from the pixels that went in; the real scanner files that ship with
pydicom are decoded too.
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from core.data.imageio import ImageReadError, _rgb_to_gray, decode_image
from tests.helpers import US_IMAGE_STORAGE, new_dicom_file

RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
LUMA = _rgb_to_gray(RGB)  # the same luma a PNG of these pixels gets: the decoders must give back RGB exactly


def _dataset(arr: np.ndarray, photometric: str, frames: int = 1):
    ds = new_dicom_file(US_IMAGE_STORAGE, "x.dcm")
    shape = arr.shape[1:] if frames > 1 else arr.shape
    ds.Rows, ds.Columns = shape[:2]
    ds.SamplesPerPixel = 3 if len(shape) == 3 else 1
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PhotometricInterpretation = photometric
    if ds.SamplesPerPixel == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.ascontiguousarray(arr).tobytes()
    return ds


def _bytes(ds, **kw) -> bytes:
    import pydicom

    buf = io.BytesIO()
    pydicom.dcmwrite(buf, ds, enforce_file_format=True, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("syntax", ["RLELossless", "JPEGLSLossless", "JPEG2000Lossless"])
def test_lossless_compressed_rgb_decodes_to_its_luma(syntax):
    import pydicom.uid

    ds = _dataset(RGB, "RGB")
    ds.compress(getattr(pydicom.uid, syntax))
    out = decode_image(_bytes(ds), "a.dcm")
    assert out.had_colour
    np.testing.assert_array_equal(out.gray, LUMA)


def test_jpeg2000_with_its_reversible_colour_transform_decodes():
    """YBR_RCT: the encoder applied the RCT; the decoder must undo it (the scanner file that failed before)."""
    from pydicom.uid import JPEG2000Lossless

    ds = _dataset(RGB, "RGB")
    ds.compress(JPEG2000Lossless, use_mct=True)
    ds.PhotometricInterpretation = "YBR_RCT"
    np.testing.assert_array_equal(decode_image(_bytes(ds), "a.dcm").gray, LUMA)


def test_jpeg2000_lossy_with_the_irreversible_colour_transform_decodes_close():
    from pydicom.uid import JPEG2000

    smooth = np.repeat(np.repeat(RGB[:8, :8], 8, 0), 8, 1)  # blocks survive lossy compression
    ds = _dataset(smooth, "RGB")
    ds.compress(JPEG2000, use_mct=True, j2k_psnr=[60])
    ds.PhotometricInterpretation = "YBR_ICT"
    gray = decode_image(_bytes(ds), "a.dcm").gray.astype(int)
    luma = np.repeat(np.repeat(LUMA[:8, :8], 8, 0), 8, 1).astype(int)
    assert np.abs(gray - luma).mean() < 3


def test_jpeg_baseline_ybr_full_422_decodes_close_to_its_luma():
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    smooth = np.repeat(np.repeat(RGB[:8, :8], 8, 0), 8, 1)
    buf = io.BytesIO()
    Image.fromarray(smooth).save(buf, "JPEG", quality=95, subsampling=2)  # 4:2:0 / 4:2:2-style chroma
    ds = _dataset(smooth, "YBR_FULL_422")
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    gray = decode_image(_bytes(ds), "a.dcm").gray.astype(int)
    luma = np.repeat(np.repeat(LUMA[:8, :8], 8, 0), 8, 1).astype(int)
    assert np.abs(gray - luma).mean() < 4  # YBR converted once to RGB, not twice


def test_uncompressed_ybr_full_is_converted_to_rgb_first():
    from pydicom.pixels import convert_color_space

    ybr = convert_color_space(RGB, "RGB", "YBR_FULL")
    gray = decode_image(_bytes(_dataset(ybr, "YBR_FULL")), "a.dcm").gray.astype(int)
    assert np.abs(gray - LUMA.astype(int)).max() <= 2  # YBR rounding only


def test_deflate_decodes():
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = _dataset(LUMA, "MONOCHROME2")
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    np.testing.assert_array_equal(decode_image(_bytes(ds), "a.dcm").gray, LUMA)


def test_big_endian_sixteen_bit_is_read_in_its_byte_order():
    from pydicom.uid import ExplicitVRBigEndian

    ds = _dataset(np.zeros((2, 2), np.uint8), "MONOCHROME2")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    # 0, 1, 256, 4095 stored big-endian; read the other way round they would be 0, 256, 1, 65295
    ds.PixelData = np.array([[0, 1], [256, 4095]], ">u2").tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    gray = decode_image(_bytes(ds, little_endian=False, implicit_vr=False), "a.dcm").gray
    assert gray.tolist() == [[0, 0], [16, 255]]  # 256 / 4095 * 255 = 15.9


def test_palette_colour_goes_through_its_lookup_table():
    ds = _dataset(np.array([[0, 1]], np.uint8), "PALETTE COLOR")
    # 16-bit entries: index 0 is pure red, index 1 pure white
    for colour, values in (("Red", [65535, 65535]), ("Green", [0, 65535]), ("Blue", [0, 65535])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [2, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(values, "<u2").tobytes())
    out = decode_image(_bytes(ds), "a.dcm")
    assert out.gray.tolist() == [[round(0.299 * 255), 255]]
    assert out.had_colour


def test_a_multiframe_loop_keeps_every_frame_as_gray():
    loop = np.stack([np.full((4, 5), 10 * i, np.uint8) for i in range(7)])
    out = decode_image(_bytes(_dataset(loop, "MONOCHROME2", frames=7)), "loop.dcm")
    assert out.frame_count == 7 and out.frames.dtype == np.uint8
    assert [int(out.frame(i)[0, 0]) for i in range(7)] == [0, 10, 20, 30, 40, 50, 60]
    assert out.gray is out.frames[0] or np.array_equal(out.gray, out.frames[0])


def test_an_undecodable_transfer_syntax_is_named_in_the_message():
    ds = _dataset(LUMA, "MONOCHROME2")
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 video: no decoder is installed for it
    from pydicom.encaps import encapsulate

    ds.PixelData = encapsulate([b"\0\0\1\xb3" + b"\0" * 60])
    ds["PixelData"].VR = "OB"
    with pytest.raises(ImageReadError) as err:
        decode_image(_bytes(ds), "video.dcm")
    words = str(err.value)
    assert "video.dcm" in words and "MPEG2" in words and "1.2.840.10008.1.2.4.100" in words
    assert "uncompressed DICOM" in words


def test_a_dicom_without_pixels_says_so():
    ds = _dataset(LUMA, "MONOCHROME2")
    del ds.PixelData
    with pytest.raises(ImageReadError, match="no pixel data"):
        decode_image(_bytes(ds), "sr.dcm")


def _example(name: str) -> str:
    from pydicom.data import get_testdata_file

    return get_testdata_file(name)


@pytest.mark.parametrize("name,size,frames", [
    ("examples_palette.dcm", (350, 800), 1), ("examples_rgb_color.dcm", (240, 320), 1),
    ("examples_jpeg2k.dcm", (480, 640), 1), ("examples_ybr_color.dcm", (240, 320), 30)])
def test_pydicoms_ultrasound_scanner_files_decode(name, size, frames):
    with open(_example(name), "rb") as fh:
        out = decode_image(fh.read(), name)
    assert out.gray.shape == size and out.frame_count == frames
    assert 5 < out.gray.mean() < 200  # an image, not a blank or saturated frame


def test_the_jpeg2000_file_matches_its_uncompressed_twin():
    """examples_jpeg2k.dcm is examples_rgb_color.dcm at twice the size: same picture after decoding."""
    import cv2

    with open(_example("examples_jpeg2k.dcm"), "rb") as fh:
        j2k = decode_image(fh.read(), "j").gray
    with open(_example("examples_rgb_color.dcm"), "rb") as fh:
        rgb = decode_image(fh.read(), "r").gray
    small = cv2.resize(j2k, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.corrcoef(small.ravel().astype(float), rgb.ravel().astype(float))[0, 1] > 0.9
