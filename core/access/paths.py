"""Which server folders the Train and Evaluate pages may read: those inside the configured data roots.

A folder is inside a root when its real path (every symlink and ``..``
resolved) is the root's real path or lies under it, so neither
``/data/us/../../etc`` nor a symlink from inside a root to elsewhere gets out.
With no roots configured, a local (no sign-in) app reads any folder, as it
always did; an app with sign-in reads none, because an unset list must not
mean "the whole server" to whoever can sign in. The app's own ``samples/``
folder is always readable: it ships with the code.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from core.locations import SAMPLES_DIR

SHIPPED_SAMPLES = SAMPLES_DIR


def inside(path: str, root: str) -> bool:
    """True when path, resolved, is root (resolved) or lies under it."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([real, top]) == top


def refusal(path: str, roots: Iterable[str] | None, sign_in: bool) -> str | None:
    """Why path may not be read, or None when it may."""
    if roots is None and not sign_in:
        return None
    if not os.path.isabs(path):
        return f"{path}: give the folder's full path (starting with /)"
    allowed = [*(roots or ()), SHIPPED_SAMPLES]
    if any(inside(path, r) for r in allowed):
        return None
    if not roots:
        return (f"{path}: this shared app reads no server folders until an admin lists them in the secrets' "
                "[access] data_roots")
    return f"{path} is outside the data folders this app may read ({', '.join(roots)})"


def refusals(paths: Iterable[str], roots: Iterable[str] | None, sign_in: bool) -> list[str]:
    """One message per refused path, in the order given."""
    roots = None if roots is None else list(roots)
    return [m for m in (refusal(p, roots, sign_in) for p in paths) if m]
