"""The changes only admins may make, each checked against the user's role and written to the audit log.

The pages call these instead of the registry and the job runner directly, so
the check sits in the code path: a clinician's session that forged a click on
a hidden button is refused here, and the refusal is recorded too. A change is
made only when the audit log can be written (audit_log.AuditLogError otherwise,
raised before anything changes).
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from core.access import audit_log
from core.access.paths import refusals
from core.access.roles import ACTIVATE, DELETE, TRAIN, AccessConfig, AccessDenied, Identity
from core.cards import registry
from core.evaluation import site_fit
from core.training import jobs
from core.training.settings import TrainSettings


def _allowed(who: Identity, action: str, config: AccessConfig, **details) -> None:
    """Raise AccessDenied (and record the attempt) unless who may do action."""
    path = audit_log.log_path(config.audit_log)
    try:
        who.require(action)
    except AccessDenied:
        audit_log.record_refusal(path, who.who, action, **details)
        raise
    audit_log.ensure_writable(path)


def make_active(who: Identity, config: AccessConfig, path: str) -> None:
    """Make path the server-wide active model."""
    _allowed(who, ACTIVATE, config, model=path)
    before = registry.active_model_path()
    registry.set_active_model(path)
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "activate_model", model=os.path.abspath(path),
                 previous=before)


def delete_model(who: Identity, config: AccessConfig, path: str) -> None:
    _allowed(who, DELETE, config, model=path)
    registry.delete_model(path)
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "delete_model", model=os.path.abspath(path))


def start_training(who: Identity, config: AccessConfig, settings: TrainSettings, app_made: Iterable[str] = ()) -> str:
    """Start a training job; its folders must lie inside the data roots unless the app made them (a zip's extraction)."""
    _allowed(who, TRAIN, config)
    data = list(settings.data)
    made = set(app_made)
    refused = refusals([d for d in data if d not in made], config.data_roots, config.sign_in)
    if refused:
        raise AccessDenied("; ".join(refused))
    run_dir = jobs.start_job(settings)
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "start_training", run=os.path.basename(run_dir),
                 data=data, epochs=settings.epochs)
    return run_dir


def cancel_training(who: Identity, config: AccessConfig) -> bool:
    _allowed(who, TRAIN, config)
    running = jobs.current_job()
    cancelled = jobs.cancel_job()
    if cancelled:
        audit_log.append(audit_log.log_path(config.audit_log), who.who, "cancel_training",
                     run=os.path.basename(running or ""))
    return cancelled


def write_site_version(who: Identity, config: AccessConfig, fit: site_fit.SiteFit, site: str, folders: list[str]) -> str:
    """Write the model with the no-lesion gate fitted on a site's own images as a new version (core.evaluation.site_fit).
    A new model file, as training writes one: the same permission; making it active stays ACTIVATE's."""
    _allowed(who, TRAIN, config, site=site)
    refused = refusals(folders, config.data_roots, config.sign_in)
    if refused:
        raise AccessDenied("; ".join(refused))
    path = site_fit.write_site_model(fit, site, folders)
    audit_log.append(audit_log.log_path(config.audit_log), who.who, "fit_site_gate", model=path,
                     source=os.path.abspath(fit.model), site=site, gate=fit.gate, replaced_gate=fit.card_gate)
    return path
