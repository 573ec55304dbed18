"""core.access.audit_log: append-only JSON lines, never rewritten, readable line by line."""
import json
import os

from core.access import audit_log


def test_records_are_appended_one_json_object_a_line(tmp_path):
    path = str(tmp_path / "logs" / "audit.jsonl")
    audit_log.append(path, "alice@hospital.org", "activate_model", model="/w/a.keras")
    first = open(path, "rb").read()
    audit_log.append(path, "bob@hospital.org", "delete_model", model="/w/b.keras")
    raw = open(path, "rb").read()
    assert raw.startswith(first)                    # the first record is untouched
    lines = raw.decode().splitlines()
    assert len(lines) == 2
    rec = [json.loads(x) for x in lines]
    assert [r["who"] for r in rec] == ["alice@hospital.org", "bob@hospital.org"]
    assert [r["action"] for r in rec] == ["activate_model", "delete_model"]
    assert rec[1]["model"] == "/w/b.keras" and rec[1]["time"].endswith("Z")
    assert audit_log.read(path) == rec and audit_log.read(path, last=1) == rec[1:]


def test_appending_never_truncates_even_an_existing_foreign_line(tmp_path):
    path = tmp_path / "audit.jsonl"
    path.write_text('{"who": "earlier", "action": "x"}\nnot json, a torn line\n')
    audit_log.append(str(path), "alice", "cancel_training", run="r1")
    text = path.read_text()
    assert text.startswith('{"who": "earlier", "action": "x"}\nnot json, a torn line\n')
    assert [r["who"] for r in audit_log.read(str(path))] == ["earlier", "alice"]  # the torn line is skipped


def test_the_file_is_opened_for_appending(tmp_path, monkeypatch):
    flags = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, f, *a: flags.append(f) or real_open(p, f, *a))
    audit_log.append(str(tmp_path / "a.jsonl"), "alice", "start_training")
    assert flags and flags[0] & os.O_APPEND and not flags[0] & os.O_TRUNC


def test_default_place_is_the_runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("BUSI_RUNS_DIR", str(tmp_path / "runs"))
    assert audit_log.log_path() == str(tmp_path / "runs" / "audit.jsonl")
    assert audit_log.log_path("/var/log/app/audit.jsonl") == "/var/log/app/audit.jsonl"
    assert audit_log.read(audit_log.log_path()) == []


def test_a_refusal_the_log_cannot_take_goes_to_the_servers_log(tmp_path, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the log's folder should be")
    path = str(blocker / "audit.jsonl")
    with caplog.at_level("WARNING", logger="core.access.audit_log"):
        audit_log.record_refusal(path, "carol@h.org", "pacs_store", study="1.2.3")
    (message,) = [r.getMessage() for r in caplog.records]
    assert "refused pacs_store to carol@h.org" in message and "1.2.3" in message and path in message


def test_a_refusal_the_log_can_take_is_appended_and_not_duplicated_elsewhere(tmp_path, caplog):
    path = str(tmp_path / "audit.jsonl")
    with caplog.at_level("WARNING", logger="core.access.audit_log"):
        audit_log.record_refusal(path, "carol@h.org", "activate", model="m.keras")
    (rec,) = audit_log.read(path)
    assert (rec["who"], rec["action"], rec["wanted"], rec["model"]) == ("carol@h.org", "refused", "activate", "m.keras")
    assert not caplog.records
