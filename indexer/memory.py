"""The process's heap: glibc's ordinary settings, torch's tuned ones only where they pay.

glibc keeps freed memory in its heap for reuse, all the more with the
``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` that make torch generation and
training fast here (big blocks come from the heap and are never handed back). Everywhere
else they only raise the peak: LanceDB's vector-index build peaked ~95 MB higher and the
index reader kept ~110 MB more with them, while MiniLM embedding ran at the same speed
without them (1.04x the time, in one process at load 10). So ``tandem`` starts with
``use_ordinary_heap()`` whatever the environment says, and the transformers backend and
the trainer call ``use_torch_heap()`` when they load a model (``tune_allocator``).

Long jobs (indexing batches, embedding commits) call ``release_memory`` between steps, so
the process's peak is one step's, not the sum of them.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from functools import cache
from typing import Any

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Blocks of 1 MiB and more are mapped on their own and unmapped when freed (LanceDB's and
# Arrow's big buffers); the heap gives back free space above 8 MiB at its top.
_ORDINARY_MMAP = 1 << 20
_ORDINARY_TRIM = 8 << 20
_TORCH = 2**31 - 1  # what MALLOC_*_THRESHOLD_=4294967296 does, as far as mallopt takes
_state = {"torch": False}
_lock = threading.Lock()


@cache
def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):  # not glibc: nothing to tune or trim
        return None
    return libc


def release_memory() -> None:
    """``malloc_trim(0)``: return the free pages of every arena (a few ms)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def use_ordinary_heap() -> None:
    """Big blocks mapped and handed back when freed (the start of every ``tandem``
    command; no effect once a torch model has asked for ``use_torch_heap``). Arrow's
    buffers come from the same heap (``use_system_arrow_pool``)."""
    use_system_arrow_pool()
    libc = _libc()
    with _lock:
        if libc is None or _state["torch"]:
            return
        libc.mallopt(_M_MMAP_THRESHOLD, _ORDINARY_MMAP)
        libc.mallopt(_M_TRIM_THRESHOLD, _ORDINARY_TRIM)


def use_system_arrow_pool() -> None:
    """Arrow's buffers from glibc's heap rather than its default pool (mimalloc), unless
    ``ARROW_DEFAULT_MEMORY_POOL`` says otherwise. mimalloc keeps the pages it frees:
    the temporaries of reading an index and of building its BM25 (flattened term lists,
    dictionary codes) stayed resident, ~60 MB of a 30 MB workspace's, while glibc unmaps
    such big blocks as they are freed; reading was no slower."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    pa = sys.modules.get("pyarrow")  # already imported: the variable was read
    if pa is not None and os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "system":
        pa.set_memory_pool(pa.system_memory_pool())


def use_torch_heap() -> None:
    """Keep freed blocks in the heap for reuse from now on: fresh large allocations
    page-fault slowly on these VMs, and torch generation and training ran up to 30x
    faster this way."""
    libc = _libc()
    with _lock:
        if libc is None:
            return
        _state["torch"] = True
        libc.mallopt(_M_MMAP_THRESHOLD, _TORCH)
        libc.mallopt(_M_TRIM_THRESHOLD, _TORCH)


def torch_heap_in_use() -> bool:
    return _state["torch"]
