"""The bad-input matrix: every row of docs/bad-input.md is a case here, and every case is a row there.

Each case builds its input by hand, runs it through the code the page (or command) runs, and returns what the
user is told: Outcome(kind, message). The test reads the table from the doc and checks that outcome against the
row's last column, exactly, with "…" standing for text that varies (a decoder's own words) and {placeholders} for
nothing: the messages are written out in full. So the doc cannot drift from the app, nor the app from the doc.
"""
from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from core.access.paths import refusals
from core.analysis import segment as an
from core.data.imageio import ImageReadError, decode_image, read_image_file
from core.data.safezip import UnsafeZipError, extract_zip
from tests.helpers import ROOT, US_IMAGE_STORAGE, new_dicom_file, png_bytes, synthetic_case

DOC = os.path.join(ROOT, "docs", "bad-input.md")


@dataclass
class Outcome:
    kind: str  # "Refused" (a red box), "Warning" (a yellow one), "Accepted" (with a note under the image, or none)
    message: str = ""


def _encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


GRAY = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (20, 1))  # 20×25, a gray ramp


def decoded(data: bytes, name: str) -> Outcome:
    """What the Segment page shows for one uploaded file: its error, or the notes under the image."""
    try:
        img = decode_image(data, name)
    except ImageReadError as exc:
        return Outcome("Refused", str(exc))
    return Outcome("Accepted", "; ".join(img.notes))


def unzipped(data: bytes, name: str = "data.zip") -> Outcome:
    """What the Train page shows for an uploaded dataset zip (pages/_train_ui.py: f"{up.name}: {exc}")."""
    try:
        extract_zip(io.BytesIO(data))
    except UnsafeZipError as exc:
        return Outcome("Refused", f"{name}: {exc}")
    return Outcome("Accepted")


def _zip(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return buf.getvalue()


def _dicom(rows=16, cols=16, frames=1, pixels: bytes | None = None, syntax: str | None = None) -> bytes:
    ds = new_dicom_file(US_IMAGE_STORAGE, "x.dcm")
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 8, 8, 7, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    if frames > 1:
        ds.NumberOfFrames = frames
    if pixels is not None:
        ds.PixelData = pixels
    if syntax:
        from pydicom.encaps import encapsulate

        ds.file_meta.TransferSyntaxUID = syntax
        ds.PixelData = encapsulate([b"\0\0\1\xb3" + b"\0" * 60])
        ds["PixelData"].VR = "OB"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


# ---- the cases, one per row of docs/bad-input.md ----

def empty_file():
    return decoded(b"", "scan.png")


def not_an_image():
    return decoded(b"Patient list, not a picture\n", "scan.png")


def truncated_png():
    data = png_bytes(synthetic_case(60, 80)[0])
    return decoded(data[: len(data) // 2], "scan.png")


def truncated_jpeg():
    data = _encode(Image.fromarray(synthetic_case(60, 80)[0]), "JPEG", quality=90)
    return decoded(data[: len(data) // 2], "scan.jpg")


def decompression_bomb():
    return decoded(_encode(Image.new("1", (7000, 7000))), "bomb.png")  # 49 M pixels in a few kB


def sixteen_bit():
    return decoded(_encode(Image.fromarray(np.array([[0, 1000], [2000, 4000]], np.uint16))), "scan.png")


def float_without_finite_pixels():
    return decoded(_encode(Image.fromarray(np.full((4, 4), np.nan, np.float32)), "TIFF"), "scan.tif")


def cmyk():
    return decoded(_encode(Image.fromarray(GRAY).convert("CMYK"), "JPEG"), "scan.jpg")


def palette():
    return decoded(_encode(Image.fromarray(GRAY).convert("P")), "scan.png")


def alpha():
    return decoded(_encode(Image.fromarray(GRAY).convert("RGBA")), "scan.png")


def exif_rotation():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    return decoded(_encode(Image.fromarray(GRAY), "JPEG", exif=exif.tobytes(), quality=95), "scan.jpg")


def wrong_mask_size():
    gray = synthetic_case(60, 80)[0]
    mask = png_bytes(np.zeros((30, 40), np.uint8))
    a = an.analyse(_ZeroModel(), an.Upload("scan.png", png_bytes(gray), [("scan_mask.png", mask)]))
    return Outcome("Warning", a.mask_message)


def unreadable_mask():
    gray = synthetic_case(60, 80)[0]
    a = an.analyse(_ZeroModel(), an.Upload("scan.png", png_bytes(gray), [("scan_mask.png", b"not a png")]))
    return Outcome("Warning", a.mask_message)


def mask_without_image():
    _, messages = an.pair_uploads([("lost_mask.png", png_bytes(np.zeros((4, 4), np.uint8)))])
    return Outcome("Warning", messages[0])


def dicom_without_pixels():
    return decoded(_dicom(), "report.dcm")


def dicom_not_dicom():
    return decoded(b"\0" * 64, "scan.dcm")


def dicom_huge_size():
    return decoded(_dicom(60000, 60000, pixels=b"\0" * 256), "huge.dcm")


def dicom_huge_frame_count():
    return decoded(_dicom(16, 16, frames=100_000, pixels=b"\0" * 256), "loop.dcm")


def dicom_frames_missing():
    return decoded(_dicom(16, 16, frames=5, pixels=b"\0" * 256), "loop.dcm")


def dicom_unknown_transfer_syntax():
    return decoded(_dicom(syntax="1.2.840.10008.1.2.4.100"), "video.dcm")  # MPEG2: no decoder is installed


def zip_traversal():
    return unzipped(_zip([("../../etc/evil.png", b"x")]))


def zip_absolute_path():
    info = zipfile.ZipInfo("x")
    info.filename = "/etc/evil.png"  # ZipInfo strips a leading slash from its argument; a hostile writer does not
    return unzipped(_zip([(info, b"x")]))


def zip_symlink():
    info = zipfile.ZipInfo("busi/benign/link.png")
    info.external_attr = (0o120777 << 16)  # a symbolic link, as `zip --symlinks` stores one
    return unzipped(_zip([(info, b"/etc/passwd")]))


def zip_bomb():
    data = bytearray(_zip([("busi/benign/a.png", b"x" * 10)]))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 3_000_000_000)  # declares 3 GB uncompressed
    return unzipped(bytes(data))


def zip_too_many_entries():
    return unzipped(_zip([(f"f{i}.txt", b"") for i in range(5001)]))


def not_a_zip():
    return unzipped(b"PK not really a zip")


def folder_outside_data_roots():
    (msg,) = refusals(["/etc"], ["/data/ultrasound"], sign_in=True)
    return Outcome("Refused", f"Refused: {msg}.")  # pages/_access_ui.py: allowed_paths


def folder_given_relatively():
    (msg,) = refusals(["data/busi"], ["/data/ultrasound"], sign_in=True)
    return Outcome("Refused", f"Refused: {msg}.")


def folder_with_sign_in_and_no_data_roots():
    (msg,) = refusals(["/data/ultrasound"], None, sign_in=True)
    return Outcome("Refused", f"Refused: {msg}.")


def non_utf8_file_name(tmp_path):
    """A BUSI folder on the server holding a file whose name is not UTF-8 (Latin-1 é): it is read, and named
    with U+FFFD where the byte cannot be shown, never a crash when a page shows the name."""
    from core.data.layouts import scan_datasets
    from tests.helpers import write_busi_folder

    root = write_busi_folder(tmp_path / "Dataset_BUSI_with_GT", n_per_class=2)
    folder = os.path.join(os.fsencode(str(root)), b"benign")
    for tail in (b".png", b"_mask.png", b"_mask_1.png"):
        os.rename(os.path.join(folder, b"benign (1)" + tail), os.path.join(folder, b"caf\xe9 (1)" + tail))
    (case,) = [c for c in scan_datasets([str(root)]).cases if "caf" in c.key]
    case.key.encode("utf-8")  # text any page can show (a lone surrogate fails here, as in Streamlit's messages)
    assert read_image_file(case.image_path).gray.size  # and the file itself is read
    return Outcome("Accepted", f"listed as {case.key}")


def five_hundred_files(monkeypatch):
    """500 files dropped at once on the Segment page, in a session whose memory budget holds about 100."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BUSSEG_SESSION_MEMORY_MB", "1")
    files = [(f"s{i:03d}.png", png_bytes(synthetic_case(48, 64, seed=i % 7)[0]), "image/png") for i in range(500)]
    at = AppTest.from_file(os.path.join(ROOT, "streamlit_app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/segment.py").run()
    at.file_uploader(key="uploads").set_value(files).run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    return Outcome("Refused", error)


class _ZeroModel:
    """A predictor that marks nothing: the mask cases need an analysis, not a network."""

    decision = None
    path = "zero"

    def model_input(self, gray):
        return np.zeros((8, 8, 1), np.float32)

    def forward_batch_with_malignancy(self, batch):
        return np.zeros(batch.shape[:3], np.float32), None

    def predict(self, gray):
        from core.inference.predictor import Prediction

        return Prediction(np.zeros(gray.shape, np.float32), None, 0.0)


CASES = {f.__name__.replace("_", "-"): f for f in (
    empty_file, not_an_image, truncated_png, truncated_jpeg, decompression_bomb, sixteen_bit,
    float_without_finite_pixels, cmyk, palette, alpha, exif_rotation, wrong_mask_size, unreadable_mask,
    mask_without_image, dicom_without_pixels, dicom_not_dicom, dicom_huge_size, dicom_huge_frame_count,
    dicom_frames_missing, dicom_unknown_transfer_syntax, zip_traversal, zip_absolute_path, zip_symlink, zip_bomb,
    zip_too_many_entries, not_a_zip, folder_outside_data_roots, folder_given_relatively,
    folder_with_sign_in_and_no_data_roots, non_utf8_file_name, five_hundred_files)}


def doc_rows() -> dict[str, tuple[str, str]]:
    """case -> (kind, message) from the table in docs/bad-input.md: rows '| `case` | input | where | told |'."""
    rows = {}
    with open(DOC, encoding="utf-8") as fh:
        for line in fh:
            m = re.match(r"\| `([a-z0-9-]+)` \|.*\| (Refused|Warning|Accepted)[:.,]? ?(.*) \|\s*$", line)
            if m:
                told = m.group(3).strip()
                if told.startswith("noted:"):
                    told = told[len("noted:"):].strip()
                rows[m.group(1)] = (m.group(2), told.strip('"') if told.startswith('"') else told)
    return rows


def test_every_row_of_the_doc_has_a_case_and_every_case_a_row():
    rows = doc_rows()
    assert len(rows) >= 20
    assert sorted(rows) == sorted(CASES)


def _pattern(told: str) -> re.Pattern:
    return re.compile("".join(".*" if part == "…" else re.escape(part) for part in re.split("(…)", told)) + r"\Z",
                      re.S)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_user_is_told_what_the_doc_says(case, request):
    func = CASES[case]
    args = [request.getfixturevalue(n) for n in func.__code__.co_varnames[:func.__code__.co_argcount]]
    if case == "five-hundred-files":
        request.getfixturevalue("isolated_dirs")
    got = func(*args)
    kind, told = doc_rows()[case]
    assert got.kind == kind, (case, got)
    assert _pattern(told).match(got.message), f"{case}: the app says {got.message!r}; the doc says {told!r}"
