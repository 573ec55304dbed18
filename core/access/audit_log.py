"""The audit log: who made which model active, deleted one, started or cancelled training, and when.
(The dataset audit is another thing: core.data.dataset_audit.)

One JSON object per line, appended with O_APPEND in a single write, so
records from several sessions or processes never interleave, and the file is
never rewritten or truncated by the app. A line that cannot be parsed (a
disk that filled mid-write) is skipped when reading, never "repaired".
The log lives at ``<runs folder>/audit.jsonl`` unless ``[access] audit_log``
names another file.

An action that must be recorded checks first that the log can be written (``ensure_writable``): a log that cannot
take the record (a full disk, a read-only folder) refuses the action with ``AuditLogError`` before anything is
changed, so nothing happens that the log does not hold. A refusal stands whether or not the log can take it;
one the log cannot take goes to the server's own log instead (``record_refusal``), so it is not lost silently.
"""
from __future__ import annotations

import json
import logging
import os
import time

from core.locations import runs_dir


def log_path(configured: str | None = None) -> str:
    return configured or os.path.join(runs_dir(), "audit.jsonl")


class AuditLogError(OSError):
    """The audit log cannot be written; the message names the file and the reason, and says nothing was changed."""


def ensure_writable(path: str) -> None:
    """Open the log for appending (creating it and its folder) and close it; AuditLogError when that fails."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640))
    except OSError as exc:
        raise AuditLogError(f"the audit log {path} cannot be written ({exc.strerror or exc}), so nothing was "
                            "changed; free space or fix its folder's permissions, or set [access] audit_log "
                            "to a writable file") from exc


def append(path: str, who: str, action: str, **details) -> dict:
    """Append one record; returns it. Raises OSError when the log cannot be written."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "who": who, "action": action, **details}
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return record


def record_refusal(path: str, who: str, wanted: str, **details) -> None:
    """Record that ``who`` was refused ``wanted``. When the audit log cannot take it (a full disk, a read-only
    folder), the refusal still stands, and the server's log gets it, naming the audit log and why."""
    try:
        append(path, who, "refused", wanted=wanted, **details)
    except OSError as exc:
        logging.getLogger(__name__).warning(
            "refused %s to %s (%s); the audit log %s could not record it: %s", wanted, who,
            json.dumps(details, ensure_ascii=False, default=str), path, exc.strerror or exc)


def read(path: str, last: int | None = None) -> list[dict]:
    """The records, oldest first (only the last ``last`` when given); unparseable lines are skipped. No file yet:
    []. A log that cannot be read: AuditLogError, naming it and why."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AuditLogError(f"the audit log {path} cannot be read ({exc.strerror or exc})") from exc
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records[-last:] if last else records
