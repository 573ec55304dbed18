"""Streamlit internals the app works around, each kept here, behind a check of the Streamlit version.

``ensure_app_navigation`` resets ``PagesManager.uses_pages_directory`` (a private flag) so a first visit straight
to a page gets the app's navigation; ``keep_prepared_models_between_runs`` stops the ``keras.backend.clear_session``
call Streamlit's script runner makes after every run. Both depend on how this Streamlit works inside, which changes
without notice, so each checks first that Streamlit is a version they were tested on and refuses any other: on a
new Streamlit, run tests/pages and tests/e2e, see whether each is still needed, and add the version to
TESTED_STREAMLIT.
"""
from __future__ import annotations

import streamlit as st

from core.versions import require_tested

# major.minor versions of Streamlit these were tested on (requirements.txt pins 1.67.0)
TESTED_STREAMLIT = ("1.67",)


def check_streamlit(version: str | None = None) -> None:
    """Raise UntestedVersionError unless Streamlit (or the version given) is one TESTED_STREAMLIT names."""
    require_tested("Streamlit", version or st.__version__, TESTED_STREAMLIT, "run tests/pages and tests/e2e on it")


def ensure_app_navigation() -> None:
    """Route a first visit that lands straight on a page through streamlit_app.py.

    Streamlit treats a folder named pages/ as the old file-based navigation
    until some session has run the entry point's st.navigation. A server's
    first visitor who opens /segment directly would otherwise get that old
    menu (listing helper modules as pages). Clearing the flag and rerunning
    makes Streamlit run the entry point, which then shows this same page.
    """
    check_streamlit()
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


def keep_prepared_models_between_runs() -> None:
    """Stop Streamlit's after-run `keras.backend.clear_session()` from discarding the model's prepared graph.

    Streamlit calls it after every script run (its scriptrunner's `_clean_problem_modules`) to
    free Keras models that a script builds on each run. This app builds none per run: models
    are cached by `_load_predictor`. The call also empties TensorFlow's kernel cache, so the
    next inference instantiated and optimised the graph again: 120-160 ms on the first image
    of every interaction (experiments/LOG.md, "Speed"). Training runs in its own process.
    """
    check_streamlit()
    import keras

    if not getattr(keras.backend.clear_session, "keeps_prepared_models", False):
        def clear_session_kept(*args, **kwargs) -> None:
            return None

        clear_session_kept.keeps_prepared_models = True
        keras.backend.clear_session = clear_session_kept
