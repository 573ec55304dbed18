"""Atomic file writes: a reader never sees a half-written status, card or model.

Everything is written to a temporary file in the same folder and then moved
into place with ``os.replace``, which is atomic on one filesystem.
"""
from __future__ import annotations

import json
import os
import tempfile


def _tmp_path(path: str) -> str:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    os.close(fd)
    return tmp


def _keep_mode(tmp: str, path: str) -> None:
    """Give the temporary file the mode the target has, or 0644 for a new file.

    mkstemp creates 0600 files, which would make a shipped model or card
    unreadable to the other users of a shared server once it is moved into place.
    """
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        mode = 0o644
    os.chmod(tmp, mode)


def write_bytes_atomic(path: str, data: bytes) -> None:
    tmp = _tmp_path(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(tmp, path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path: str, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str, payload) -> None:
    write_text_atomic(path, json.dumps(payload, indent=1, default=_jsonable) + "\n")


def read_json(path: str, default=None):
    """Read JSON, or return ``default`` when the file is missing or unreadable."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return default


def save_model_atomic(model, path: str) -> None:
    """Save a Keras model so ``path`` is either the old file or the complete new one."""
    suffix = os.path.splitext(path)[1] or ".keras"
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        model.save(tmp)
        _keep_mode(tmp, path)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _jsonable(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
