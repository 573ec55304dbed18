"""Train page: audit a BUSI-shaped dataset, run training as a background job, manage models."""
from __future__ import annotations

import csv
import os
import tempfile

import plotly.graph_objects as go
import streamlit as st

from core import jobs, registry
from core.audit import audit_with_split
from core.data import DatasetError
from core.intervals import difference_caption
from core.modelcard import read_card, render_markdown
from core.safezip import UnsafeZipError, extract_zip, forget_extractions, remove_stale_extractions
from core.train import LOSS_LABELS
from pages._common import ensure_app_navigation

ensure_app_navigation()

st.title("Train")


@st.cache_data(show_spinner="Decoding and auditing the dataset…", max_entries=4)
def audit_cached(path: str, seed: int):
    report, table = audit_with_split(path, seed)
    return report.to_dict(), report.summary_lines(), table


def dataset_ui() -> str | None:
    """Where the data comes from; returns a folder path or None."""
    source = st.radio("Dataset", ["Folder on the server", "Upload a zip of Dataset_BUSI_with_GT"],
                      horizontal=True, key="source")
    up = None
    if source.startswith("Folder"):
        path = st.text_input("Folder holding benign/, malignant/ and normal/", key="data_path",
                             placeholder="/data/Dataset_BUSI_with_GT")
    else:
        up = st.file_uploader("Dataset zip", type=["zip"], key="data_zip")
    # An extraction the user replaced, removed or switched away from is deleted at once.
    extracted = st.session_state.setdefault("extracted", {})
    forget_extractions(extracted, keep=up.file_id if up else None)
    if source.startswith("Folder"):
        return path.strip() or None
    if up is None:
        return None
    if up.file_id not in extracted:
        try:
            with st.spinner("Extracting safely…"):
                extracted[up.file_id] = extract_zip(up)
        except UnsafeZipError as exc:
            st.error(f"{up.name}: {exc}")
            return None
        st.session_state["extracted"] = extracted
    return extracted[up.file_id]


def audit_ui(path: str, seed: int) -> bool:
    try:
        report, lines, table = audit_cached(path, seed)
    except (DatasetError, OSError) as exc:
        st.error(str(exc))
        return False
    with st.expander("Dataset audit and split", expanded=True):
        st.code("\n".join(lines), language=None)
        if table:
            st.write("Split that training will use (near-duplicates kept on one side):")
            st.dataframe([{"split": k, **v} for k, v in table.items()], hide_index=True)
        if report["label_conflicts"]:
            st.warning("Same image under two classes: " + "; ".join(" = ".join(g) for g in report["label_conflicts"]))
        for p in report["problems"][:20]:
            st.caption(f"skipped: {p}")
    return bool(table)


def settings_ui(n_train: int, gpu: bool) -> dict:
    c = st.columns(4)
    epochs = c[0].number_input("Epochs", 1, 500, 30, key="epochs")
    size = c[1].selectbox("Image size", [128, 192, 256], index=2, key="image_size")
    width = c[2].selectbox("Width (base filters)", [8, 12, 16, 32], index=2, key="base_filters")
    batch = c[3].selectbox("Batch size", [4, 8, 16], index=1, key="batch_size")
    c = st.columns(4)
    lr = c[0].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], value=1e-3, key="lr")
    loss = c[1].selectbox("Loss", list(LOSS_LABELS), key="loss", format_func=LOSS_LABELS.get)
    augment = c[2].toggle("Augmentation", True, key="augment")
    seed = c[3].number_input("Seed", 0, 10_000, 0, key="seed")
    est = jobs.estimate_seconds(n_train, epochs, size, width, gpu)
    st.caption("Estimated time: " + ("much shorter on the GPU (not measured here)" if est is None else
               f"about {est / 60:.0f} min on this CPU ({n_train} training images)"))
    return dict(epochs=int(epochs), image_size=int(size), base_filters=int(width), batch_size=int(batch),
                learning_rate=float(lr), loss=loss, augment=augment, seed=int(seed))


def curves(run_dir: str):
    try:
        with open(os.path.join(run_dir, "metrics.csv")) as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return
    if not rows:
        return
    ep = [int(r["epoch"]) for r in rows]
    fig = go.Figure()
    for key, name in (("loss", "training loss"), ("val_loss", "validation loss"),
                      ("val_mask_dice_coef", "validation Dice")):
        if key in rows[0]:
            fig.add_scatter(x=ep, y=[float(r[key]) for r in rows], name=name, mode="lines+markers")
    fig.update_layout(height=300, margin=dict(l=0, r=0, t=10, b=0), xaxis_title="epoch")
    st.plotly_chart(fig, width="stretch")


@st.fragment(run_every=2)
def job_ui():
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
    curves(running)
    if st.button("Cancel training", key="cancel"):
        with st.spinner("Stopping…"):
            jobs.cancel_job()
        st.rerun()


def finished_ui():
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
            card = read_card(os.path.join(info.path, "model.keras")) or {}
            new, old = card.get("test_metrics", {}), (card.get("comparison") or {}).get("test_metrics", {})
            st.dataframe([{"model": "this run", **{k: new.get(k) for k in ("dice_mean", "iou_mean", "false_alarm_rate", "malignancy_auc")}},
                          {"model": "model active at start", **{k: old.get(k) for k in ("dice_mean", "iou_mean", "false_alarm_rate", "malignancy_auc")}}],
                         hide_index=True)
            seen = (card.get("comparison") or {}).get("test_images_it_trained_on")
            st.caption("Both scored on this run's own test split."
                       + (f" The older model trained on {seen} of these images, so its figures are optimistic."
                          if seen else "") + " " + difference_caption((card.get("comparison") or {}).get("dice_difference"),
                                                                      "this run", "the model active at start"))
            model_path = os.path.abspath(os.path.join(info.path, "model.keras"))
            if model_path == active:
                st.success("This is the active model.")
            elif st.button("Make this the active model", key=f"activate_{info.name}"):
                registry.set_active_model(model_path)
                st.rerun()
            with st.popover("Model card"):
                st.markdown(render_markdown(card))


def registry_ui():
    st.subheader("Models")
    models = registry.list_models()
    if not models:
        st.warning("No model files found. Restore the default with `git checkout weights/`.")
        return
    for m in models:
        t = (m.card or {}).get("test_metrics", {})
        c = st.columns([4, 2, 2, 2])
        c[0].write(f"{'⭐ ' if m.active else ''}**{m.name}** ({m.source})")
        c[1].write(f"Dice {t.get('dice_mean', 0) or 0:.3f}" if m.card else "no card")
        if not m.active and c[2].button("Make active", key=f"act_{m.path}"):
            registry.set_active_model(m.path)
            st.rerun()
        if m.protected:
            c[3].caption("shipped default (protected)")
        elif not m.active and c[3].button("Delete", key=f"del_{m.path}"):
            registry.delete_model(m.path)
            st.rerun()


def device_note() -> bool:
    from core.runtime import gpu_names

    gpus = gpu_names()
    st.caption("Training will use " + (f"{len(gpus)} GPU(s): {', '.join(gpus)}"
                                       + (" with MirroredStrategy" if len(gpus) > 1 else "") if gpus
                                       else "the CPU (XLA-compiled). The model trains at a few images per second here."))
    return bool(gpus)


job_ui()
if jobs.current_job() is None:
    remove_stale_extractions()  # zips extracted in tabs closed long ago
    path = dataset_ui()
    gpu = device_note()
    if path:
        settings_seed = st.session_state.get("seed", 0)
        if audit_ui(path, settings_seed):
            report, _, table = audit_cached(path, settings_seed)
            settings = settings_ui(sum(table.get("train", {}).values()), gpu)
            name = st.text_input("Run name", "busi-unet", key="run_name")
            if st.button("Start training", type="primary", key="start"):
                zipped = path.startswith(tempfile.gettempdir()) and "busi_upload_" in path
                try:
                    run_dir = jobs.start_job({**settings, "data": path, "name": name, "cleanup_data": zipped,
                                              "compare_with": registry.active_model_path()})
                except jobs.JobError as exc:
                    st.error(str(exc))
                else:
                    if zipped:
                        st.session_state.pop("extracted", None)
                    st.success(f"Started {os.path.basename(run_dir)}.")
                    st.rerun()
else:
    st.info("One training job runs at a time. This page follows it; you can leave and come back.")
finished_ui()
registry_ui()
