"""Where the project's folders are: its root, the shipped weights and samples, the runs folder. One definition each.

The weights folder is ``<project>/weights`` and the runs folder (training runs, the active-model pointer, the audit
log) ``<project>/runs``, unless ``BUSI_WEIGHTS_DIR`` or ``BUSI_RUNS_DIR`` say otherwise; both are read on each call,
so a test or a deployment can point them elsewhere.
"""
from __future__ import annotations

import os

# core/locations.py -> the project root, two levels up: the checkout whose core/ this is
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEIGHTS_DIR = os.path.join(PROJECT_ROOT, "weights")  # the shipped weights, in the checkout
SAMPLES_DIR = os.path.join(PROJECT_ROOT, "samples")  # the shipped sample cases


def weights_dir() -> str:
    """The weights folder in use: BUSI_WEIGHTS_DIR, else the shipped one."""
    return os.path.abspath(os.environ.get("BUSI_WEIGHTS_DIR", WEIGHTS_DIR))


def runs_dir() -> str:
    """The runs folder in use: BUSI_RUNS_DIR, else ``<project>/runs``."""
    return os.path.abspath(os.environ.get("BUSI_RUNS_DIR", os.path.join(PROJECT_ROOT, "runs")))
