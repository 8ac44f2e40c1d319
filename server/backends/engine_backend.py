"""What a backend with logits is: a ``TokenEngine`` behind a lock, decoded by the shared
loop. transformers and llama.cpp differ only in their engine and how they load it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol

from server.backends.base import Generation, GenerationParams
from server.backends.prefill import prefill_in_chunks
from server.decoding import decode, vocab_for
from server.decoding.engine import TokenEngine

if TYPE_CHECKING:
    from server.prompt import Prompt


class CachingEngine(TokenEngine, Protocol):
    """An engine that tells which ids its KV cache holds and counts what it was fed."""

    tokens_fed: int

    @property
    def cached_ids(self) -> list[int]: ...


class EngineBackend:
    """Greedy (or sampled) generation with KV-cache reuse across requests: one generation
    at a time, since the cache is shared state."""

    name = "engine"

    def __init__(self, engine: CachingEngine, tokenizer: Any, model_id: str) -> None:
        self.engine = engine
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.max_context = engine.max_context
        self.vocab = vocab_for(tokenizer)
        self._lock = threading.Lock()

    @property
    def tokens_fed(self) -> int:
        return self.engine.tokens_fed

    def warm_up(self) -> None:
        """One small forward pass, so the first request does not pay the engine's set-up."""
        ids = self.tokenizer.encode("def main():\n    return 0\n", add_special_tokens=False)
        with self._lock:
            self.engine.reset()
            self.engine.prefill(ids or [0])
            self.engine.reset()
            self.engine.tokens_fed = 0

    def reset_cache(self) -> None:
        with self._lock:
            self.engine.reset()

    def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Generation:
        with self._lock:
            return decode(self.engine, self.vocab, prompt, params, cancel)

    def prefill_stable(self, ids: list[int], stop: threading.Event) -> int:
        """Background prefill: read ``ids`` into the cache unless a generation holds the
        model, giving way as soon as ``stop`` is set; returns the tokens the cache holds."""
        if not ids or not self._lock.acquire(blocking=False):
            return 0
        try:
            return prefill_in_chunks(self.engine, self.engine.cached_ids, ids, stop)
        finally:
            self._lock.release()
