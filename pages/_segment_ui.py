"""The Segment page's widgets: sidebar controls, uploads and samples, the cached analyses, pictures, readout."""
from __future__ import annotations

import hashlib
import os

import numpy as np
import streamlit as st

from core.analysis import segment as an
from core.analysis.memory import MB, AnalysisCache, analysis_bytes, session_budget_bytes
from core.analysis.overlay import image_figure
from core.cards.modelcard import CITATION
from core.data.imageio import ImageReadError
from core.inference.cine import largest_frame
from core.locations import SAMPLES_DIR as SHIPPED_SAMPLES
from core.report import pdf
from pages._edit_ui import drop_edits, edits_bytes_for

SAMPLES_DIR = os.path.join(SHIPPED_SAMPLES, "busi")
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
                             type=TYPES, accept_multiple_files=True, key="uploads",
                             help=f"Up to {st.get_option('server.maxUploadSize')} MB a file (the server's "
                                  "maxUploadSize). A session holds at most "
                                  f"{session_budget_bytes() / MB:.0f} MB of images and results; past that, the "
                                  "images used longest ago are dropped and analysed again if you return to them.")
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


def _cache() -> AnalysisCache:
    """This session's analyses, least-recently-used within its memory budget (core.analysis.memory); an evicted
    image's edit layers and cine-loop areas go with it."""
    cache = st.session_state.get("analyses")
    if not isinstance(cache, AnalysisCache):
        def forget(_key, a) -> None:
            if isinstance(a, an.Analysis):
                drop_edits(a)
                for k in [k for k in st.session_state.get("frame_areas", {}) if k[0] == a.name]:
                    del st.session_state["frame_areas"][k]

        def size_of(_key, a) -> int:
            # an unreadable upload is kept as its ImageReadError: it has no edit layers
            return analysis_bytes(a) + (edits_bytes_for(a) if isinstance(a, an.Analysis) else 0)

        cache = AnalysisCache(size_of=size_of, on_evict=forget)
        st.session_state["analyses"] = cache
    return cache


def analyses_for(predictor, uploads: list[an.Upload]) -> tuple[list[an.Analysis], list[str]]:
    """Run the model on uploads not seen before; cached per (model, image bytes, mask bytes), within the session's
    memory budget: an upload that does not fit beside the others in view is left out, with a message."""
    cache = _cache()
    st.session_state.setdefault("inference_count", 0)
    keys = []
    for up in uploads:
        h = hashlib.sha1(up.data)
        for _, mb in up.masks:
            h.update(hashlib.sha1(mb).digest())
        # the model file's version too: a model replaced at the same path must not reuse the old one's results
        keys.append((predictor.path, getattr(predictor, "file_mtime", None), up.name, h.hexdigest()))
    cache.recount(pinned=keys)  # edit layers grow with each stroke
    out, errors, in_view, left_out = [], [], [], []
    for up, key in zip(uploads, keys):
        if key not in cache:
            if not cache.fits(len(up.data), in_view):
                left_out.append(up.name)
                continue
            try:
                with st.spinner(f"Segmenting {up.name}…"):
                    result = an.analyse(predictor, up)
                st.session_state["inference_count"] += 1
            except ImageReadError as exc:
                result = exc
            if not cache.fits(analysis_bytes(result), in_view):
                left_out.append(up.name)
                continue
            cache.put(key, result, pinned=in_view)
        cache.touch(key)
        in_view.append(key)
        result = cache[key]
        (errors.append(str(result)) if isinstance(result, Exception) else out.append(result))
    if left_out:
        errors.append(f"{len(left_out)} image(s) not analysed ({', '.join(left_out[:5])}"
                      f"{', …' if len(left_out) > 5 else ''}): this session holds at most "
                      f"{cache.budget / MB:.0f} MB of images and results, and the others in view fill it. "
                      "Remove some images from the uploader to see these.")
    return out, errors


# The hidden container's key: Streamlit gives a keyed container the CSS class st-key-<key>.
PRELOAD_KEY = "result_code_preload"


def preload_result_elements() -> None:
    """One hidden element of each kind the first result shows: the readout, the picture, the downloads, the table.

    Streamlit's browser code loads each kind of element's code the first time a page shows one. Without this, a
    freshly opened page fetched and compiled that code between the drop and the readout (drop → area 0.51-0.59 s
    against 0.36-0.42 s with it, bench/bench_ui.py); rendered hidden while the page waits for a drop, it is ready
    when the image is.
    """
    st.html(f"<style>.st-key-{PRELOAD_KEY} {{display: none}}</style>")
    with st.container(key=PRELOAD_KEY):
        st.metric("preload", "")
        st.image(np.zeros((1, 1), np.uint8), output_format="JPEG")
        st.download_button("preload", b"", "preload.txt")
        st.dataframe([{"preload": ""}], hide_index=True)


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


def frame_ui(a: an.Analysis, threshold: float, gate: bool) -> an.Analysis:
    """For a cine loop: the lesion area per frame, the largest-lesion frame suggested, and a frame slider (starting
    there); returns that frame's analysis. A single image is returned as it is."""
    if a.cine is None:
        return a
    areas = _frame_areas(a, threshold, gate)
    best = largest_frame(areas)
    st.caption(f"Cine loop of {a.frame_count} frames. The largest lesion is in **frame {best + 1}** "
               f"({areas[best]:,} px), shown first; the slider moves through the loop.")
    frame = st.slider("Frame", 1, a.frame_count, best + 1, key=f"frame|{a.name}")
    st.line_chart({"Lesion area (px)": areas}, height=140, x_label="frame (from 0)", y_label="area (px)")
    return an.at_frame(a, frame - 1)


def _frame_areas(a: an.Analysis, threshold: float, gate: bool) -> list[int]:
    # one pass through the loop per threshold, kept for the session (each frame's mask is cheap, 300 are not)
    cache = st.session_state.setdefault("frame_areas", {})
    key = (a.name, a.image.width, a.image.height, round(threshold, 3), gate)
    if key not in cache:
        cache[key] = an.frame_areas(a, threshold, gate)
    return cache[key]


def exports_ui(predictor, a: an.Analysis, v: an.View, threshold: float, opacity: float,
               mm_per_px: float | None = None):
    """This image's downloads: mask and overlay PNG, the PDF report and, for a DICOM input, a DICOM Segmentation
    and its measurement report (SR)."""
    stem = os.path.splitext(a.name)[0] + ("" if a.frame is None else f"_frame{a.frame + 1}")
    model = os.path.basename(predictor.path)
    d = st.columns(5 if a.dicom else 3)
    # Eager bytes: OpenCV encodes these PNGs in milliseconds, and deferred (callable)
    # downloads measurably delayed the readout in the browser (bench/bench_ui.py).
    tag = "_edited" if v.edited else ""  # an edited mask says so in its file names too
    d[0].download_button("Edited mask (PNG)" if v.edited else "Predicted mask (PNG)", an.mask_png(v),
                         f"{stem}_pred{tag}.png", "image/png")
    d[1].download_button("Overlay (PNG)", an.overlay_png(a, v, opacity), f"{stem}_overlay{tag}.png", "image/png")
    # The report and the SEG take 0.1-0.6 s to make, so they are made only when asked for.
    d[2].download_button("Report (PDF)", lambda: pdf.image_report(a, v, threshold, predictor.card, model, opacity=opacity),
                         f"{stem}_report.pdf", "application/pdf", key="image_pdf", on_click="ignore")
    problem = a.dicom and _seg_problem(a.dicom)
    if problem:
        d[3].caption(f"No DICOM Segmentation: {problem}.")
    elif a.dicom:
        d[3].download_button("DICOM Segmentation", lambda: _dicom(a, v, predictor.path, mm_per_px).seg,
                             f"{stem}_seg.dcm", "application/dicom", key="dicom_seg", on_click="ignore",
                             help="A DICOM SEG over this image (same study, referencing its series and instance): "
                                  "OHIF or 3D Slicer open it over the image.")
        d[4].download_button("DICOM measurement report (SR)", lambda: _dicom(a, v, predictor.path, mm_per_px).sr,
                             f"{stem}_sr.dcm", "application/dicom", key="dicom_sr", on_click="ignore",
                             help="A DICOM Structured Report (TID 1500): area, long and short axis, width and "
                                  "height, referencing the SEG and this image; the malignancy band as a research "
                                  "estimate.")


@st.cache_data(show_spinner=False, max_entries=32)
def _seg_problem(source: bytes) -> str | None:
    from core.report.dicomseg import source_problem

    return source_problem(source)


def _dicom(a: an.Analysis, v: an.View, model_path: str, mm_per_px: float | None):
    from core.report.dicomexport import dicom_outputs

    return dicom_outputs(a, v, model_path, mm_per_px)


def batch_pdf(predictor, analyses: list[an.Analysis], views: list[an.View], threshold: float) -> bytes:
    return pdf.batch_report(list(zip(analyses, views)), threshold, predictor.card, os.path.basename(predictor.path))
