"""core.report.pdf: the reports are PDFs that name the area, the edit, the model and the disclaimer."""
import datetime as dt
import io

import numpy as np
from pypdf import PdfReader

from core.analysis import editing as ed
from core.analysis import segment as an
from core.inference.decision import Decision
from core.report.pdf import batch_report, card_figures, image_report, plain
from tests.helpers import png_bytes, synthetic_case


class FixedPredictor:
    threshold, path, decision = 0.5, "fake.keras", Decision(platt=(1.0, 0.0))

    def __init__(self, mask):
        self.mask = mask

    def predict(self, gray):
        from core.inference.predictor import Prediction

        return Prediction(self.mask.astype(np.float32) * 0.9, 0.7, 1.0)


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


CARD = {"test_metrics": {"n_images": 93, "n_lesion": 76, "dice_mean": 0.7399, "iou_mean": 0.6523,
                         "false_alarm_rate": 0.18, "malignancy_auc": 0.90},
        "test_metrics_by_dataset": {"BUSI": {"n_images": 60, "n_lesion": 50, "dice_mean": 0.75},
                                    "BUS-BRA": {"n_images": 33, "n_lesion": 26, "dice_mean": 0.6812}},
        "cross_centre_auc": {"BUS-BRA": {"auc": 0.66}}}


def _case(spacing=None):
    gray, mask = synthetic_case(60, 80, seed=5)
    a = an.analyse(FixedPredictor(mask), an.Upload("scan (3).png", png_bytes(gray)))
    return a, mask


def test_image_report_is_one_pdf_page_naming_area_mm2_band_edit_model_date_and_disclaimer():
    a, mask = _case()
    e = ed.Edits.empty(mask.shape)
    ed.apply(e, ed.stroke_mask(mask.shape, np.array([[5, 5], [20, 5]]), 3), ed.ADD)
    v = an.view_at(a, 0.5, typed_mm_per_px=0.1, edits=e)
    when = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    pdf = image_report(a, v, 0.5, CARD, "default.keras", when)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = text_of(pdf)
    assert f"{v.measurements.area_px:,} px" in text and f"{v.measurements.area_mm2:,.1f} mm²" in text
    assert "edited by the clinician" in text
    assert "Malignancy estimate: high" in text and "**" not in text and "AUC 0.66 (BUS-BRA)" in text
    assert "default.keras" in text and "0.740" in text and "BUS-BRA (33)" in text and "0.681" in text
    assert "2026-12-01 09:30 UTC" in text and "Research decision support, not a diagnosis" in text
    assert "scan (3).png" in text


def test_unedited_report_without_spacing_says_so():
    a, _ = _case()
    text = text_of(image_report(a, an.view_at(a, 0.5), 0.5, None, "m.keras"))
    assert "as the model drew it (not edited)" in text and "pixel spacing unknown" in text


def test_batch_report_lists_every_image_with_its_edit_flag():
    a, mask = _case()
    b = an.Analysis("other.png", a.image, np.zeros_like(a.probability), None, 1.0)
    e = ed.apply(ed.Edits.empty(mask.shape), mask, ed.REMOVE)
    items = [(a, an.view_at(a, 0.5, edits=e)), (b, an.view_at(b, 0.5))]
    text = text_of(batch_report(items, 0.5, CARD, "default.keras"))
    assert "scan (3).png" in text and "other.png" in text and "2 images" in text
    assert "yes" in text and "Research decision support, not a diagnosis" in text


def test_plain_text_and_card_table():
    assert plain("Malignancy: **low** – 4πA/P² × 2") == "Malignancy: low - 4piA/P² × 2"
    header, rows = card_figures(CARD)
    assert [r[0] for r in rows] == ["BUSI (60)", "BUS-BRA (33)", "all test images (93)"]
    assert card_figures({})[1][0][0] == "test split (-)"
