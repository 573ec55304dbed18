"""The Segment page's PACS panel, shown when ``[pacs]`` is configured: find a study, open its images, send results.

The images fetched stay in the session's memory (``pacs_uploads``), like uploads. Pulls and stores go through
core.access.pacs_actions, which checks the role and writes the audit record by study UID.
"""
from __future__ import annotations

import streamlit as st

from core.access import pacs_actions
from core.access.roles import AccessConfig, AccessDenied, Identity
from core.analysis import segment as an
from core.pacs.dicomweb import Pacs, PacsConfigError, PacsError, pacs_config

STUDIES, UPLOADS, STUDY_OF = "pacs_studies", "pacs_uploads", "pacs_study_of"


def pacs_or_none() -> Pacs | None:
    secrets = st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    try:
        config = pacs_config(secrets)
    except PacsConfigError as exc:
        st.error(f"The PACS settings in secrets.toml are wrong: {exc}")
        return None
    return None if config is None else Pacs(config)


def pacs_ui(pacs: Pacs | None, who: Identity, access: AccessConfig) -> list[an.Upload]:
    """The panel (when a PACS is configured); returns the images opened from it, as uploads."""
    if pacs is None:
        return []
    with st.expander("PACS: open a study", expanded=not st.session_state.get(UPLOADS)):
        c = st.columns([2, 2, 2, 1])
        patient = c[0].text_input("Patient ID", key="pacs_patient")
        accession = c[1].text_input("Accession number", key="pacs_accession")
        date = c[2].text_input("Study date (YYYYMMDD)", key="pacs_date")
        if c[3].button("Find", key="pacs_find", disabled=not (patient or accession or date)):
            try:
                st.session_state[STUDIES] = pacs.find_studies(patient, accession, date)
            except PacsError as exc:
                st.error(str(exc))
        studies = st.session_state.get(STUDIES)
        if studies is not None and not studies:
            st.info("No study on the PACS matches.")
        if studies:
            labels = {s.study_uid: f"{s.date} · {s.patient_id} · {s.accession or 'no accession'} · "
                                   f"{s.description or s.modalities}" for s in studies}
            uid = st.selectbox("Study", list(labels), format_func=labels.get, key="pacs_study")
            if st.button("Open its ultrasound images", key="pacs_open"):
                try:
                    images = pacs_actions.pull(who, access, pacs, uid)
                except (PacsError, AccessDenied, OSError) as exc:  # OSError: the audit log cannot be written
                    st.error(str(exc))
                else:
                    if not images:
                        st.info("The study has no ultrasound images.")
                    st.session_state[UPLOADS] = [an.Upload(name, data) for name, data in images]
                    st.session_state[STUDY_OF] = {name: uid for name, _ in images}
    return list(st.session_state.get(UPLOADS, []))


def store_ui(pacs: Pacs | None, who: Identity, access: AccessConfig, a: an.Analysis, v: an.View,
             model_path: str, mm_per_px: float | None) -> None:
    """For an image opened from the PACS: one button that sends its (edited) SEG and SR back into its study."""
    study = st.session_state.get(STUDY_OF, {}).get(a.name)
    if pacs is None or study is None:
        return
    label = "Send the edited SEG and SR to the PACS" if v.edited else "Send the SEG and SR to the PACS"
    if st.button(label, key="pacs_store", type="primary"):
        from core.report.dicomexport import dicom_outputs

        out = dicom_outputs(a, v, model_path, mm_per_px)
        if out.problem:
            st.error(f"Nothing was sent: {out.problem}.")
            return
        try:
            pacs_actions.store(who, access, pacs, study, [out.seg, out.sr])
        except (PacsError, AccessDenied, OSError) as exc:  # OSError: the audit log cannot be written
            st.error(str(exc))
        else:
            st.success("The SEG and SR are stored in the study on the PACS."
                       + (f" The SEG {out.note}." if out.note else ""))
