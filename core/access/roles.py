"""Roles: the ``[access]`` settings, a user's e-mail matched to a role, and what each role may do.

Without sign-in (no ``[auth]`` section in the secrets) the app has one user,
the person at this machine, who may do everything, exactly as before sign-in
existed. With sign-in, a user's e-mail is matched against the admins' patterns
first, then the clinicians'; someone matching neither has no access at all.
Patterns are shell globs on the whole address (``"*@hospital.org"``),
compared without regard to case.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

ADMIN, CLINICIAN = "admin", "clinician"
SEGMENT, EVALUATE, TRAIN, ACTIVATE, DELETE, READ_AUDIT = (
    "segment", "evaluate", "train", "activate", "delete", "read_audit")
PERMISSIONS = {
    ADMIN: frozenset({SEGMENT, EVALUATE, TRAIN, ACTIVATE, DELETE, READ_AUDIT}),
    CLINICIAN: frozenset({SEGMENT, EVALUATE}),
}
LOCAL_USER = "local user (no sign-in)"


class AccessDenied(PermissionError):
    """The user's role does not allow the action; the message says who and what."""


class AccessConfigError(ValueError):
    """The [access] section is malformed; the message says which setting."""


@dataclass(frozen=True)
class AccessConfig:
    sign_in: bool  # an [auth] section is configured: everyone must sign in
    admins: tuple[str, ...] = ()
    clinicians: tuple[str, ...] = ()
    data_roots: tuple[str, ...] | None = None  # None: not configured
    audit_log: str | None = None  # None: audit.jsonl in the runs folder
    providers: tuple[str | None, ...] = ()  # None is [auth]'s own (unnamed) provider


def _strings(access: Mapping, key: str) -> tuple[str, ...]:
    value = access.get(key, [])
    if isinstance(value, str):  # admins = "alice@x" instead of a list: meant the same
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise AccessConfigError(f"[access] {key} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _lower(patterns: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.lower() for p in patterns)


def sign_in_providers(auth: Mapping) -> tuple[str | None, ...]:
    """The providers st.login can use: [auth] itself when it names a client, and each [auth.NAME] that does."""
    own = (None,) if auth.get("client_id") else ()
    named = tuple(k for k, v in auth.items() if isinstance(v, Mapping) and v.get("client_id"))
    return own + named


def access_config(secrets: Mapping) -> AccessConfig:
    """Parse the secrets (as a plain dict) into the access settings."""
    auth = secrets.get("auth") or {}
    access = secrets.get("access") or {}
    if not isinstance(access, Mapping):
        raise AccessConfigError("[access] must be a table")
    roots = None
    if "data_roots" in access:
        roots = _strings(access, "data_roots")
        relative = [r for r in roots if not os.path.isabs(r)]
        if relative:
            raise AccessConfigError(f"[access] data_roots must be absolute paths, not {', '.join(relative)}")
    log = access.get("audit_log")
    if log is not None and not (isinstance(log, str) and os.path.isabs(log)):
        raise AccessConfigError("[access] audit_log must be an absolute file path")
    return AccessConfig(sign_in=bool(auth), admins=_lower(_strings(access, "admins")),
                        clinicians=_lower(_strings(access, "clinicians")), data_roots=roots, audit_log=log,
                        providers=sign_in_providers(auth) if isinstance(auth, Mapping) else ())


def verified_email(user: Mapping) -> str | None:
    """The signed-in user's e-mail, lower-cased; None when absent, malformed or marked unverified.

    One "@" exactly, so that "*@hospital.org" cannot match "x@evil.org@hospital.org".
    A provider that says email_verified = false is not trusted to have checked the address.
    """
    email = user.get("email")
    if not isinstance(email, str) or email.strip().count("@") != 1 or user.get("email_verified") is False:
        return None
    return email.strip().lower()


def matches(email: str, pattern: str) -> bool:
    return fnmatchcase(email.lower(), pattern.lower())


def role_for(email: str | None, config: AccessConfig) -> str | None:
    """ADMIN, CLINICIAN, or None (no access). Admin patterns are checked first."""
    if not email:
        return None
    if any(matches(email, p) for p in config.admins):
        return ADMIN
    if any(matches(email, p) for p in config.clinicians):
        return CLINICIAN
    return None


@dataclass(frozen=True)
class Identity:
    """Who is using this session and in which role (None: signed in, but no access)."""
    who: str  # the e-mail, or LOCAL_USER
    name: str
    role: str | None

    def can(self, action: str) -> bool:
        return action in PERMISSIONS.get(self.role, frozenset())

    def require(self, action: str) -> None:
        if not self.can(action):
            raise AccessDenied(f"{self.who} ({self.role or 'no access'}) may not {action.replace('_', ' ')}")


def identify(user: Mapping, config: AccessConfig) -> Identity | None:
    """The session's identity; None while sign-in is configured and nobody has signed in."""
    if not config.sign_in:
        return Identity(LOCAL_USER, LOCAL_USER, ADMIN)
    if user.get("is_logged_in") is not True:
        return None
    email = verified_email(user)
    raw = str(user.get("email") or user.get("sub") or "unknown")
    return Identity(email or raw, str(user.get("name") or email or raw), role_for(email, config))
