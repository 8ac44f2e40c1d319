"""Local generation with transformers: an engine over one KV cache, decoded by the shared
loop (``server.decoding.decode``).

The cache of the previous request is kept with the token ids it holds; a new prompt that
shares a prefix with them (the usual case while typing forward, since snippets come first)
is fed only from the first differing token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from server.backends.engine_backend import EngineBackend
from server.backends.loader import forward_with_cache
from server.decoding.engine import common_prefix_length

if TYPE_CHECKING:
    from server.backends.loader import LoadedLM

__all__ = ["TransformersBackend", "TransformersEngine", "common_prefix_length"]


class TransformersEngine:
    """A transformers causal LM as a ``TokenEngine``: logits as numpy, one DynamicCache."""

    name = "transformers"

    def __init__(self, loaded: LoadedLM, max_context: int | None = None) -> None:
        self.model = loaded.model
        config = getattr(self.model, "config", None)
        self.max_context = max_context or int(
            getattr(config, "max_position_embeddings", 2048) or 2048
        )
        eos = loaded.tokenizer.eos_token_id
        self.eos_ids = frozenset(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self._cache: Any = None
        self._ids: list[int] = []
        self.tokens_fed = 0  # every token ever fed to the model: tests and benches read it

    def reset(self) -> None:
        self._cache = None
        self._ids = []

    def snapshot(self) -> tuple[list[int], Any]:
        """The cache as it is (benchmarks measure floors in between, then restore it)."""
        return list(self._ids), self._cache

    @property
    def cached_ids(self) -> list[int]:
        return list(self._ids)

    def restore(self, state: tuple[list[int], Any]) -> None:
        self._ids, self._cache = list(state[0]), state[1]

    def _feed(self, ids: Sequence[int]) -> np.ndarray:
        """Feed ``ids`` after the cached tokens; returns the last position's logits."""
        import torch

        if self._cache is None:
            from transformers import DynamicCache

            self._cache = DynamicCache(config=self.model.config)
        inp = torch.tensor([list(ids)], dtype=torch.long, device=self.model.device)
        with torch.inference_mode():
            out = forward_with_cache(self.model, inp, self._cache)
        self._ids.extend(ids)
        self.tokens_fed += len(ids)
        return out.logits[0, -1].float().cpu().numpy()

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, int]:
        common = min(common_prefix_length(self._ids, ids), len(ids) - 1)
        if self._cache is None or common <= 0:
            self.reset()
            common = 0
        elif len(self._ids) > common:
            self._cache.crop(-(len(self._ids) - common))
            del self._ids[common:]
        return self._feed(ids[common:]), common

    def step(self, token: int) -> np.ndarray:
        return self._feed([token])


class TransformersBackend(EngineBackend):
    """Greedy (or low-temperature) generation with KV-cache reuse across requests."""

    name = "transformers"

    def __init__(self, loaded: LoadedLM, max_context: int | None = None) -> None:
        engine = TransformersEngine(loaded, max_context)
        super().__init__(engine, loaded.tokenizer, loaded.model_id)
        self.engine: TransformersEngine = engine
        self.model = loaded.model
