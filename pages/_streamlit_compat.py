"""Streamlit internals the app works around, each kept here, behind a check of the Streamlit version.

``ensure_app_navigation`` resets ``PagesManager.uses_pages_directory`` (a private flag) so a first visit straight
to a page gets the app's navigation; ``keep_prepared_models_between_runs`` stops the ``keras.backend.clear_session``
call Streamlit's script runner makes after every run; ``free_closed_sessions`` shuts down the sessions of closed tabs
once their reconnect window has passed, which this Streamlit never does by itself. All depend on how this Streamlit
works inside, which changes without notice, so each checks first that Streamlit is a version they were tested on and
refuses any other: on a new Streamlit, run tests/pages and tests/e2e (and bench/bench_load.py for the last), see
whether each is still needed, and add the version to TESTED_STREAMLIT.
"""
from __future__ import annotations

import threading
import time

import streamlit as st

from core.analysis.memory import release_unused_memory
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


REAP_EVERY_S = 5.0
_reaper_lock = threading.Lock()
_reaper: threading.Thread | None = None


def free_closed_sessions(every_s: float = REAP_EVERY_S) -> None:
    """Shut down the sessions of closed tabs once their reconnect window has passed; set up once per server.

    A closed tab's session is kept for a reconnect for server.disconnectedSessionTTL seconds, in Streamlit's
    session storage (a TTL cache). In Streamlit 1.67 an expired entry leaves that cache only when something else
    writes to it, and then it is just dropped, never shut down: its uploaded files (held by the uploaded-file
    manager under the session's id) and its media files stay in memory for the life of the server.
    bench/bench_load.py measured the server 45 s after four sessions closed 221 MB above its warm level, growing
    with every round. This hooks the storage so that a session leaving it by expiry or eviction is shut down on
    the event loop, as Streamlit shuts down a session itself (a reconnect or a close, which delete it explicitly,
    are left to Streamlit), and starts a thread that expires the storage every ``every_s`` seconds. Outside a
    running server (AppTest's stand-in runtime) it does nothing."""
    global _reaper
    check_streamlit()
    from streamlit import runtime
    from streamlit.runtime.runtime import Runtime

    if not runtime.exists() or type(runtime.get_instance()) is not Runtime:  # AppTest: a MagicMock(spec=Runtime)
        return
    with _reaper_lock:
        if _reaper is not None and _reaper.is_alive():
            return
        rt = runtime.get_instance()
        loop = rt._get_async_objs().eventloop
        shut_down_on_expiry(rt._session_mgr._session_storage, loop.call_soon_threadsafe)
        _reaper = threading.Thread(target=_reap_forever, args=(rt, loop, every_s), name="closed-session-reaper",
                                   daemon=True)
        _reaper.start()


def shut_down_on_expiry(storage, call_soon) -> None:
    """Make the MemorySessionStorage ``storage`` shut down every session that leaves it other than through its
    ``delete`` (a reconnect or a close): call_soon(fn) runs fn on the event loop."""
    deleting = threading.local()  # the session id an explicit delete is removing, on this thread
    original_delete = storage.delete

    def delete(session_id: str) -> None:
        deleting.id = session_id
        try:
            original_delete(session_id)
        finally:
            deleting.id = None

    def removed(session_id: str, info) -> None:
        if session_id != getattr(deleting, "id", None):
            call_soon(_shut_down, info.session)

    storage.delete = delete
    storage._cache._on_remove = removed


def _shut_down(session) -> None:
    session.shutdown()
    release_unused_memory()  # its arrays are garbage now: collect them and hand the heap back to the OS


def _reap_forever(rt, loop, every_s: float) -> None:
    while not loop.is_closed():
        time.sleep(every_s)
        try:
            loop.call_soon_threadsafe(expire_stored_sessions, rt)
        except RuntimeError:  # the loop closed: the server is stopping
            return


def expire_stored_sessions(rt) -> int:
    """On the event loop thread, where Streamlit's session manager works: take every stored session whose
    reconnect window has passed out of the storage (the hook above shuts each down). Returns how many."""
    manager = rt._session_mgr
    with manager._storage_lock:  # the storage's cache is not thread-safe; the manager guards it with this lock
        return len(manager._session_storage._cache.expire())
