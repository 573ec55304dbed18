"""core.predict: the batch command on three files, one of them corrupt."""
import csv
import os

import numpy as np
from PIL import Image

from core.predict import main
from tests.helpers import synthetic_case


def test_three_files_one_corrupt(tmp_path, tiny_model_path):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    g1, m1 = synthetic_case(60, 80, seed=1)
    Image.fromarray(g1).save(src / "a.png")
    Image.fromarray(m1.astype(np.uint8) * 255).save(src / "a_mask.png")  # skipped: a mask
    Image.fromarray(synthetic_case(50, 40, seed=2)[0]).convert("RGB").save(src / "sub" / "b.jpg")
    (src / "sub" / "c.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "out"
    rc = main([str(src), "--out", str(out), "--weights", tiny_model_path, "--threshold", "0.5",
               "--pixel-spacing", "0.1"])
    assert rc == 0
    with open(out / "predictions.csv") as fh:
        rows = {os.path.basename(r["file"]): r for r in csv.DictReader(fh)}
    assert set(rows) == {"a.png", "b.jpg", "c.png"}
    assert rows["c.png"]["error"] and "c.png" in rows["c.png"]["error"]
    for name, (w, h) in {"a": (80, 60), "b": (40, 50)}.items():
        pred = np.array(Image.open(out / f"{name}_pred.png"))
        assert pred.shape == (h, w) and pred.dtype == np.uint8 and set(np.unique(pred)) <= {0, 255}
        row = rows[f"{name}.png" if name == "a" else "b.jpg"]
        assert int(row["lesion_area_px"]) == int((pred == 255).sum())
        assert float(row["lesion_area_mm2"]) == pytest_approx(int(row["lesion_area_px"]) * 0.01)
        assert row["error"] == "" and float(row["inference_ms"]) > 0
    assert not (out / "c_pred.png").exists()


def pytest_approx(v):
    import pytest

    return pytest.approx(v, abs=1e-3)


def test_dicom_gets_a_seg_and_report_writes_pdfs(tmp_path, tiny_model_path):
    import io

    import pydicom
    from pypdf import PdfReader

    from tests.helpers import us_dicom_bytes

    src = tmp_path / "in"
    src.mkdir()
    gray, _ = synthetic_case(48, 64, seed=3)
    (src / "us.dcm").write_bytes(us_dicom_bytes(gray, spacing=(0.2, 0.2)))
    Image.fromarray(synthetic_case(40, 40, seed=4)[0]).save(src / "p.png")
    out = tmp_path / "out"
    assert main([str(src), "--out", str(out), "--weights", tiny_model_path, "--threshold", "0.3", "--report"]) == 0
    with open(out / "predictions.csv") as fh:
        rows = {os.path.basename(r["file"]): r for r in csv.DictReader(fh)}
    assert rows["us.dcm"]["dicom_seg"] == "us_seg.dcm" and rows["p.png"]["dicom_seg"] == ""
    assert rows["us.dcm"]["edited"] == "False"
    area = int(rows["us.dcm"]["lesion_area_px"])
    assert float(rows["us.dcm"]["lesion_area_mm2"]) == pytest_approx(area * 0.04)
    seg = pydicom.dcmread(out / "us_seg.dcm")
    assert seg.Modality == "SEG" and int(np.asarray(seg.pixel_array).astype(bool).sum()) == area
    assert not (out / "p_seg.dcm").exists()
    for name in ("us_report.pdf", "p_report.pdf", "report.pdf"):
        assert (out / name).read_bytes().startswith(b"%PDF")
    text = PdfReader(io.BytesIO((out / "us_report.pdf").read_bytes())).pages[0].extract_text()
    assert f"{area:,} px" in text and "not a diagnosis" in text


def test_stems_are_decided_for_every_file_before_any_is_segmented(tmp_path, tiny_model_path):
    from core.batch.engine import output_stems

    assert output_stems(["a/x.png", "b/x.png", "c/y.png", "d/x.jpg"]) == ["x", "x_2", "y", "x_3"]
    # a file that fails keeps its stem, so the other masks' names do not depend on which files were readable
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(b"\x89PNG broken")
    Image.fromarray(synthetic_case(40, 40, seed=3)[0]).save(tmp_path / "b" / "x.png")
    out = tmp_path / "out"
    assert main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), "--weights", tiny_model_path]) == 0
    assert sorted(os.listdir(out)) == ["predictions.csv", "x_2_pred.png"]
