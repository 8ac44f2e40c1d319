"""What every backend takes and returns: plain data, so the pipeline can swap them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from server.prompt import Prompt


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int = 48
    multiline: bool = False  # single-line mode stops at the first newline
    temperature: float = 0.0  # 0 = greedy
    stop: tuple[str, ...] = ()  # extra stop strings (e.g. the template's end-of-file tokens)


@dataclass(slots=True)
class Generation:
    """A raw continuation and what it cost; ``finish_reason`` says why it stopped."""

    text: str
    prompt_tokens: int = 0
    reused_tokens: int = 0  # prompt tokens whose KV cache was reused (not fed again)
    new_tokens: int = 0
    model_ms: float = 0.0
    first_token_ms: float = 0.0
    finish_reason: str = "length"  # length | newline | stop | eos | loop | cancelled | error
    error: str | None = None
    extra: dict[str, float] = field(default_factory=dict)


class Backend(Protocol):
    """A model that continues a prompt."""

    name: str

    def generate(
        self, prompt: Prompt, params: GenerationParams, cancel: threading.Event | None = None
    ) -> Generation: ...


class BackendError(Exception):
    """A backend that cannot work (model missing, server unreachable): the message says
    what was tried and how to fix it."""
