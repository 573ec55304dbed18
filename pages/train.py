"""Train page: audit one or more datasets, run training as a background job, manage models."""
from __future__ import annotations

import os
from dataclasses import replace

import streamlit as st

from core.access import actions
from core.access.roles import TRAIN, AccessDenied
from core.cards import registry
from core.data.safezip import is_extraction, remove_stale_extractions
from core.training import jobs
from pages._access_ui import access_or_stop, access_settings, allowed_paths, audit_log_ui
from pages._streamlit_compat import ensure_app_navigation
from pages._train_ui import audit_ui, dataset_ui, device_ui, finished_ui, job_ui, registry_ui, settings_ui

ensure_app_navigation()
who = access_or_stop(TRAIN)
config = access_settings()
st.title("Train")

job_ui(who, config)
if jobs.current_job() is None:
    remove_stale_extractions()  # zips extracted in tabs closed long ago
    extracted = list(st.session_state.get("extracted", {}).values())  # made by the app: no data-root check
    paths = allowed_paths(dataset_ui(), app_made=extracted)
    gpu = device_ui()
    table = audit_ui(paths, st.session_state.get("seed", 0)) if paths else None
    if table:
        datasets = sorted({s.split("/")[0] for s in table.get("train", {})})
        settings = settings_ui(paths, sum(table.get("train", {}).values()), datasets, gpu)
        name = st.text_input("Run name", "unet", key="run_name")
        if st.button("Start training", type="primary", key="start"):
            zipped = any(is_extraction(p) for p in paths)
            try:
                run_dir = actions.start_training(who, config, replace(
                    settings, name=name, cleanup_data=zipped, compare_with=registry.active_model_path()),
                    app_made=extracted)
            except (jobs.JobError, AccessDenied, OSError) as exc:  # OSError: the audit log, a full disk
                st.error(str(exc))
            else:
                if zipped:
                    st.session_state.pop("extracted", None)
                st.success(f"Started {os.path.basename(run_dir)}.")
                st.rerun()
else:
    st.info("One training job runs at a time. This page follows it; you can leave and come back.")
finished_ui(who, config)
registry_ui(who, config)
audit_log_ui(who)
