"""Property-based tests of image decoding (hypothesis): whatever bytes arrive, the decoder gives a (H, W) uint8
image or raises the app's own ImageReadError (whose message the page shows), never anything else; and valid
pictures round-trip exactly."""
import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from core.data.imageio import ImageReadError, _rgb_to_gray, decode_image, decode_mask

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NAMES = st.sampled_from(["x.png", "x.jpg", "x.tif", "x.bmp", "x.dcm", "x"])
# starts of real formats, so random tails reach the decoders, not just the "not an image" check
HEADS = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"BM", b"II*\x00", b"MM\x00*",
                         b"\0" * 128 + b"DICM"])


def _png(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _decodes_or_says_why(data: bytes, name: str) -> None:
    try:
        img = decode_image(data, name)
    except ImageReadError as exc:
        assert str(exc).startswith(f"{name}: "), exc  # the message names the file
        return
    assert img.gray.ndim == 2 and img.gray.dtype == np.uint8 and img.gray.size > 0


@SETTINGS
@given(head=HEADS, tail=st.binary(max_size=2048), name=NAMES)
def test_random_bytes_decode_or_raise_the_apps_own_error(head, tail, name):
    _decodes_or_says_why(head + tail, name)


@SETTINGS
@given(arr=arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40))), data=st.data())
def test_a_damaged_png_decodes_or_raises_the_apps_own_error(arr, data):
    raw = bytearray(_png(arr))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    _decodes_or_says_why(bytes(raw[:cut]), "x.png")


@SETTINGS
@given(arr=arrays(np.uint8, st.tuples(st.integers(1, 64), st.integers(1, 64))))
def test_a_gray_png_round_trips_exactly(arr):
    out = decode_image(_png(arr), "x.png")
    assert np.array_equal(out.gray, arr) and not out.notes and not out.had_colour


@SETTINGS
@given(arr=arrays(np.uint8, st.tuples(st.integers(1, 32), st.integers(1, 32), st.just(3))))
def test_an_rgb_png_becomes_its_luma(arr):
    assert np.array_equal(decode_image(_png(arr), "x.png").gray, _rgb_to_gray(arr))


@SETTINGS
@given(arr=arrays(np.uint16, st.tuples(st.integers(1, 32), st.integers(1, 32))))
def test_sixteen_bit_keeps_the_order_of_its_values(arr):
    gray = decode_image(_png(arr), "x.png").gray
    flat_in, flat_out = arr.ravel().astype(np.int64), gray.ravel().astype(np.int64)
    order = np.argsort(flat_in, kind="stable")
    assert (np.diff(flat_out[order]) >= 0).all()  # rescaling never swaps two pixels' order
    if arr.max() > arr.min():
        assert gray.min() == 0 and gray.max() == 255


@SETTINGS
@given(arr=arrays(np.bool_, st.tuples(st.integers(1, 40), st.integers(1, 40))))
def test_a_mask_round_trips(arr):
    assert np.array_equal(decode_mask(_png(arr.astype(np.uint8) * 255), "m.png"), arr)
