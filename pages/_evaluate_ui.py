"""The Evaluate page's widgets: models and folders to score, the summary per class, dataset and device, charts."""
from __future__ import annotations

import os

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.access.actions import write_site_version
from core.access.audit_log import AuditLogError
from core.access.roles import TRAIN, AccessDenied
from core.analysis.overlay import agreement_overlay, lesion_overlay
from core.cards.registry import list_models
from core.data.layouts import DatasetError
from core.evaluation.folder import (
    Evaluation,
    calibration_points,
    evaluate_folder,
    manifest_for,
    roc_points,
    seen_warning,
)
from core.evaluation.scoring import rows_csv_text
from core.evaluation.site_fit import MIN_LESIONS, MIN_NORMALS, SiteFitError, fit_from_evaluation
from core.evaluation.tables import class_table, group_table, interval_caption, size_table
from core.locations import SAMPLES_DIR
from pages._common import predictor_or_stop


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
    text = st.text_area("Labelled folders on the server, one per line (BUSI's or BUS-BRA's layout)",
                        os.path.join(SAMPLES_DIR, "busi"), key="data", height=80)
    data = [line.strip() for line in text.splitlines() if line.strip()]
    split = st.selectbox("Images", ["all images in the folder", "only the first model's test split"], key="split")
    thr = st.slider("Threshold (0 = each model's own default)", 0.0, 0.95, 0.0, 0.05, key="eval_threshold")
    return [p for p in (first, second) if p], data, ("test" if split.startswith("only") else None), (thr or None)


def run_ui(paths, data, split, threshold) -> list[Evaluation] | None:
    key = (tuple((p, os.path.getmtime(p)) for p in paths), tuple(data), split, threshold)
    if st.session_state.get("eval_key") == key:
        return st.session_state["eval_results"]
    if not st.button("Run evaluation", type="primary", key="run"):
        return None
    results = []
    manifest = manifest_for(paths[0])  # both models are scored on the first model's split
    for path in paths:
        predictor = predictor_or_stop(path)
        bar = st.progress(0.0, text=f"Scoring {os.path.basename(path)}…")
        try:
            results.append(evaluate_folder(predictor, data, threshold, split, manifest=manifest,
                                           progress=lambda i, n, bar=bar: bar.progress(i / n, text=f"{i}/{n} images")))
        except (DatasetError, FileNotFoundError, ValueError, OSError) as exc:
            st.error(str(exc))
            return None
        bar.empty()
    st.session_state["eval_key"], st.session_state["eval_results"] = key, results
    return results


def model_label(path: str) -> str:
    """A run's folder name, or a weights file's name."""
    return os.path.basename(os.path.dirname(path)) if path.endswith("model.keras") else os.path.basename(path)


def summary_ui(results: list[Evaluation]):
    cols = st.columns(len(results))
    for col, r in zip(cols, results):
        with col:
            s = r.summary
            st.markdown(f"**{model_label(r.model)}** · threshold {r.threshold:.2f}")
            c = st.columns(3)
            c[0].metric("Mean Dice (lesions)", "—" if s["dice_mean"] is None else f"{s['dice_mean']:.3f}")
            c[1].metric("False alarms (normal)", "—" if s["false_alarm_rate"] is None else f"{s['false_alarm_rate']:.0%}")
            c[2].metric("Malignancy AUC", "—" if s["malignancy_auc"] is None else f"{s['malignancy_auc']:.3f}")
            st.caption(interval_caption(s))
            if seen_warning(r):
                st.warning(seen_warning(r))
            st.dataframe(class_table(s["per_class"]), hide_index=True)
            for by, name in ((r.by_dataset, "dataset"), (r.by_device, "device")):
                if len(by) > 1 or name == "dataset":
                    st.caption(f"Per {name}, each figure with its 95 % interval:")
                    st.dataframe(group_table(by, name), hide_index=True)
            if s.get("by_size"):
                st.caption("By lesion size: the share of the image the ground-truth lesion covers. "
                           "'Nothing marked': the model marked nothing anywhere in the image.")
                st.dataframe(size_table(s["by_size"]), hide_index=True)
            st.download_button("Per-image CSV", rows_csv_text(r.rows).encode(), f"evaluation_{model_label(r.model)}.csv",
                               "text/csv", key=f"csv_{r.model}")
            if r.problems:
                st.caption(f"Skipped {len(r.problems)} files: " + "; ".join(r.problems[:3]))


def charts_ui(results: list[Evaluation]):
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


def worst_ui(r: Evaluation, n: int = 4):
    st.subheader("Worst cases")
    order = np.argsort([x["dice"] for x in r.rows])[:n]
    for i in order:
        s, row = r.scored[i], r.rows[i]
        pred = r.scored_mask(i)  # the mask its Dice was scored on, no-lesion gate included
        c = st.columns(3)
        c[0].image(lesion_overlay(s.case.gray, s.case.mask, 0.35, colour=(64, 200, 255)), caption=f"{row['key']} — ground truth")
        c[1].image(lesion_overlay(s.case.gray, pred, 0.35), caption=f"prediction — Dice {row['dice']:.3f}")
        c[2].image(agreement_overlay(s.case.gray, s.case.mask, pred), caption="green both · red predicted only · blue missed")


def site_fit_ui(ev: Evaluation, data: list[str], whole: bool, who, config) -> None:
    """For those who may train: the no-lesion gate fitted on these images, written as a new model version."""
    if not who.can(TRAIN):
        return
    with st.expander("Fit the no-lesion gate to these images (a new model version)"):
        st.caption(f"For a hospital's own labelled scans, at least {MIN_LESIONS} lesion images with masks and "
                   f"{MIN_NORMALS} normal scans: the model's gate was fitted where it trained. Writes the same network "
                   "with the new gate as a new version; nothing changes until an administrator makes it active on the "
                   "Train page (docs/deployment.md).")
        if not whole:
            st.caption("Run the evaluation on all images, at each model's own threshold, to fit the gate.")
            return
        site = st.text_input("Site (hospital, scanner), as the model card will name it", key="site_name").strip()
        if not st.button("Fit the gate and write the version", key="site_fit", disabled=not site):
            return
        try:
            path = write_site_version(who, config, fit := fit_from_evaluation(ev), site, data)
        except (SiteFitError, AccessDenied, AuditLogError, OSError) as exc:
            st.error(f"Nothing was written: {exc}")
            return
        h = fit.held_out
        st.success(f"Wrote {model_label(path)}: gate {fit.card_gate} → {fit.gate}. On halves of these images it was "
                   f"not fitted on, mean lesion Dice {h['card']['dice']:.3f} → {h['site']['dice']:.3f} and normal "
                   f"scans flagged {h['card']['false_alarm_rate']:.0%} → {h['site']['false_alarm_rate']:.0%}. "
                   "Read both before making it active.")
