"""Safe extraction of an uploaded dataset zip into a temporary folder.

Refused outright: entries with '..' or absolute paths, links, encrypted
entries, more than ``max_files`` entries, or more than ``max_bytes`` once
extracted (counted while writing, so a lying header cannot exceed it).
Nothing is written outside the destination folder; on refusal the partial
extraction is removed.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile

MAX_FILES = 5000
MAX_BYTES = 2 * 1024 ** 3


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
    dest = os.path.abspath(dest or tempfile.mkdtemp(prefix="busi_upload_"))
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
