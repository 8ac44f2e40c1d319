"""Local generation with transformers: a manual token loop over the KV cache.

The cache of the previous request is kept with the token ids it holds; a new prompt that
shares a prefix with them (the usual case while typing forward, since snippets come first)
is fed only from the first differing token. The loop checks the cancel Event before every
forward pass, stops at a newline in single-line mode, at end-of-text and stop strings.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from server.backends.base import Generation, GenerationParams
from server.backends.loader import forward_with_cache

if TYPE_CHECKING:
    from server.backends.loader import LoadedLM
    from server.prompt import Prompt


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class TransformersBackend:
    """Greedy (or low-temperature) generation with KV-cache reuse across requests."""

    name = "transformers"

    def __init__(self, loaded: LoadedLM, max_context: int | None = None) -> None:
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.model_id = loaded.model_id
        config = getattr(self.model, "config", None)
        self.max_context = max_context or int(
            getattr(config, "max_position_embeddings", 2048) or 2048
        )
        self._lock = threading.Lock()  # one generation at a time: the cache is shared state
        self._cache: Any = None
        self._cache_ids: list[int] = []
        self.tokens_fed = 0  # every token ever fed to the model: tests and benches read it
        eos = self.tokenizer.eos_token_id
        self._eos: set[int] = set(
            eos if isinstance(eos, list) else [eos] if eos is not None else []
        )

    def warm_up(self) -> None:
        """One small forward pass, so the first real request does not pay torch's
        one-time set-up."""
        import torch

        ids = self.tokenizer.encode("def main():\n    return 0\n", add_special_tokens=False)
        with self._lock, torch.inference_mode():
            self.reset_cache()
            self._forward(ids or [0])
            self.reset_cache()
            self.tokens_fed = 0

    def reset_cache(self) -> None:
        self._cache = None
        self._cache_ids = []

    def _single_token_ids(self, texts: tuple[str, ...]) -> set[int]:
        ids: set[int] = set()
        for t in texts:
            enc = self.tokenizer.encode(t, add_special_tokens=False)
            if len(enc) == 1:
                ids.add(enc[0])
        return ids

    def _forward(self, ids: list[int]) -> Any:
        """Feed ``ids`` after the cached tokens; returns the last position's logits."""
        import torch

        if self._cache is None:
            from transformers import DynamicCache

            self._cache = DynamicCache(config=self.model.config)
        inp = torch.tensor([ids], dtype=torch.long, device=self.model.device)
        out = forward_with_cache(self.model, inp, self._cache)
        self._cache_ids.extend(ids)
        self.tokens_fed += len(ids)
        return out.logits[0, -1]

    def _reuse(self, ids: list[int]) -> int:
        """Crop the cache to the longest prefix it shares with ``ids``; returns its length.
        At least one token is always left to feed, to get fresh logits."""
        common = common_prefix_length(self._cache_ids, ids)
        common = min(common, len(ids) - 1)
        if self._cache is None or common <= 0:
            self.reset_cache()
            return 0
        drop = len(self._cache_ids) - common
        if drop:
            self._cache.crop(-drop)
            del self._cache_ids[common:]
        return common

    def _pick(self, logits: Any, temperature: float) -> int:
        import torch

        if temperature <= 0:
            return int(torch.argmax(logits).item())
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        return int(torch.multinomial(probs, 1).item())

    def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Generation:
        import torch

        t0 = time.perf_counter()
        ids = list(prompt.ids)
        room = self.max_context - params.max_tokens
        if len(ids) > room:  # the budget should prevent this; never overflow the model
            ids = ids[-room:]
        if not ids:
            return Generation(text="", finish_reason="error", error="empty prompt")
        stop_ids = self._eos | self._single_token_ids(params.stop)
        gen = Generation(text="", prompt_tokens=len(ids))
        new: list[int] = []
        try:
            with self._lock, torch.inference_mode():
                reused = self._reuse(ids)
                gen.reused_tokens = reused
                if cancel is not None and cancel.is_set():
                    gen.finish_reason = "cancelled"
                    return gen
                logits = self._forward(ids[reused:])
                while True:
                    token = self._pick(logits, params.temperature)
                    if not new:
                        gen.first_token_ms = (time.perf_counter() - t0) * 1000
                    if token in stop_ids:
                        gen.finish_reason = "eos"
                        break
                    new.append(token)
                    text = self.tokenizer.decode(new, skip_special_tokens=False)
                    hit = next((s for s in params.stop if s in text), None)
                    if hit is not None:
                        text = text[: text.index(hit)]
                        gen.text = text
                        gen.finish_reason = "stop"
                        break
                    gen.text = text
                    if not params.multiline and "\n" in text:
                        gen.text = text[: text.index("\n")]
                        gen.finish_reason = "newline"
                        break
                    if len(new) >= params.max_tokens:
                        gen.finish_reason = "length"
                        break
                    if cancel is not None and cancel.is_set():
                        gen.finish_reason = "cancelled"
                        break
                    logits = self._forward([token])
        except Exception as e:  # a broken cache or model must not kill the server
            self.reset_cache()
            gen.error = f"{type(e).__name__}: {e}"
            gen.finish_reason = "error"
        gen.new_tokens = len(new)
        gen.model_ms = (time.perf_counter() - t0) * 1000
        return gen
