"""Streamlit pieces shared by the pages: the cached model and the standing disclaimer."""
from __future__ import annotations

import os
import threading

import streamlit as st

from core.cards.registry import active_model_path
from core.inference.predictor import ModelLoadError, Predictor

DISCLAIMER = "Research decision support, not a diagnosis."


def ensure_app_navigation() -> None:
    """Route a first visit that lands straight on a page through streamlit_app.py.

    Streamlit treats a folder named pages/ as the old file-based navigation
    until some session has run the entry point's st.navigation. A server's
    first visitor who opens /segment directly would otherwise get that old
    menu (listing helper modules as pages). Clearing the flag and rerunning
    makes Streamlit run the entry point, which then shows this same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    # Only a session's first run may be rerouted: a later run carries a widget
    # event (a click) that a rerun would swallow. (AppTest also resets the flag
    # before every run, which this keeps from mattering.)
    if st.session_state.get("_navigation_checked"):
        return
    st.session_state["_navigation_checked"] = True
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# Shared by every session: this module is imported once per server process.
_TENSORFLOW_IMPORT = threading.Lock()


def tensorflow_imported() -> None:
    """Import TensorFlow once, under a lock. Two sessions that import it at the same moment on a freshly started
    server can crash one of them (seen in the sign-in browser test: "tensorflow.python.data.ops.dataset_ops has no
    attribute DatasetV2"). After the first import this costs a dictionary lookup."""
    with _TENSORFLOW_IMPORT:
        import tensorflow  # noqa: F401


def keep_prepared_models_between_runs() -> None:
    """Stop Streamlit's after-run `keras.backend.clear_session()` from discarding the model's prepared graph.

    Streamlit calls it after every script run (its scriptrunner's `_clean_problem_modules`) to
    free Keras models that a script builds on each run. This app builds none per run: models
    are cached by `_load_predictor`. The call also empties TensorFlow's kernel cache, so the
    next inference instantiated and optimised the graph again: 120-160 ms on the first image
    of every interaction (experiments/LOG.md, "Speed"). Training runs in its own process.
    """
    import keras

    if not getattr(keras.backend.clear_session, "keeps_prepared_models", False):
        def clear_session_kept(*args, **kwargs) -> None:
            return None

        clear_session_kept.keeps_prepared_models = True
        keras.backend.clear_session = clear_session_kept


@st.cache_resource(show_spinner="Loading the model…", max_entries=3)
def _load_predictor(path: str, mtime: float) -> Predictor:
    # mtime is part of the key so a retrained file at the same path is reloaded
    return Predictor.load(path)


def predictor_or_stop(path: str | None = None) -> Predictor:
    """The cached predictor for the active (or given) model; explains and stops when there is none."""
    path = path or active_model_path()
    if not os.path.isfile(path):
        st.error(f"No model is loaded: there is no model file at `{path}`.")
        st.info("Restore the shipped default with `git checkout weights/`, or train one on the Train page "
                "and make it active there. No mask is shown without a model.")
        st.stop()
    tensorflow_imported()
    keep_prepared_models_between_runs()
    try:
        return _load_predictor(path, os.path.getmtime(path))
    except ModelLoadError as exc:
        st.error(f"The model could not be loaded. {exc}")
        st.info("Choose another model on the Train page, or restore the default with `git checkout weights/`.")
        st.stop()
