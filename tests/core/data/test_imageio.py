"""core.data.imageio: every mode and format becomes (H, W) uint8; bad input raises a clear error."""
import io

import numpy as np
import pytest
from PIL import Image

from core.data.imageio import MAX_PIXELS, ImageReadError, decode_image, decode_mask
from tests.helpers import dicom_file_bytes


def _encode(im, fmt="PNG", **kw):
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


GRAY = np.array([[0, 100], [200, 255]], np.uint8)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "CMYK", "RGBA", "LA"])
def test_modes_of_a_gray_picture_decode_to_the_same_gray(mode):
    img = Image.fromarray(GRAY).convert(mode)
    fmt = "TIFF" if mode == "CMYK" else "PNG"
    out = decode_image(_encode(img, fmt), f"x.{fmt.lower()}").gray
    assert out.shape == (2, 2) and out.dtype == np.uint8
    assert np.abs(out.astype(int) - GRAY).max() <= 2


def test_sixteen_bit_is_rescaled_to_full_range():
    arr = np.array([[0, 1000], [2000, 4000]], np.uint16)
    out = decode_image(_encode(Image.fromarray(arr)), "a.png")
    assert out.gray.tolist() == [[0, 64], [128, 255]]
    assert any("rescaled" in n for n in out.notes)


def test_exif_rotation_is_applied():
    arr = np.zeros((2, 3), np.uint8)
    arr[0, 0] = 255
    img = Image.fromarray(arr)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    out = decode_image(_encode(img, "JPEG", exif=exif.tobytes(), quality=100), "r.jpg")
    assert out.gray.shape == (3, 2)
    assert any("EXIF" in n for n in out.notes)


def test_colour_annotations_are_detected():
    rgb = np.zeros((20, 20, 3), np.uint8)
    rgb[5, 5] = (255, 0, 0)
    assert decode_image(_encode(Image.fromarray(rgb)), "c.png").had_colour
    assert not decode_image(_encode(Image.fromarray(GRAY).convert("RGB")), "g.png").had_colour


@pytest.mark.parametrize("data, words", [(b"", "empty"), (b"hello, not an image", "not a readable image"),
                                         (_encode(Image.fromarray(GRAY))[:40], "damaged")])
def test_bad_bytes_name_the_file(data, words):
    with pytest.raises(ImageReadError) as e:
        decode_image(data, "scan7.png")
    assert "scan7.png" in str(e.value) and words in str(e.value)


def test_decompression_bomb_is_refused_before_decoding():
    side = int(MAX_PIXELS ** 0.5) + 100
    bomb = _encode(Image.new("1", (side, side)))
    assert len(bomb) < 2_000_000
    with pytest.raises(ImageReadError, match="larger than"):
        decode_image(bomb, "bomb.png")


@pytest.mark.parametrize("mode", ["1", "L", "RGB", "RGBA", "P", "I;16"])
def test_masks_of_any_mode_become_the_same_bool_mask(mode):
    m = np.array([[0, 255], [255, 0]], np.uint8)
    img = Image.fromarray(m)
    if mode == "I;16":
        img = Image.fromarray(m.astype(np.uint16) * 257)
    else:
        img = img.convert(mode)
    out = decode_mask(_encode(img), "m.png")
    assert out.dtype == bool and out.tolist() == [[False, True], [True, False]]


def test_rgba_mask_transparent_pixels_are_background():
    rgba = np.zeros((1, 2, 4), np.uint8)
    rgba[0, 0] = (255, 255, 255, 0)   # white but transparent
    rgba[0, 1] = (255, 255, 255, 255)
    assert decode_mask(_encode(Image.fromarray(rgba, "RGBA")), "m.png").tolist() == [[False, True]]


def test_zero_one_masks_are_read_as_lesion():
    assert decode_mask(_encode(Image.fromarray(np.array([[0, 1]], np.uint8))), "m.png").tolist() == [[False, True]]


def _dicom_bytes(spacing=None, region=None, mono1=False):
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    arr = np.array([[0, 512], [1024, 2048]], np.uint16)
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 16, 12, 11, 0
    ds.PhotometricInterpretation = "MONOCHROME1" if mono1 else "MONOCHROME2"
    ds.PixelData = arr.tobytes()
    return dicom_file_bytes(ds, spacing, region)


def test_dicom_pixel_spacing_is_read():
    out = decode_image(_dicom_bytes(spacing=(0.1, 0.2)), "a.dcm")
    assert out.pixel_spacing_mm == (0.1, 0.2)
    assert out.gray.tolist() == [[0, 64], [128, 255]]


def test_dicom_ultrasound_region_spacing_in_cm_becomes_mm():
    out = decode_image(_dicom_bytes(region=(0.01, 0.02)), "a.dcm")
    assert out.pixel_spacing_mm == pytest.approx((0.2, 0.1))


def test_dicom_monochrome1_is_inverted():
    assert decode_image(_dicom_bytes(mono1=True), "a.dcm").gray[0, 0] == 255
