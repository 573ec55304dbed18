"""Evaluate page: how a model (or two, side by side) does on labelled folders, per dataset and per device."""
from __future__ import annotations

import os

import streamlit as st

from core.access.roles import EVALUATE
from core.evaluation.scoring import dice_difference
from core.metrics.intervals import difference_caption
from pages._access_ui import access_or_stop, access_settings, allowed_paths
from pages._evaluate_ui import charts_ui, inputs_ui, model_label, run_ui, site_fit_ui, summary_ui, worst_ui
from pages._streamlit_compat import ensure_app_navigation

ensure_app_navigation()
who = access_or_stop(EVALUATE)

st.title("Evaluate")
st.caption("Figures are computed per image at its original resolution. Data: BUSI (Al-Dhabyani et al., Data in Brief "
           "28 (2020) 104863) and BUS-BRA (Gómez-Flores et al., Medical Physics) where used.")

paths, data, split, threshold = inputs_ui()
data = allowed_paths(data)  # refused before anything, even whether a folder exists, is looked at
missing = [d for d in data if not os.path.isdir(d)]
if not data or missing:
    st.info("Give one or more folders on the server in BUSI's layout (benign/, malignant/, normal/ with name_mask.png "
            "masks) or BUS-BRA's (Images/, Masks/, bus_data.csv)." + (f" Not a folder: {', '.join(missing)}" if missing else ""))
    st.stop()
results = run_ui(paths, data, split, threshold)
if not results:
    st.stop()
summary_ui(results)
if len(results) == 2:
    st.info(difference_caption(dice_difference(results[0].rows, results[1].rows),
                               model_label(results[1].model), model_label(results[0].model)))
charts_ui(results)
worst_ui(results[0])
site_fit_ui(results[0], data, split is None and threshold is None, who, access_settings())
