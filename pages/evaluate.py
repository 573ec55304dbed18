"""Evaluate page: how a model (or two, side by side) does on a labelled BUSI-shaped folder."""
from __future__ import annotations

import os

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core import evaluate as ev
from core.data import DatasetError
from core.evaluate import calibration_points, roc_points
from core.inference import mask_at
from core.intervals import difference_caption
from core.overlay import agreement_overlay, lesion_overlay
from core.registry import PROJECT_ROOT, list_models
from pages._common import ensure_app_navigation, predictor_or_stop

ensure_app_navigation()

st.title("Evaluate")
st.caption("Figures are computed per image at its original resolution. BUSI data: Al-Dhabyani et al., "
           "Data in Brief 28 (2020) 104863.")


def inputs_ui():
    models = list_models()
    if not models:
        st.error("No model files found. Restore the shipped default with `git checkout weights/`.")
        st.stop()
    labels = {m.path: f"{m.name} ({m.source}{', active' if m.active else ''})" for m in models}
    paths = list(labels)
    first = st.selectbox("Model", paths, index=next((i for i, m in enumerate(models) if m.active), 0),
                         format_func=labels.get, key="model_a")
    second = st.selectbox("Compare with (optional)", [None] + [p for p in paths if p != first],
                          format_func=lambda p: "—" if p is None else labels[p], key="model_b")
    data = st.text_input("Labelled folder (BUSI layout)", os.path.join(PROJECT_ROOT, "samples", "busi"), key="data")
    split = st.selectbox("Images", ["all images in the folder", "only the first model's test split"], key="split")
    thr = st.slider("Threshold (0 = each model's own default)", 0.0, 0.95, 0.0, 0.05, key="eval_threshold")
    return [p for p in (first, second) if p], data.strip(), ("test" if split.startswith("only") else None), (thr or None)


def run_ui(paths, data, split, threshold) -> list[ev.Evaluation] | None:
    key = (tuple((p, os.path.getmtime(p)) for p in paths), data, split, threshold)
    if st.session_state.get("eval_key") == key:
        return st.session_state["eval_results"]
    if not st.button("Run evaluation", type="primary", key="run"):
        return None
    results = []
    manifest = ev.manifest_for(paths[0])  # both models are scored on the first model's split
    for path in paths:
        predictor = predictor_or_stop(path)
        bar = st.progress(0.0, text=f"Scoring {os.path.basename(path)}…")
        try:
            results.append(ev.evaluate_folder(predictor, data, threshold, split, manifest=manifest,
                                              progress=lambda i, n: bar.progress(i / n, text=f"{i}/{n} images")))
        except (DatasetError, FileNotFoundError, ValueError, OSError) as exc:
            st.error(str(exc))
            return None
        bar.empty()
    st.session_state["eval_key"], st.session_state["eval_results"] = key, results
    return results


def model_label(path: str) -> str:
    """A run's folder name, or a weights file's name."""
    return os.path.basename(os.path.dirname(path)) if path.endswith("model.keras") else os.path.basename(path)


def summary_ui(results: list[ev.Evaluation]):
    cols = st.columns(len(results))
    for col, r in zip(cols, results):
        with col:
            s = r.summary
            st.markdown(f"**{model_label(r.model)}** · threshold {r.threshold:.2f}")
            c = st.columns(3)
            c[0].metric("Mean Dice (lesions)", "—" if s["dice_mean"] is None else f"{s['dice_mean']:.3f}")
            c[1].metric("False alarms (normal)", "—" if s["false_alarm_rate"] is None else f"{s['false_alarm_rate']:.0%}")
            c[2].metric("Malignancy AUC", "—" if s["malignancy_auc"] is None else f"{s['malignancy_auc']:.3f}")
            st.caption(ev.interval_caption(s))
            if ev.seen_warning(r):
                st.warning(ev.seen_warning(r))
            st.dataframe(ev.class_table(s["per_class"]), hide_index=True)
            if s.get("by_size"):
                st.caption("By lesion size: the share of the image the ground-truth lesion covers. "
                           "'Nothing marked': the model marked nothing anywhere in the image.")
                st.dataframe(ev.size_table(s["by_size"]), hide_index=True)
            st.download_button("Per-image CSV", ev.rows_csv_text(r.rows).encode(), f"evaluation_{model_label(r.model)}.csv",
                               "text/csv", key=f"csv_{r.model}")
            if r.problems:
                st.caption(f"Skipped {len(r.problems)} files: " + "; ".join(r.problems[:3]))


def charts_ui(results: list[ev.Evaluation]):
    c = st.columns(3)
    dist, roc, cal = go.Figure(), go.Figure(), go.Figure()
    for r in results:
        name = model_label(r.model)
        dist.add_histogram(x=[x["dice"] for x in r.rows if x["gt_area_px"] > 0], name=name, opacity=0.6,
                           xbins=dict(start=0, end=1.0001, size=0.05))
        fpr, tpr = roc_points(r.rows)
        if fpr:
            roc.add_scatter(x=fpr, y=tpr, name=name, mode="lines")
        mean, frac = calibration_points(r.rows)
        if mean:
            cal.add_scatter(x=mean, y=frac, name=name, mode="lines+markers")
    roc.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot"), name="chance")
    cal.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot"), name="perfect")
    for fig, title, xt, yt in ((dist, "Dice per lesion image", "Dice", "images"),
                               (roc, "Malignancy ROC", "false-positive rate", "true-positive rate"),
                               (cal, "Malignancy calibration", "predicted", "observed malignant fraction")):
        fig.update_layout(title=title, height=320, margin=dict(l=0, r=0, t=40, b=0), xaxis_title=xt,
                          yaxis_title=yt, barmode="overlay")
    dist.update_xaxes(range=[0, 1])
    for col, fig in zip(c, (dist, roc, cal)):
        col.plotly_chart(fig, width="stretch")


def worst_ui(r: ev.Evaluation, n: int = 4):
    st.subheader("Worst cases")
    order = np.argsort([x["dice"] for x in r.rows])[:n]
    for i in order:
        s, row = r.scored[i], r.rows[i]
        pred = mask_at(s.probability, r.threshold)
        c = st.columns(3)
        c[0].image(lesion_overlay(s.case.gray, s.case.mask, 0.35, colour=(64, 200, 255)), caption=f"{row['key']} — ground truth")
        c[1].image(lesion_overlay(s.case.gray, pred, 0.35), caption=f"prediction — Dice {row['dice']:.3f}")
        c[2].image(agreement_overlay(s.case.gray, s.case.mask, pred), caption="green both · red predicted only · blue missed")


paths, data, split, threshold = inputs_ui()
if not data or not os.path.isdir(data):
    st.info("Give a folder on the server in the BUSI layout (benign/, malignant/, normal/ with name_mask.png masks).")
    st.stop()
results = run_ui(paths, data, split, threshold)
if not results:
    st.stop()
summary_ui(results)
if len(results) == 2:
    st.info(difference_caption(ev.dice_difference(results[0].rows, results[1].rows),
                                  model_label(results[1].model), model_label(results[0].model)))
charts_ui(results)
worst_ui(results[0])
