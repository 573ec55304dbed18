"""Streamlit pieces shared by the pages: the cached model and the standing disclaimer."""
from __future__ import annotations

import os
import threading

import streamlit as st

from core.cards.registry import active_model_path
from core.inference.predictor import ModelLoadError, Predictor, choose_engine
from core.inference.shared import BatchingPredictor
from pages._streamlit_compat import keep_prepared_models_between_runs

DISCLAIMER = "Research decision support, not a diagnosis."


# Shared by every session: this module is imported once per server process.
_TENSORFLOW_IMPORT = threading.Lock()


def tensorflow_imported() -> None:
    """Import TensorFlow once, under a lock. Two sessions that import it at the same moment on a freshly started
    server can crash one of them (seen in the sign-in browser test: "tensorflow.python.data.ops.dataset_ops has no
    attribute DatasetV2"). After the first import this costs a dictionary lookup."""
    with _TENSORFLOW_IMPORT:
        import tensorflow  # noqa: F401


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def _load_predictor(path: str, mtime: float) -> Predictor:
    # mtime is part of the key so a retrained file at the same path is reloaded
    with _TENSORFLOW_IMPORT:  # a model without an ONNX export falls back to Keras, importing TensorFlow here
        predictor = Predictor.load(path)
    if predictor.engine == "keras":
        keep_prepared_models_between_runs()
    # one model for every session, its forward passes batched across them (core.inference.shared)
    shared = BatchingPredictor(predictor)
    shared.file_mtime = mtime  # which version of the file: a session's cached results are per version
    return shared


# path -> the predictor last loaded from it. When a model file is replaced by one that does not load (a copy cut
# short, a corrupted disk) or removed, the sessions keep this one, so the server answers and no result already
# shown is lost.
_LAST_GOOD: dict[str, Predictor] = {}
# (path, modification time) -> why that version of the file did not load. Trying again on every rerun would hash
# the file and import TensorFlow for the Keras fallback each time a clinician moves a slider; a new version of
# the file (a new modification time) is tried afresh.
_FAILED: dict[tuple[str, float], str] = {}


def predictor_or_stop(path: str | None = None) -> Predictor:
    """The cached predictor for the active (or given) model; explains and stops when there is none."""
    path = path or active_model_path()
    kept = _LAST_GOOD.get(path)
    if not os.path.isfile(path):
        if kept is not None:
            return _keep(kept, f"The model file `{os.path.basename(path)}` is no longer on the server.")
        st.error(f"No model is loaded: there is no model file at `{path}`.")
        st.info("Restore the shipped default with `git checkout weights/`, or train one on the Train page "
                "and make it active there. No mask is shown without a model.")
        st.stop()
    if choose_engine() == "keras":  # on ONNX Runtime the page never imports TensorFlow
        tensorflow_imported()
        keep_prepared_models_between_runs()
    version = (path, os.path.getmtime(path))
    problem = _FAILED.get(version)
    if problem is None:
        try:
            predictor = _load_predictor(*version)
        except ModelLoadError as exc:
            problem = _FAILED[version] = str(exc)
    if problem is not None:
        if kept is None:
            st.error(f"The model could not be loaded. {problem}")
            st.info("Choose another model on the Train page, or restore the default with `git checkout weights/`.")
            st.stop()
        return _keep(kept, f"The model file `{os.path.basename(path)}` changed on the server and the new file "
                           f"could not be loaded ({problem}).")
    _LAST_GOOD[path] = predictor
    if predictor.note:
        st.caption(predictor.note)
    return predictor


def _keep(kept: Predictor, what_happened: str) -> Predictor:
    st.warning(f"{what_happened} The app keeps using the version loaded before, so the results shown so far "
               "stand. Restore the file, or make another model active on the Train page.")
    return kept
