"""Pulling images from and storing results to the PACS, each checked against the user's role and audited.

Only roles allowed to segment may pull or store. Each pull and store (and each refusal) is one audit record
naming the study by its Study Instance UID and the objects by their SOP Instance UIDs, never the patient.
Nothing is pulled or sent while the audit log cannot be written (audit_log.AuditLogError).
"""
from __future__ import annotations

import io

from core.access import audit_log
from core.access.roles import SEGMENT, AccessConfig, AccessDenied, Identity
from core.pacs.dicomweb import Pacs, PacsError


def _allowed(who: Identity, config: AccessConfig, action: str, study_uid: str) -> None:
    path = audit_log.log_path(config.audit_log)
    try:
        who.require(SEGMENT)
    except AccessDenied:
        audit_log.record_refusal(path, who.who, action, study=study_uid)
        raise
    audit_log.ensure_writable(path)


def pull(who: Identity, config: AccessConfig, pacs: Pacs, study_uid: str) -> list[tuple[str, bytes]]:
    """The study's ultrasound images as (name, file bytes), in memory."""
    _allowed(who, config, "pacs_pull", study_uid)
    images = pacs.ultrasound_images(study_uid)
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "pacs_pull", study=study_uid, server=pacs.config.url,
                 images=len(images))
    return images


def store(who: Identity, config: AccessConfig, pacs: Pacs, study_uid: str, objects: list[bytes]) -> list[str]:
    """Send objects (SEG and SR, all of them or none: one STOW-RS request) into the study; their SOP Instance
    UIDs. An object of another study is refused before anything is sent."""
    import pydicom

    _allowed(who, config, "pacs_store", study_uid)
    headers = [pydicom.dcmread(io.BytesIO(b), stop_before_pixels=True) for b in objects]
    strays = [str(h.SOPInstanceUID) for h in headers if str(h.StudyInstanceUID) != study_uid]
    if strays:
        raise PacsError(f"{len(strays)} of the objects belong to another study; nothing was sent.")
    uids = [str(h.SOPInstanceUID) for h in headers]
    try:
        pacs.store(objects)
    except PacsError as exc:
        audit_log.append(audit_log.log_path(config.audit_log), who.who, "pacs_store_failed", study=study_uid,
                     server=pacs.config.url, objects=uids, reason=str(exc))
        raise
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "pacs_store", study=study_uid, server=pacs.config.url,
                 objects=uids, modalities=[str(h.Modality) for h in headers])
    return uids
