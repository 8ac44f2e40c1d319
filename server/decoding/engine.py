"""What a model must offer the decode loop: logits for token ids, over one KV cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class TokenEngine(Protocol):
    """Turns token ids into next-token logits, keeping one KV cache across calls.

    Not thread-safe: the backend that owns an engine runs one ``decode`` at a time."""

    name: str
    eos_ids: frozenset[int]
    max_context: int  # positions the model can attend to (prompt + generated tokens)

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, int]:
        """Make the cache hold exactly ``ids`` (reusing the longest common prefix with what
        it held, always re-feeding at least the last token); return the last position's
        logits (1-D float32, vocabulary size) and how many tokens were reused."""
        ...

    def step(self, token: int) -> np.ndarray:
        """Append one token to the cache; return the next position's logits."""
        ...

    def reset(self) -> None:
        """Forget the cache (after an error, or to measure a cold start)."""
        ...


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
