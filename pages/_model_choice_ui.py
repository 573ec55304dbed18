"""Which model segments this session's images: the active one, or another picked for this session only.

Picking here never changes the server-wide active model (an admin's change,
on the Train page): the choice lives in this browser session and is gone
when it ends. Left on "the active model", the session follows whatever
model an admin makes active.
"""
from __future__ import annotations

import streamlit as st

from core.cards.registry import list_models


def session_model_ui() -> str | None:
    """The model path this session chose, or None for the server-wide active model."""
    models = list_models()
    if not models:
        return None
    active = next((m.name for m in models if m.active), "default")
    labels = {None: f"The active model ({active})", **{m.path: f"{m.name} ({m.source})" for m in models}}
    return st.sidebar.selectbox("Model for this session", list(labels), format_func=labels.get, key="session_model",
                                help="Only your session uses it; the active model for everyone else is unchanged.")
