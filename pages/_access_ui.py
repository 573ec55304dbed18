"""Sign-in and roles on the pages: the gate every page passes, who is signed in, folder checks, the audit log.

The secrets and ``st.user`` are read here, once per run, and handed to
core.access as plain dicts; the decisions are made there.
"""
from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from core.access import audit_log
from core.access.paths import refusals
from core.access.roles import AccessConfig, AccessConfigError, Identity, access_config, identify

ONLY_ADMINS = "Training and managing models is for this app's admins; ask one to train or change the model."


def current_user() -> dict:
    """The signed-in user's claims (is_logged_in, email, name, ...); empty without sign-in."""
    return st.user.to_dict()


def access_settings() -> AccessConfig:
    """The [auth] and [access] secrets, parsed; a broken [access] stops the page with the reason."""
    # no secrets file at all is the local, no-sign-in mode
    secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    try:
        return access_config(secrets)
    except AccessConfigError as exc:
        st.error(f"The access settings in secrets.toml are wrong: {exc}")
        st.stop()


def identity() -> Identity | None:
    return identify(current_user(), access_settings())


def sign_in_ui(config: AccessConfig) -> None:
    st.title("Breast-ultrasound lesion segmentation")
    st.write("This app is shared: sign in with your hospital account to continue.")
    for provider in config.providers or (None,):
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        if st.button(label, type="primary", key=f"sign_in_{provider or 'default'}"):
            st.login(provider)


def sign_out_button(where=st) -> None:
    if where.button("Sign out", key="sign_out"):
        st.logout()


def access_or_stop(action: str | None = None) -> Identity:
    """The session's identity, when it may use the app (and do action); otherwise say why and stop."""
    config = access_settings()
    who = identify(current_user(), config)
    if who is None:
        sign_in_ui(config)
        st.stop()
    if who.role is None:
        st.error(f"You are signed in as {who.who}, but this app has not given you access. "
                 "Ask its administrator to add you.")
        sign_out_button()
        st.stop()
    if action and not who.can(action):
        st.info(ONLY_ADMINS)
        st.stop()
    return who


def account_ui(who: Identity) -> None:
    """Who is signed in, in which role, and the sign-out; nothing for the local user."""
    if not access_settings().sign_in:
        return
    with st.sidebar:
        st.caption(f"Signed in as **{who.name}** ({who.who}) · {who.role}")
        sign_out_button()


def allowed_paths(paths: list[str], app_made: Iterable[str] = ()) -> list[str]:
    """paths, when every one may be read; otherwise an error for each refused one and no paths at all."""
    config = access_settings()
    made = set(app_made)
    refused = refusals([p for p in paths if p not in made], config.data_roots, config.sign_in)
    for message in refused:
        st.error(f"Refused: {message}.")
    return [] if refused else paths


def audit_log_ui(who: Identity, last: int = 200) -> None:
    """The audit log, newest first, for those allowed to read it."""
    if not who.can("read_audit"):
        return
    path = audit_log.log_path(access_settings().audit_log)
    try:
        records = audit_log.read(path, last=last)
    except audit_log.AuditLogError as exc:
        st.warning(f"The audit log is not shown: {exc}.")
        return
    with st.expander(f"Audit log ({len(records)} most recent changes)"):
        st.caption(f"Append-only, one JSON record a line: `{path}`")
        if records:
            st.dataframe(list(reversed(records)), hide_index=True)
