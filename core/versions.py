"""Library patches run only on the library versions they were tested on; anything else fails loudly.

The patches themselves live in one compat module per library: core.training.keras_compat (Keras internals for
multi-worker training) and pages/_streamlit_compat.py (Streamlit internals the app works around).
"""
from __future__ import annotations


class UntestedVersionError(RuntimeError):
    """A library patch met a version of its library it was not tested on; the message says what to do."""


def require_tested(library: str, version: str, tested: tuple[str, ...], how_to_check: str) -> None:
    """Raise UntestedVersionError unless version's major.minor is one of tested ("3.15", ...)."""
    if ".".join(version.split(".")[:2]) not in tested:
        raise UntestedVersionError(
            f"a patch of {library} internals was tested on {library} {', '.join(tested)}, and this is {library} "
            f"{version}: {how_to_check}, check whether the patch is still needed, then add the version to its "
            "module's tested list (or install requirements.txt's pin)")
