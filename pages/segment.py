"""Segment page: upload ultrasound images, see the lesion, measure it, compare with ground truth."""
from __future__ import annotations

import hashlib
import os

import streamlit as st

from core import analysis as an
from core.imageio import ImageReadError
from core.modelcard import CITATION
from core.overlay import agreement_overlay, heatmap, image_figure, lesion_overlay, to_rgb
from core.registry import PROJECT_ROOT
from pages._common import DISCLAIMER, ensure_app_navigation, predictor_or_stop

ensure_app_navigation()

SAMPLES_DIR = os.path.join(PROJECT_ROOT, "samples", "busi")
TYPES = ["png", "jpg", "jpeg", "bmp", "tif", "tiff", "dcm", "dicom"]


@st.cache_data(show_spinner=False)
def cached_samples() -> list[an.Upload]:
    return an.sample_uploads(SAMPLES_DIR) if os.path.isdir(SAMPLES_DIR) else []


def inputs_ui(default_threshold: float):
    """Sidebar controls; returns (threshold, opacity, view, mm_per_px)."""
    with st.sidebar:
        threshold = st.slider("Threshold", 0.05, 0.95, float(default_threshold), 0.01, key="threshold",
                              help="Lesion probability at or above which a pixel is marked. Default from the model card.")
        opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.4, 0.05, key="opacity")
        view = st.radio("View", ["Overlay", "Probability heatmap"], key="view")
        st.toggle("Zoomable figures (plotly)", False, key="zoomable",
                  help="Off: plain images, which appear fastest. On: zoom and pan with the mouse.")
        mm = st.number_input("Pixel spacing (mm per pixel)", 0.0, 5.0, 0.0, 0.01, format="%.3f", key="mm_per_px",
                             help="Leave at 0 when unknown. DICOM files carry their own spacing, which wins.")
    return threshold, opacity, view, (mm or None)


def uploads_ui() -> list[an.Upload] | None:
    files = st.file_uploader("Drop ultrasound images here (and, optionally, their masks named `name_mask.png`)",
                             type=TYPES, accept_multiple_files=True, key="uploads")
    with st.expander("No images at hand? Use the sample gallery (12 BUSI cases the model never trained on)"):
        samples = cached_samples()
        chosen = st.multiselect("Sample cases", [u.name for u in samples], key="samples")
        st.caption(f"Samples from BUSI: {CITATION}")
    pairs = [(f.name, f.getvalue()) for f in files or []]
    uploads, messages = an.pair_uploads(pairs)
    for m in messages:
        st.warning(m)
    uploads += [u for u in samples if u.name in chosen]
    return uploads


def analyses_for(predictor, uploads: list[an.Upload]) -> tuple[list[an.Analysis], list[str]]:
    """Run the model on uploads not seen before; cached per (model, image bytes, mask bytes)."""
    cache = st.session_state.setdefault("analyses", {})
    st.session_state.setdefault("inference_count", 0)
    out, errors = [], []
    for up in uploads:
        h = hashlib.sha1(up.data)
        for _, mb in up.masks:
            h.update(hashlib.sha1(mb).digest())
        key = (predictor.path, up.name, h.hexdigest())
        if key not in cache:
            try:
                with st.spinner(f"Segmenting {up.name}…"):
                    cache[key] = an.analyse(predictor, up)
                st.session_state["inference_count"] += 1
            except ImageReadError as exc:
                cache[key] = exc
        result = cache[key]
        (errors.append(str(result)) if isinstance(result, Exception) else out.append(result))
    return out, errors


def show_image(img, title: str):
    if st.session_state.get("zoomable"):
        st.plotly_chart(image_figure(img, title), width="stretch", config={"displaylogo": False})
    else:
        # a plain image shows at once; the charting library needs seconds to load in a new page
        st.image(img, caption=title, output_format="JPEG", width="stretch")


def measurements_ui(a: an.Analysis, v: an.View):
    """The lesion readout, four metrics a row."""
    m = v.measurements
    diameter = ("—" if m.longest_diameter_px is None else
                f"{m.longest_diameter_mm:.1f} mm" if m.longest_diameter_mm else f"{m.longest_diameter_px:.0f} px")
    items = [("Lesion area", f"{m.area_px:,} px", None),
             ("Area", "—" if m.area_mm2 is None else f"{m.area_mm2:,.1f} mm²",
              "Needs the pixel spacing: from DICOM, or typed in the sidebar."),
             ("Lesions", m.lesion_count, "Connected regions, ignoring specks under 0.05% of the image."),
             ("Longest diameter", diameter, None),
             ("Width × height", "—" if m.width_px is None else f"{m.width_px} × {m.height_px} px", None),
             ("Taller than wide", "—" if m.taller_than_wide is None else ("yes" if m.taller_than_wide else "no"),
              "Height (depth) greater than width: a suspicious feature in BI-RADS."),
             ("Circularity", "—" if m.circularity is None else f"{m.circularity:.2f}", "4πA/P²: 1 for a circle.")]
    if v.dice is not None:
        items.append(("Dice / IoU vs ground truth", f"{v.dice:.3f} / {v.iou:.3f}", None))
    for row in range(0, len(items), 4):
        cols = st.columns(4)
        for col, (label, value, help_) in zip(cols, items[row:row + 4]):
            col.metric(label, value, help=help_)


predictor = predictor_or_stop()
st.title("Segment")
st.caption(f"{DISCLAIMER} Uploaded images stay in this session's memory and are never written to disk.")
threshold, opacity, view_mode, mm_per_px = inputs_ui(predictor.threshold)
uploads = uploads_ui()
if not uploads:
    st.info("Drop one or more ultrasound images above (PNG, JPEG, BMP, TIFF or DICOM), or pick a sample case.")
    st.stop()

analyses, errors = analyses_for(predictor, uploads)
for e in errors:
    st.error(f"{e} The other images are unaffected.")
if not analyses:
    st.stop()

views = [an.view_at(a, threshold, mm_per_px) for a in analyses]
names = [a.name for a in analyses]
current = st.selectbox(f"Image ({len(analyses)} analysed)", names, key="current")
i = names.index(current)
a, v = analyses[i], views[i]

st.caption(f"Ran on {predictor.device} in {a.inference_ms:.0f} ms · model `{os.path.basename(predictor.path)}` · "
           f"{a.image.width}×{a.image.height} px" + (f" · {'; '.join(a.image.notes)}" if a.image.notes else ""))
if a.mask_message:
    st.warning(a.mask_message)
picture = (lesion_overlay(a.image.gray, v.mask, opacity) if view_mode == "Overlay"
           else heatmap(a.image.gray, a.probability, opacity))
# The readout sits above the picture, outside any block holding a chart: the
# browser loads the charting library lazily, and a block waiting for it would
# hold back the numbers too.
measurements_ui(a, v)
st.info(an.malignancy_words(a.malignancy) if v.measurements.lesion_count else
        an.no_lesion_words(a, threshold, predictor.card))
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
else:
    show_image(picture, "Prediction" if view_mode == "Overlay" else "Lesion probability")
stem = os.path.splitext(a.name)[0]
d = st.columns(2)
# Eager bytes: OpenCV encodes these PNGs in milliseconds, and deferred (callable)
# downloads measurably delayed the readout in the browser (bench/bench_ui.py).
d[0].download_button("Predicted mask (PNG)", an.mask_png(v), f"{stem}_pred.png", "image/png")
d[1].download_button("Overlay (PNG)", an.overlay_png(a, v, opacity), f"{stem}_overlay.png", "image/png")

st.subheader("All images")
rows = [an.summary_row(x, y, threshold) for x, y in zip(analyses, views)]
st.dataframe(rows, width="stretch", hide_index=True)
d = st.columns(2)
d[0].download_button("Measurements (CSV)", an.rows_to_csv(rows), "measurements.csv", "text/csv")
d[1].download_button("Measurements (JSON)", an.rows_to_json(rows), "measurements.json", "application/json")
