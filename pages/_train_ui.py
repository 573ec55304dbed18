"""The Train page's widgets: dataset choice and audit, settings, the running job, finished runs and the models."""
from __future__ import annotations

import os

import plotly.graph_objects as go
import streamlit as st

from core.access import actions
from core.access.roles import ACTIVATE, DELETE, TRAIN, AccessConfig, AccessDenied, Identity
from core.cards import registry
from core.cards.modelcard import render_markdown
from core.cards.schema import Comparison, ModelCard, read_card
from core.data.dataset_audit import audit_with_split
from core.data.layouts import DatasetError
from core.data.safezip import UnsafeZipError, extract_zip, forget_extractions
from core.metrics.intervals import difference_caption
from core.training import jobs
from core.training.run import read_metrics
from core.training.settings import LOSS_LABELS, TrainSettings, default


@st.cache_data(show_spinner="Decoding and auditing the dataset…", max_entries=4)
def audit_cached(paths: tuple[str, ...], seed: int):
    report, table = audit_with_split(list(paths), seed)
    return report.to_dict(), report.summary_lines(), table


def dataset_ui() -> list[str]:
    """Where the data comes from: folders on the server, or an uploaded zip holding BUSI, BUS-BRA or both."""
    source = st.radio("Dataset", ["Folders on the server", "Upload a zip (BUSI, BUS-BRA or both)"],
                      horizontal=True, key="source")
    up = None
    if source.startswith("Folders"):
        text = st.text_area("Dataset folders, one per line (BUSI's or BUS-BRA's layout, or a folder holding both)",
                            key="data_path", placeholder="/data/Dataset_BUSI_with_GT\n/data/BUSBRA", height=80)
    else:
        up = st.file_uploader("Dataset zip", type=["zip"], key="data_zip",
                              help=f"Up to {st.get_option('server.maxUploadSize')} MB (the server's "
                                   "maxUploadSize); a larger dataset goes in as a folder on the server.")
    # An extraction the user replaced, removed or switched away from is deleted at once.
    extracted = st.session_state.setdefault("extracted", {})
    forget_extractions(extracted, keep=up.file_id if up else None)
    if source.startswith("Folders"):
        return [line.strip() for line in text.splitlines() if line.strip()]
    if up is None:
        return []
    if up.file_id not in extracted:
        try:
            with st.spinner("Extracting safely…"):
                extracted[up.file_id] = extract_zip(up)
        except UnsafeZipError as exc:
            st.error(f"{up.name}: {exc}")
            return []
        st.session_state["extracted"] = extracted
    return [extracted[up.file_id]]


def audit_ui(paths: list[str], seed: int) -> dict | None:
    """The audit and the split preview; returns {split: {"dataset/class": count}} or None when unusable."""
    try:
        report, lines, table = audit_cached(tuple(paths), seed)
    except (DatasetError, OSError) as exc:
        st.error(str(exc))
        return None
    with st.expander("Dataset audit and split", expanded=True):
        st.code("\n".join(lines), language=None)
        if table:
            st.write("Split that training will use (patients and near-duplicates kept on one side):")
            st.dataframe([{"split": k, **v} for k, v in table.items()], hide_index=True)
        if report["label_conflicts"]:
            st.warning("Same image under two classes: " + "; ".join(" = ".join(g) for g in report["label_conflicts"]))
        for p in report["problems"][:20]:
            st.caption(f"skipped: {p}")
    return table or None


def settings_ui(data: list[str], n_train: int, datasets: list[str], gpu: bool) -> TrainSettings:
    """Training settings on these folders; every default is core.training.settings' one set."""
    c = st.columns(4)
    epochs = c[0].number_input("Epochs", 1, 500, default("epochs"), key="epochs")
    size = c[1].selectbox("Image size", [128, 192, 256], index=[128, 192, 256].index(default("image_size")), key="image_size")
    width = c[2].selectbox("Width (base filters)", [8, 12, 16, 32], index=[8, 12, 16, 32].index(default("base_filters")),
                           key="base_filters")
    batch = c[3].selectbox("Batch size", [4, 8, 16], index=[4, 8, 16].index(default("batch_size")), key="batch_size")
    c = st.columns(4)
    lr = c[0].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], value=default("learning_rate"), key="lr")
    loss = c[1].selectbox("Loss", list(LOSS_LABELS), key="loss", format_func=LOSS_LABELS.get)
    augment = c[2].toggle("Augmentation", default("augment"), key="augment")
    seed = c[3].number_input("Seed", 0, 10_000, default("seed"), key="seed")
    weights = {}
    if len(datasets) > 1:
        st.caption("How often each dataset's images are drawn, per image, relative to the others: raise the smaller "
                   "dataset's weight so the larger one does not drown it.")
        cols = st.columns(len(datasets))
        for col, name in zip(cols, datasets):
            weights[name] = float(col.number_input(f"Weight of {name}", 0.1, 10.0, 1.0, 0.1, key=f"weight_{name}"))
    est = jobs.estimate_seconds(n_train, epochs, size, width, gpu)
    st.caption("Estimated time: " + ("much shorter on the GPU (not measured here)" if est is None else
               f"about {est / 60:.0f} min on this CPU ({n_train} training images)"))
    return TrainSettings(data=list(data), epochs=int(epochs), image_size=int(size), base_filters=int(width),
                         depth=default("depth"), batch_size=int(batch), learning_rate=float(lr), loss=loss,
                         augment=augment, seed=int(seed),
                         dataset_weights={k: v for k, v in weights.items() if v != 1.0} or None)


def curves_ui(run_dir: str):
    rows = read_metrics(run_dir)
    if not rows:
        return
    fig = go.Figure()
    for key, name in (("loss", "training loss"), ("val_loss", "validation loss"), ("val_image_dice", "validation Dice")):
        if key in rows[0]:
            fig.add_scatter(x=[r["epoch"] for r in rows], y=[r.get(key) for r in rows], name=name, mode="lines+markers")
    fig.update_layout(height=300, margin=dict(l=0, r=0, t=10, b=0), xaxis_title="epoch")
    st.plotly_chart(fig, width="stretch")


@st.fragment(run_every=2)
def job_ui(who: Identity, config: AccessConfig):
    running = jobs.current_job()
    if not running:
        if st.session_state.pop("was_running", None):
            st.rerun()  # the job just ended: redraw the whole page with its result
        return
    st.session_state["was_running"] = running
    info = jobs.run_info(running)
    s = info.status
    epochs = max(1, int(s.get("epochs") or 1))
    done = int(s.get("epoch") or 0) + (int(s.get("step") or 0) / max(1, int(s.get("steps") or 1))
                                      if s.get("state") == "training" else 0)
    done = min(done, epochs)
    eta = s.get("epoch_seconds")
    st.subheader(f"Training: {info.name}")
    st.progress(done / epochs, text=f"{s.get('state', 'starting')} · epoch {int(s.get('epoch') or 0)}/{epochs}"
                + (f" · about {eta * (epochs - done) / 60:.0f} min left" if eta else ""))
    if s.get("device"):
        st.caption(f"Running on {s['device']}")
    curves_ui(running)
    if who.can(TRAIN) and st.button("Cancel training", key="cancel"):
        with st.spinner("Stopping…"):
            done = act_or_say(actions.cancel_training, who, config)
        if done:
            st.rerun()


def act_or_say(action, *args) -> bool:
    """Run one admin action (core.access.actions); a refusal or a failure (the audit log or a model file that
    cannot be written) is shown as one sentence instead of an exception box. True when it was done."""
    try:
        action(*args)
        return True
    except (AccessDenied, jobs.JobError, OSError) as exc:
        st.error(f"Not done: {exc}")
        return False


def _figures(t: dict) -> dict:
    return {k: t.get(k) for k in ("dice_mean", "iou_mean", "false_alarm_rate", "malignancy_auc")}


def finished_ui(who: Identity, config: AccessConfig):
    runs = jobs.list_runs()
    if not runs:
        return
    st.subheader("Runs")
    active = os.path.abspath(registry.active_model_path())
    for info in runs[:10]:
        if info.running:
            continue
        label = {"done": "✅ finished", "failed": "❌ failed", "cancelled": "⏹ cancelled (partial)"}.get(info.state, info.state)
        with st.expander(f"{info.name} — {label}", expanded=info.state == "done" and info is runs[0]):
            if info.state != "done":
                st.write(info.status.get("message", ""))
                st.caption("Partial runs never replace the active model.")
                continue
            card = read_card(os.path.join(info.path, "model.keras")) or ModelCard()
            comparison = card.comparison or Comparison()
            st.dataframe([{"model": "this run", **_figures(card.test_metrics)},
                          {"model": "model active at start", **_figures(comparison.test_metrics or {})}],
                         hide_index=True)
            seen = comparison.test_images_it_trained_on
            st.caption("Both scored on this run's own test split."
                       + (f" The older model trained on {seen} of these images, so its figures are optimistic."
                          if seen else "") + " " + difference_caption(comparison.dice_difference,
                                                                      "this run", "the model active at start"))
            model_path = os.path.abspath(os.path.join(info.path, "model.keras"))
            if model_path == active:
                st.success("This is the active model.")
            elif who.can(ACTIVATE) and st.button("Make this the active model", key=f"activate_{info.name}"):
                if act_or_say(actions.make_active, who, config, model_path):
                    st.rerun()
            with st.popover("Model card"):
                st.markdown(render_markdown(card))


def registry_ui(who: Identity, config: AccessConfig):
    st.subheader("Models")
    models = registry.list_models()
    if not models:
        st.warning("No model files found. Restore the default with `git checkout weights/`.")
        return
    for m in models:
        t = m.card.test_metrics if m.card else {}
        c = st.columns([4, 2, 2, 2])
        c[0].write(f"{'⭐ ' if m.active else ''}**{m.name}** ({m.source})")
        c[1].write(f"Dice {t.get('dice_mean', 0) or 0:.3f}" if m.card else "no card")
        if not m.active and who.can(ACTIVATE) and c[2].button("Make active", key=f"act_{m.path}"):
            if act_or_say(actions.make_active, who, config, m.path):
                st.rerun()
        if m.protected:
            c[3].caption("shipped default (protected)")
        elif not m.active and who.can(DELETE) and c[3].button("Delete", key=f"del_{m.path}"):
            if act_or_say(actions.delete_model, who, config, m.path):
                st.rerun()


def device_ui() -> bool:
    from core.runtime import gpu_names

    gpus = gpu_names()
    st.caption("Training will use " + (f"{len(gpus)} GPU(s): {', '.join(gpus)}"
                                       + (" with MirroredStrategy" if len(gpus) > 1 else "") if gpus
                                       else "the CPU (XLA-compiled). The model trains at a few images per second here."))
    return bool(gpus)
