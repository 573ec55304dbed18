"""One-page PDF reports, made with fpdf2: one per image, and one for a batch.

Each carries the image and its overlay (per image), the measurements (mm² when the pixel spacing is known),
the malignancy estimate in the same banded words the page shows, the model's name and its model-card
figures (per dataset where the card has them), whether the clinician edited the mask, the date, and the
disclaimer. Bytes out; nothing is written to disk here.
"""
from __future__ import annotations

import datetime as dt
import io
import os

import cv2
import numpy as np

from core.analysis import segment as an
from core.analysis.overlay import lesion_overlay, to_rgb
from core.cards.schema import ModelCard, read_card

DISCLAIMER = "Research decision support, not a diagnosis."
TITLE = "Breast-ultrasound lesion segmentation"
PAGE_W, MARGIN = 210.0, 15.0
# The PDF's built-in Helvetica is Latin-1 only: the few other characters the app's wording uses are spelt out.
_PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "π": "pi",
                        "≥": ">=", "≤": "<=", "→": "->", "−": "-"})


def plain(text: str) -> str:
    """Text as the PDF's font can show it: Markdown bold removed, non-Latin-1 characters spelt out."""
    return text.replace("**", "").translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _new_pdf(title: str, when: dt.datetime):
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.set_title(title)
    pdf.set_creator("busseg")
    pdf.set_creation_date(when)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, plain(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, plain(f"{when:%Y-%m-%d %H:%M} UTC  ·  {DISCLAIMER}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    return pdf


def _heading(pdf, text: str) -> None:
    pdf.ln(1)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, plain(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def _para(pdf, text: str) -> None:
    pdf.multi_cell(0, 4.5, plain(text), new_x="LMARGIN", new_y="NEXT")


def _table(pdf, header: list[str], rows: list[list], widths: tuple | None = None) -> None:
    pdf.set_font("Helvetica", "", 8.5)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6, first_row_as_headings=True) as table:
        for r in [header, *rows]:
            row = table.row()
            for v in r:
                row.cell(plain("-" if v is None or v == "" else str(v)))
    pdf.set_font("Helvetica", "", 9)


def _fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def card_figures(card: ModelCard | dict | None) -> tuple[list[str], list[list]]:
    """The model card's test figures as a table: one row per dataset when the card has them, then all images."""
    card = read_card(card) or ModelCard()
    header = ["test images", "lesions", "mean lesion Dice", "mean IoU", "false alarms (normal)", "malignancy AUC"]
    rows = []
    by_ds = card.test_metrics_by_dataset or {}
    items = list(by_ds.items()) if len(by_ds) > 1 else []
    items.append(("all test images" if items else "test split", card.test_metrics or {}))
    for name, t in items:
        alarms = t.get("false_alarm_rate")
        rows.append([f"{name} ({t.get('n_images', '-')})", t.get("n_lesion", t.get("n")), _fmt(t.get("dice_mean")),
                     _fmt(t.get("iou_mean")), "-" if alarms is None else f"{alarms:.0%}", _fmt(t.get("malignancy_auc"), 2)])
    return header, rows


def _model_section(pdf, model_name: str, card: ModelCard | dict | None, threshold: float) -> None:
    _heading(pdf, "Model")
    _para(pdf, f"{model_name}, run at threshold {threshold:.2f}. Figures from its model card, on test images it "
               "never trained on:")
    header, rows = card_figures(card)
    _table(pdf, header, rows, (50, 18, 30, 22, 32, 28))


def _jpeg(rgb: np.ndarray) -> io.BytesIO:
    """JPEG (quality 92) for the page: a fifth of the bytes of a lossless copy; the PNG downloads stay lossless."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return io.BytesIO(buf.tobytes())


def measurement_rows(analysis: an.Analysis, view: an.View) -> list[list[str]]:
    m = view.measurements
    mm = m.area_mm2 is not None
    rows = [["Lesion area", f"{m.area_px:,} px" + (f"  ({m.area_mm2:,.1f} mm²)" if mm else "  (mm²: pixel spacing unknown)")],
            ["Lesions", str(m.lesion_count)],
            ["Longest diameter", "-" if m.longest_diameter_px is None else
             (f"{m.longest_diameter_mm:.1f} mm" if m.longest_diameter_mm else f"{m.longest_diameter_px:.0f} px")],
            ["Width × height", "-" if m.width_px is None else
             (f"{m.width_mm:.1f} × {m.height_mm:.1f} mm" if m.width_mm else f"{m.width_px} × {m.height_px} px")],
            ["Taller than wide", "-" if m.taller_than_wide is None else ("yes" if m.taller_than_wide else "no")],
            ["Circularity", _fmt(m.circularity, 2)],
            ["Mask", "edited by the clinician" if view.edited else "as the model drew it (not edited)"]]
    if view.dice is not None:
        rows.append(["Dice / IoU vs ground truth", f"{view.dice:.3f} / {view.iou:.3f}"])
    return rows


def estimate_words(analysis: an.Analysis, view: an.View, threshold: float, card: ModelCard | dict | None) -> str:
    """What the page says under the readout, without Markdown."""
    if view.measurements.lesion_count:
        return plain(an.malignancy_words(analysis, card))
    if view.gated and not view.edited:
        return plain(an.gated_words(analysis, threshold))
    return plain(an.no_lesion_words(analysis, threshold, card))


def image_report(analysis: an.Analysis, view: an.View, threshold: float, card: ModelCard | dict | None, model_name: str,
                 when: dt.datetime | None = None, opacity: float = 0.4) -> bytes:
    """The one-page PDF for one image."""
    when = when or dt.datetime.now(dt.timezone.utc)
    pdf = _new_pdf(f"{TITLE}: {analysis.name}", when)
    img = analysis.image
    _para(pdf, f"Image {analysis.name}, {img.width}×{img.height} px"
               + (f", pixel spacing {img.pixel_spacing_mm[0]:.3f} × {img.pixel_spacing_mm[1]:.3f} mm"
                  if img.pixel_spacing_mm else "") + ".")
    box_w, box_h = (PAGE_W - 2 * MARGIN - 6) / 2, 85.0
    w = min(box_w, box_h * img.width / img.height)
    h = w * img.height / img.width
    y = pdf.get_y() + 1
    pdf.image(_jpeg(to_rgb(img.gray)), x=MARGIN, y=y, w=w, h=h)
    pdf.image(_jpeg(lesion_overlay(img.gray, view.mask, opacity)), x=MARGIN + box_w + 6, y=y, w=w, h=h)
    pdf.set_y(y + h + 1)
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(box_w + 6, 4, "Image")
    pdf.cell(box_w, 4, plain("Lesion mask" + (" (edited by the clinician)" if view.edited else "")),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    _heading(pdf, "Measurements")
    _table(pdf, ["Measurement", "Value"], measurement_rows(analysis, view), (60, 120))
    _heading(pdf, "Malignancy estimate")
    _para(pdf, estimate_words(analysis, view, threshold, card))
    _model_section(pdf, model_name, card, threshold)
    _heading(pdf, DISCLAIMER)
    _para(pdf, "The mask and figures support a clinician's own reading of the image; they are not a diagnosis.")
    return bytes(pdf.output())


def batch_report(items: list[tuple[an.Analysis, an.View]], threshold: float, card: ModelCard | dict | None, model_name: str,
                 when: dt.datetime | None = None) -> bytes:
    """The PDF for a batch: one row per image (edited or not, area, mm², lesions, diameter, band, Dice)."""
    when = when or dt.datetime.now(dt.timezone.utc)
    pdf = _new_pdf(f"{TITLE}: {len(items)} images", when)
    _heading(pdf, "Measurements")
    rows = []
    for a, v in items:
        r = an.summary_row(a, v, threshold)
        rows.append([os.path.basename(a.name), "yes" if v.edited else "no", f"{r['lesion_area_px']:,}",
                     r["lesion_area_mm2"], r["lesion_count"],
                     r["longest_diameter_mm"] if r["longest_diameter_mm"] is not None else
                     (None if r["longest_diameter_px"] is None else f"{r['longest_diameter_px']} px"),
                     r["malignancy_band"], r["dice"]])
    _table(pdf, ["file", "edited", "area px", "area mm²", "lesions", "longest diam. mm", "malignancy band",
                 "Dice vs GT"], rows, (44, 13, 19, 19, 14, 26, 27, 18))
    _para(pdf, "Malignancy bands are calibrated: low under 10 %, intermediate 10-50 %, high over 50 %. A research "
               "estimate, meaningful only where a lesion is present, and weaker on hospitals the model never saw.")
    _model_section(pdf, model_name, card, threshold)
    _heading(pdf, DISCLAIMER)
    return bytes(pdf.output())
