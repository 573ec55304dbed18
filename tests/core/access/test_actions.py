"""core.access.actions: admin-only changes are refused for anyone else, in code, and every one is recorded."""
import os
import shutil

import pytest

from core.access import actions, audit_log
from core.access.roles import AccessDenied, access_config, identify
from core.cards import registry
from core.training import jobs
from core.training.settings import TrainSettings

SECRETS = {"auth": {"client_id": "c"}, "access": {"admins": ["alice@h.org"], "clinicians": ["*@h.org"]}}


def who(email):
    return identify({"is_logged_in": True, "email": email}, access_config(SECRETS))


@pytest.fixture
def two_models(isolated_dirs):
    weights, _ = isolated_dirs
    for ext in (".keras", ".card.json"):
        shutil.copy(weights / f"default{ext}", weights / f"other{ext}")
    return str(weights / "default.keras"), str(weights / "other.keras")


def test_a_clinician_cannot_activate_delete_train_or_cancel_and_the_attempt_is_recorded(two_models):
    default, other = two_models
    config = access_config(SECRETS)
    carol = who("carol@h.org")
    with pytest.raises(AccessDenied):
        actions.make_active(carol, config, other)
    with pytest.raises(AccessDenied):
        actions.delete_model(carol, config, other)
    with pytest.raises(AccessDenied):
        actions.start_training(carol, config, TrainSettings(data="/data/busi"))
    with pytest.raises(AccessDenied):
        actions.cancel_training(carol, config)
    assert registry.active_model_path() == default and os.path.exists(other) and jobs.current_job() is None
    log = audit_log.read(audit_log.log_path())
    assert [(r["who"], r["action"], r["wanted"]) for r in log] == [
        ("carol@h.org", "refused", "activate"), ("carol@h.org", "refused", "delete"),
        ("carol@h.org", "refused", "train"), ("carol@h.org", "refused", "train")]


def test_an_admin_activates_and_deletes_and_both_are_recorded(two_models):
    default, other = two_models
    config = access_config(SECRETS)
    actions.make_active(who("alice@h.org"), config, other)
    assert registry.active_model_path() == other
    actions.make_active(who("ALICE@h.org"), config, default)
    actions.delete_model(who("alice@h.org"), config, other)
    assert not os.path.exists(other)
    log = audit_log.read(audit_log.log_path())
    assert [(r["who"], r["action"], r["model"]) for r in log] == [
        ("alice@h.org", "activate_model", other), ("alice@h.org", "activate_model", default),
        ("alice@h.org", "delete_model", other)]
    assert log[0]["previous"] == default


def test_training_on_a_folder_outside_the_data_roots_is_refused_before_any_job_starts(isolated_dirs, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    config = access_config({**SECRETS, "access": {**SECRETS["access"], "data_roots": [str(root)]}})
    with pytest.raises(AccessDenied, match="outside the data folders"):
        actions.start_training(who("alice@h.org"), config, TrainSettings(data=[str(root), f"{root}/../elsewhere"]))
    assert jobs.current_job() is None and not [r for r in audit_log.read(audit_log.log_path())
                                               if r["action"] == "start_training"]


def test_the_configured_audit_log_is_used(two_models, tmp_path):
    _, other = two_models
    path = str(tmp_path / "elsewhere" / "audit.jsonl")
    config = access_config({**SECRETS, "access": {**SECRETS["access"], "audit_log": path}})
    actions.make_active(who("alice@h.org"), config, other)
    assert audit_log.read(path)[0]["action"] == "activate_model" and audit_log.read(audit_log.log_path()) == []


def test_an_unwritable_audit_log_refuses_every_change_before_anything_changes(two_models, tmp_path):
    default, other = two_models
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")  # deterministic, even for root
    config = access_config({**SECRETS, "access": {**SECRETS["access"], "audit_log": str(blocker / "audit.jsonl")}})
    alice = who("alice@h.org")
    with pytest.raises(audit_log.AuditLogError, match="cannot be written .*nothing was changed"):
        actions.make_active(alice, config, other)
    with pytest.raises(audit_log.AuditLogError):
        actions.delete_model(alice, config, other)
    with pytest.raises(audit_log.AuditLogError):
        actions.start_training(alice, config, TrainSettings(data="/data/busi"))
    assert registry.active_model_path() == default and os.path.exists(other) and jobs.current_job() is None
    with pytest.raises(AccessDenied):  # a refusal stands though the log cannot take it
        actions.make_active(who("carol@h.org"), config, other)


def test_a_site_gate_version_is_written_only_for_those_who_may_train_and_is_recorded(isolated_dirs, tmp_path):
    from core.evaluation.site_fit import SiteFit
    from tests.helpers import card_json

    weights, runs = isolated_dirs
    config = access_config({**SECRETS, "access": {**SECRETS["access"], "data_roots": [str(tmp_path)]}})
    held = {k: {"objective": 0.5, "dice": 0.5, "false_alarm_rate": 0.5} for k in ("card", "site")}
    fit = SiteFit(str(weights / "default.keras"), 0.5, None, 0.8, None, 20, 20, held, [])
    with pytest.raises(AccessDenied):
        actions.write_site_version(who("carol@h.org"), config, fit, "St Elsewhere", [str(tmp_path)])
    assert not runs.exists() or not [d for d in os.listdir(runs) if d.startswith("site-")]
    path = actions.write_site_version(who("alice@h.org"), config, fit, "St Elsewhere", [str(tmp_path)])
    assert card_json(path)["lesion_gate"]["min_score"] == 0.8
    log = audit_log.read(audit_log.log_path())
    assert [(r["who"], r["action"]) for r in log] == [("carol@h.org", "refused"), ("alice@h.org", "fit_site_gate")]
    assert log[1]["model"] == path and log[1]["site"] == "St Elsewhere"
