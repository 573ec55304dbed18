"""Safe extraction of an uploaded dataset zip into a temporary folder.

Refused outright: entries with '..' or absolute paths, links, encrypted
entries, more than ``max_files`` entries, or more than ``max_bytes`` once
extracted (counted while writing, so a lying header cannot exceed it).
Nothing is written outside the destination folder; on refusal the partial
extraction is removed.

Extractions are temporary: training deletes its own once decoded, the Train
page deletes one the user replaced or abandoned, and any left behind by a
closed browser tab are deleted after STALE_AFTER_S.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile

MAX_FILES = 5000
MAX_BYTES = 2 * 1024 ** 3
PREFIX = "busi_upload_"
STALE_AFTER_S = 12 * 3600


class UnsafeZipError(ValueError):
    """The archive was refused; the message says why."""


def _check_member(info: zipfile.ZipInfo) -> str:
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise UnsafeZipError(f"the zip entry '{info.filename}' points outside the archive; refused")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeZipError(f"the zip entry '{info.filename}' is a link; links are refused")
    if info.flag_bits & 0x1:
        raise UnsafeZipError(f"the zip entry '{info.filename}' is encrypted; upload an unencrypted zip")
    return "/".join(parts)


def extract_zip(source, dest: str | None = None, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES) -> str:
    """Extract a zip (path or file object) into dest (a new temp folder by default); return the folder."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeZipError(f"not a readable zip file ({exc})") from exc
    made = dest is None
    dest = os.path.abspath(dest or tempfile.mkdtemp(prefix=PREFIX))
    try:
        with zf:
            members = zf.infolist()
            if len(members) > max_files:
                raise UnsafeZipError(f"the zip holds {len(members)} entries, more than the limit of {max_files}")
            names = [_check_member(m) for m in members]  # vet everything before writing anything
            if sum(m.file_size for m in members) > max_bytes:
                raise UnsafeZipError(f"the zip would extract to more than {max_bytes / 1e9:.1f} GB")
            written = 0
            for info, rel in zip(members, names):
                if not rel:
                    continue
                target = os.path.abspath(os.path.join(dest, rel))
                if os.path.commonpath([dest, target]) != dest:
                    raise UnsafeZipError(f"the zip entry '{info.filename}' points outside the archive; refused")
                if info.is_dir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise UnsafeZipError(f"the zip extracts to more than {max_bytes / 1e9:.1f} GB")
                        out.write(chunk)
    except Exception:
        if made:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def extraction_root(folder: str) -> str | None:
    """The temporary extraction folder that holds ``folder``, or None if it is not one of ours."""
    tmp = os.path.abspath(tempfile.gettempdir())
    top = os.path.abspath(folder)
    while os.path.dirname(top) not in (tmp, top):
        top = os.path.dirname(top)
    if os.path.dirname(top) == tmp and os.path.basename(top).startswith(PREFIX):
        return top
    return None


def is_extraction(folder: str) -> bool:
    """Whether ``folder`` lies in a temporary extraction made by extract_zip (and so may be deleted after use)."""
    return extraction_root(folder) is not None


def remove_extraction(folder: str) -> str | None:
    """Delete the extraction holding ``folder``; anything else is left untouched. Returns what was removed."""
    root = extraction_root(folder)
    if root and os.path.isdir(root):
        shutil.rmtree(root, ignore_errors=True)
        return root
    return None


def forget_extractions(extracted: dict[str, str], keep: str | None = None) -> None:
    """Delete every extraction in ``extracted`` (upload id -> folder) except ``keep``'s, and drop it from the dict."""
    for upload_id in [k for k in extracted if k != keep]:
        remove_extraction(extracted.pop(upload_id))


def remove_stale_extractions(max_age_s: float = STALE_AFTER_S, now: float | None = None) -> list[str]:
    """Delete extractions untouched for max_age_s (a tab closed before training started)."""
    import time

    now = time.time() if now is None else now
    tmp = tempfile.gettempdir()
    removed = []
    for name in os.listdir(tmp):
        path = os.path.join(tmp, name)
        try:
            old = name.startswith(PREFIX) and os.path.isdir(path) and now - os.path.getmtime(path) > max_age_s
        except OSError:
            continue
        if old and remove_extraction(path):
            removed.append(path)
    return removed
