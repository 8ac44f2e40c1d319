"""Give freed heap back to the operating system.

glibc keeps freed memory in its heap for reuse, all the more with the
``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` that make torch fast here (see
``server.backends.loader.tune_allocator``): the peak of every phase would otherwise stay
resident. Long jobs (indexing batches, embedding commits) call this between steps, so the
process's peak is one step's, not the sum of them; reusing the heap within a step keeps
torch's speed.
"""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any


@cache
def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None
    return libc


def release_memory() -> None:
    """``malloc_trim(0)``: return the free pages of every arena (a few ms)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
