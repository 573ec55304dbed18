"""The audit log: who made which model active, deleted one, started or cancelled training, and when.
(The dataset audit is another thing: core.data.dataset_audit.)

One JSON object per line, appended with O_APPEND in a single write, so
records from several sessions or processes never interleave, and the file is
never rewritten or truncated by the app. A line that cannot be parsed (a
disk that filled mid-write) is skipped when reading, never "repaired".
The log lives at ``<runs folder>/audit.jsonl`` unless ``[access] audit_log``
names another file.
"""
from __future__ import annotations

import json
import os
import time

from core.locations import runs_dir


def log_path(configured: str | None = None) -> str:
    return configured or os.path.join(runs_dir(), "audit.jsonl")


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


def read(path: str, last: int | None = None) -> list[dict]:
    """The records, oldest first (only the last ``last`` when given); unparseable lines are skipped."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records[-last:] if last else records
