"""Reading a prompt into an engine's KV cache a chunk at a time, giving way on request:
background prefill (``server/lsp/prefill.py``) for every engine that keeps a cache."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.decoding.engine import TokenEngine

CHUNK = 16  # tokens between checks of the stop Event: tens of milliseconds on 2 cores


def prefill_in_chunks(
    engine: TokenEngine,
    cached: Sequence[int],
    ids: Sequence[int],
    stop: threading.Event,
    chunk: int = CHUNK,
) -> int:
    """Make ``engine`` (holding ``cached``) hold ``ids``, ``chunk`` tokens per call, until
    done or ``stop`` is set; returns how many of ``ids`` the cache holds afterwards."""
    from server.decoding.engine import common_prefix_length

    end = common_prefix_length(cached, ids)
    if end >= len(ids):
        return len(ids)
    while end < len(ids) and not stop.is_set():
        end = min(len(ids), end + chunk)
        engine.prefill(ids[:end])
    return end
