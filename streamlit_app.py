"""Home page and navigation of the breast-ultrasound segmentation app."""
from __future__ import annotations

import os

import streamlit as st

from core.access.roles import TRAIN
from core.cards.modelcard import BUSBRA_CITATION, CITATION, headline_rows, known_limits, read_card
from core.cards.registry import active_model_path
from pages._access_ui import access_or_stop, account_ui, identity
from pages._streamlit_compat import free_closed_sessions

st.set_page_config(page_title="BUSI lesion segmentation", page_icon="🩺", layout="wide")
free_closed_sessions()  # a closed tab's images and results leave the server's memory (pages/_streamlit_compat.py)


def home() -> None:
    from core.inference.predictor import choose_engine
    from core.runtime import cpu_description, describe_device
    from pages._common import DISCLAIMER, tensorflow_imported

    st.title("Breast-ultrasound lesion segmentation")
    st.warning(f"**{DISCLAIMER}** Every mask and figure here is for a clinician to review.")
    path = active_model_path()
    card = read_card(path) if os.path.isfile(path) else None
    col1, col2 = st.columns(2)
    with col1:
        st.subheader("Active model")
        if not os.path.isfile(path):
            st.error(f"No model file at `{path}`. Restore it with `git checkout weights/` or train one on the Train page.")
        else:
            st.write(f"`{os.path.relpath(path)}`")
            if card:
                st.write(card.architecture.summary or "")
                st.dataframe(headline_rows(card), hide_index=True)
                st.caption("Each figure on images the model never trained on, with its 95 % interval. 'Own test "
                           "split': held-out images of the datasets it trained on; 'never saw': a network of the same "
                           f"design trained on one dataset, scored on another. Default threshold {card.threshold}.")
                with st.expander("Known limits of this model"):
                    st.markdown("\n".join(f"- {x}" for x in known_limits(card)))
            else:
                st.info("This model has no model card, so its accuracy is unknown.")
    with col2:
        st.subheader("Device")
        if choose_engine() == "keras":
            tensorflow_imported()
            st.write(describe_device())
        else:  # no GPU: models run on ONNX Runtime, and this page never waits on importing TensorFlow
            st.write(f"{cpu_description()}, ONNX Runtime")
        st.subheader("Start")
        st.page_link(segment_page, label="Segment images", icon="🔍")
        if who.can(TRAIN):
            st.page_link(train_page, label="Train a model", icon="🏋️")
        st.page_link(evaluate_page, label="Evaluate a model", icon="📊")
    st.caption(f"Data: BUSI — {CITATION}; BUS-BRA — {BUSBRA_CITATION}. Uploaded images stay in memory and are never "
               "stored or sent anywhere.")


def gate() -> None:
    access_or_stop()  # shows the sign-in, or says there is no access, and stops


# The gate comes before any page: a visitor who has not signed in (or has no
# role) gets a navigation holding only the gate, whatever URL they opened.
who = identity()
if who is None or who.role is None:
    st.navigation([st.Page(gate, title="Sign in", icon="🔑", default=True)], position="hidden").run()
    st.stop()
account_ui(who)
home_page = st.Page(home, title="Home", icon="🏠", default=True)
segment_page = st.Page("pages/segment.py", title="Segment", icon="🔍", url_path="segment")
train_page = st.Page("pages/train.py", title="Train", icon="🏋️", url_path="train")
evaluate_page = st.Page("pages/evaluate.py", title="Evaluate", icon="📊", url_path="evaluate")
st.navigation([home_page, segment_page, *([train_page] if who.can(TRAIN) else []), evaluate_page]).run()
