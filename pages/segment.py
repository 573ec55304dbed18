"""Segment page: upload ultrasound images, see the lesion, correct and measure it, compare with ground truth, export."""
from __future__ import annotations

import os

import streamlit as st

from core.access.roles import SEGMENT
from core.analysis import segment as an
from core.analysis.overlay import agreement_overlay, heatmap, lesion_overlay, to_rgb
from pages._access_ui import access_or_stop, access_settings
from pages._common import DISCLAIMER, predictor_or_stop
from pages._edit_ui import apply_pending, edit_toggle_ui, edit_ui, edits_for
from pages._model_choice_ui import session_model_ui
from pages._pacs_ui import pacs_or_none, pacs_ui, store_ui
from pages._segment_ui import (
    analyses_for,
    batch_pdf,
    exports_ui,
    frame_ui,
    inputs_ui,
    measurements_ui,
    preload_result_elements,
    show_image,
    uploads_ui,
)
from pages._streamlit_compat import ensure_app_navigation

ensure_app_navigation()
who = access_or_stop(SEGMENT)

predictor = predictor_or_stop(session_model_ui())
st.title("Segment")
st.caption(f"{DISCLAIMER} Uploaded images stay in this session's memory and are never written to disk.")
threshold, opacity, view_mode, mm_per_px = inputs_ui(predictor.threshold)
pacs = pacs_or_none()
uploads = uploads_ui() + pacs_ui(pacs, who, access_settings())
if not uploads:
    st.info("Drop one or more ultrasound images above (PNG, JPEG, BMP, TIFF or DICOM), or pick a sample case.")
    preload_result_elements()
    st.stop()

analyses, errors = analyses_for(predictor, uploads)
for e in errors:
    st.error(f"{e} The other images are unaffected.")
if not analyses:
    st.stop()

gate = not st.sidebar.toggle("Show the mask even where the model judges no lesion", False, key="gate_off",
                             help="The model's no-lesion gate empties faint masks on normal scans (see its card).")
names = [a.name for a in analyses]
current = st.selectbox(f"Image ({len(analyses)} analysed)", names, key="current")
i = names.index(current)
a = frame_ui(analyses[i], threshold, gate)  # a cine loop: the frame chosen (the largest lesion's at first)
apply_pending([*analyses, a])  # the clinician's latest stroke or click, before anything is measured
views = [an.view_at(x, threshold, mm_per_px, gate, edits_for(x)) for x in analyses]
v = an.view_at(a, threshold, mm_per_px, gate, edits_for(a))
analyses[i], views[i] = a, v  # the table and batch report show the frame on screen

st.caption(f"Ran on {predictor.device} in {a.inference_ms:.0f} ms · model `{os.path.basename(predictor.path)}` · "
           f"{a.image.width}×{a.image.height} px" + (f" · {'; '.join(a.image.notes)}" if a.image.notes else ""))
if a.mask_message:
    st.warning(a.mask_message)
editing = edit_toggle_ui()
picture = (lesion_overlay(a.image.gray, v.mask, opacity) if view_mode == "Overlay"
           else heatmap(a.image.gray, a.probability, opacity))
# The readout sits above the picture, outside any block holding a chart: the
# browser loads the charting library lazily, and a block waiting for it would
# hold back the numbers too.
measurements_ui(a, v)
st.info(an.malignancy_words(a, predictor.card) if v.measurements.lesion_count else
        an.gated_words(a, threshold) if v.gated else an.no_lesion_words(a, threshold, predictor.card))
if a.gt_mask is not None:
    cols = st.columns(3)
    with cols[0]:
        show_image(to_rgb(a.image.gray), "Image")
    with cols[1]:
        show_image(lesion_overlay(a.image.gray, a.gt_mask, opacity, colour=(64, 200, 255)), "Ground truth")
    with cols[2]:
        show_image(picture, "Prediction" if view_mode == "Overlay" else "Lesion probability")
    show_image(agreement_overlay(a.image.gray, a.gt_mask, v.mask),
               "Agreement: green both · red predicted only · blue missed")
elif not editing:
    show_image(picture, "Prediction" if view_mode == "Overlay" else "Lesion probability")
if editing:  # the canvas shows the image with the current (edited) mask, large enough to follow an edge
    edit_ui(a, v, opacity)
exports_ui(predictor, a, v, threshold, opacity, mm_per_px)
store_ui(pacs, who, access_settings(), a, v, predictor.path, mm_per_px)

st.subheader("All images")
rows = [an.summary_row(x, y, threshold) for x, y in zip(analyses, views)]
st.dataframe(rows, width="stretch", hide_index=True)
d = st.columns(3)
d[0].download_button("Measurements (CSV)", an.rows_to_csv(rows), "measurements.csv", "text/csv")
d[1].download_button("Measurements (JSON)", an.rows_to_json(rows), "measurements.json", "application/json")
d[2].download_button("Report, all images (PDF)", lambda: batch_pdf(predictor, analyses, views, threshold),
                     "report.pdf", "application/pdf", key="batch_pdf", on_click="ignore")
