"""The local backend on the tiny model: KV-cache reuse, cancel, limits."""

from __future__ import annotations

import threading
from typing import Any

from server.backends.base import GenerationParams
from server.backends.transformers_backend import TransformersBackend
from server.prompt import Budgets, build_prompt

BODY = "".join(f"def step_{i}(x):\n    return x + {i}\n\n" for i in range(20))


def prompt_for(lm: Any, prefix: str) -> Any:
    return build_prompt(lm.tokenizer, "prefix", prefix, "", [], Budgets(), path="steps.py")


class SetAfterChecks(threading.Event):
    """A cancel Event that reports itself set from its ``n``-th check on: stands in for
    the editor cancelling while tokens are being generated."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.n or super().is_set()


def test_typing_forward_reuses_the_kv_cache(tiny_lm: Any) -> None:
    backend = TransformersBackend(tiny_lm)
    params = GenerationParams(max_tokens=4)
    first = prompt_for(tiny_lm, BODY + "def step_")
    g1 = backend.generate(first, params)
    assert g1.reused_tokens == 0 and g1.new_tokens == 4

    second = prompt_for(tiny_lm, BODY + "def step_20(x):\n    return x")
    fed_before = backend.tokens_fed
    g2 = backend.generate(second, params)
    fed = backend.tokens_fed - fed_before
    assert g2.reused_tokens >= len(first.ids) - 3
    # Only the new tail of the prompt plus the generated tokens were fed.
    assert fed <= len(second.ids) - g2.reused_tokens + params.max_tokens
    assert fed < len(second.ids) // 4

    # Reusing the cache changes nothing in the result: a cold backend says the same.
    cold = TransformersBackend(tiny_lm).generate(second, params)
    assert cold.text == g2.text and cold.reused_tokens == 0


def test_a_different_prompt_crops_the_cache(tiny_lm: Any) -> None:
    backend = TransformersBackend(tiny_lm)
    params = GenerationParams(max_tokens=3)
    backend.generate(prompt_for(tiny_lm, BODY + "x = 1"), params)
    other = prompt_for(tiny_lm, BODY[:200] + "y = 2")
    g = backend.generate(other, params)
    assert 0 < g.reused_tokens < len(other.ids)
    assert g.text == TransformersBackend(tiny_lm).generate(other, params).text


def test_cancel_before_start_feeds_nothing(tiny_lm: Any) -> None:
    backend = TransformersBackend(tiny_lm)
    cancel = threading.Event()
    cancel.set()
    g = backend.generate(prompt_for(tiny_lm, "x = "), GenerationParams(max_tokens=20), cancel)
    assert g.finish_reason == "cancelled" and g.new_tokens == 0 and backend.tokens_fed == 0


def test_cancel_stops_generation_at_once(tiny_lm: Any) -> None:
    backend = TransformersBackend(tiny_lm)
    cancel = SetAfterChecks(3)  # check 1 is before the prompt; 2 and 3 after tokens
    g = backend.generate(prompt_for(tiny_lm, "x = "), GenerationParams(max_tokens=40), cancel)
    assert g.finish_reason == "cancelled"
    assert g.new_tokens == 2


def test_max_tokens_is_respected(tiny_lm: Any) -> None:
    g = TransformersBackend(tiny_lm).generate(
        prompt_for(tiny_lm, "x = "), GenerationParams(max_tokens=5, multiline=True)
    )
    assert g.new_tokens == 5 and g.finish_reason == "length" and g.text.strip()
