"""The Segment page's widgets: sidebar controls, uploads and samples, the cached analyses, pictures, readout."""
from __future__ import annotations

import hashlib
import os

import streamlit as st

from core.analysis import segment as an
from core.analysis.overlay import image_figure
from core.cards.modelcard import CITATION
from core.cards.registry import PROJECT_ROOT
from core.data.imageio import ImageReadError

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
