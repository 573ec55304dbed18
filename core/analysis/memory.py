"""A session's analyses within a stated memory budget: least-recently-used eviction, counted in bytes.

Each Segment-page session keeps its analyses (decoded image, probability map, a cine loop's frames and uint8
probabilities, ground truth, DICOM bytes) and the clinician's edit layers in memory. ``AnalysisCache`` holds them
in least-recently-used order and, whenever the total passes its budget, drops the analyses used longest ago,
calling ``on_evict`` so the page drops that image's edits as well. Analyses in use in the current run are pinned:
they are never evicted to make room for one another; an upload that does not fit beside them is refused, and the
page says so (``fits``), so one session can never hold more than its budget however many files arrive.

``release_unused_memory`` hands freed heap pages back to the operating system (glibc, and Arrow's memory pool, keep
them otherwise, so a server's resident size would not fall after sessions close); a cache calls it when it is
garbage collected.
Sizes are the arrays' own ``nbytes``: what the numbers cost, not Python's per-object overhead.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

import numpy as np

MB = 1 << 20
# 512 MB a session: about 1100 BUSI-sized images (500×450: 225 kB image + 225 kB uint8 probability each), or a
# 300-frame 800×600 cine loop (144 MB of frames + 144 MB of uint8 probabilities) with room to spare. Eight
# clinicians at their limit stay within 4 GB. Overridden by the BUSSEG_SESSION_MEMORY_MB environment variable.
DEFAULT_BUDGET_BYTES = 512 * MB


def session_budget_bytes() -> int:
    """The per-session budget: BUSSEG_SESSION_MEMORY_MB (megabytes) when set to a positive number, else 512 MB."""
    raw = os.environ.get("BUSSEG_SESSION_MEMORY_MB", "")
    try:
        mb = float(raw)
    except ValueError:
        return DEFAULT_BUDGET_BYTES
    return int(mb * MB) if mb > 0 else DEFAULT_BUDGET_BYTES


def _array_bytes(x) -> int:
    return int(x.nbytes) if isinstance(x, np.ndarray) else 0


def analysis_bytes(a) -> int:
    """Bytes an analysis (core.analysis.segment.Analysis, or an ImageReadError kept in its place) holds in arrays."""
    if isinstance(a, BaseException):
        return len(str(a))
    img = a.image
    total = _array_bytes(a.probability_u8) + _array_bytes(a.gt_mask) + len(a.dicom or b"")
    total += _array_bytes(img.frames) if img.frames is not None else _array_bytes(img.gray)
    if img.frames is not None and not np.shares_memory(img.gray, img.frames):
        total += _array_bytes(img.gray)
    if a.cine is not None:
        total += _array_bytes(a.cine.probability)
        if np.shares_memory(a.probability_u8, a.cine.probability):  # a frame of the loop, counted with it
            total -= _array_bytes(a.probability_u8)
    return total


def edits_bytes(e) -> int:
    """Bytes of one image's edit layers (core.analysis.editing.Edits) and its bit-packed undo history."""
    if e is None:
        return 0
    return _array_bytes(e.add) + _array_bytes(e.remove) + sum(_array_bytes(h[0]) + _array_bytes(h[1]) for h in e.history)


class AnalysisCache:
    """key -> analysis in least-recently-used order, at most ``budget`` bytes (pinned entries aside, see ``fits``).

    size_of(key, value) gives an entry's bytes (default: analysis_bytes); ``recount`` measures every entry again
    (after edits grow). on_evict(key, value) is called for each entry dropped. Mapping-like reads (``in``, ``[]``,
    ``values``, ``len``) do not change the order; ``touch`` and ``put`` do."""

    def __init__(self, budget: int | None = None, size_of: Callable[[Hashable, object], int] | None = None,
                 on_evict: Callable[[Hashable, object], None] | None = None):
        self.budget = session_budget_bytes() if budget is None else int(budget)
        self.size_of = size_of or (lambda _key, value: analysis_bytes(value))
        self.on_evict = on_evict
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self.evicted = 0  # how many entries were dropped to keep within the budget, over the cache's life
        weakref.finalize(self, release_unused_memory)

    # mapping-like reads
    def __contains__(self, key) -> bool:
        return key in self._entries

    def __getitem__(self, key):
        return self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self):
        return self._entries.keys()

    def values(self):
        return self._entries.values()

    def items(self):
        return self._entries.items()

    @property
    def total_bytes(self) -> int:
        return sum(self._sizes.values())

    def touch(self, key) -> None:
        """Mark key as just used."""
        self._entries.move_to_end(key)

    def fits(self, nbytes: int, pinned: Iterable[Hashable] = ()) -> bool:
        """Whether an entry of nbytes can be added while every pinned key stays."""
        pinned = set(pinned)
        kept = sum(s for k, s in self._sizes.items() if k in pinned)
        return kept + nbytes <= self.budget

    def put(self, key, value, pinned: Iterable[Hashable] = ()) -> list[Hashable]:
        """Add (or replace) key as the most recently used entry, then evict the least recently used unpinned
        entries until the total is within the budget. Returns the evicted keys."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        self._sizes[key] = int(self.size_of(key, value))
        return self.evict(set(pinned) | {key})

    def recount(self, pinned: Iterable[Hashable] = ()) -> list[Hashable]:
        """Measure every entry again (edit layers grow with each stroke) and evict as put does."""
        for k, v in self._entries.items():
            self._sizes[k] = int(self.size_of(k, v))
        return self.evict(pinned)

    def evict(self, pinned: Iterable[Hashable] = ()) -> list[Hashable]:
        pinned = set(pinned)
        dropped = []
        total = self.total_bytes
        for k in list(self._entries):
            if total <= self.budget:
                break
            if k in pinned:
                continue
            value = self._entries.pop(k)
            total -= self._sizes.pop(k)
            dropped.append(k)
            if self.on_evict:
                self.on_evict(k, value)
        self.evicted += len(dropped)
        return dropped

    def clear(self) -> None:
        for k, v in list(self._entries.items()):
            if self.on_evict:
                self.on_evict(k, v)
        self._entries.clear()
        self._sizes.clear()


_LIBC = None


def release_unused_memory() -> bool:
    """Collect garbage and return freed heap pages to the OS (glibc's malloc_trim); False where there is no glibc.

    Without this, NumPy buffers freed by a closed session stay in the process's heap and its resident size stays
    at its peak, though the memory is free to reuse."""
    global _LIBC
    gc.collect()
    arrow = sys.modules.get("pyarrow")  # tables a page showed (st.dataframe) leave freed blocks in Arrow's own pool
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if _LIBC is None:
        name = ctypes.util.find_library("c")
        try:
            _LIBC = ctypes.CDLL(name) if name else False
        except OSError:
            _LIBC = False
    trim = getattr(_LIBC, "malloc_trim", None) if _LIBC else None
    if trim is None:
        return False
    trim(0)
    return True
