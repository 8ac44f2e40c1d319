"""The cyclic garbage collector paused while a large acyclic structure is built.

Each collection walks every live object; building an index's rows as objects (200,000 of
them for a 26 MB workspace) triggers dozens, so in a process that already holds millions
of objects (a language server) the build costs seconds more with it on. Rows, chunks and
postings hold no reference cycles, so nothing is lost by collecting after.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collection off for the block (nested and concurrent uses are counted; the last one
    out restores what was there before)."""
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
