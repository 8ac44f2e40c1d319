"""Split the prompt's token budget between snippets, prefix and suffix.

Cuts fall on line boundaries, and the prefix's first line moves in steps of
``PREFIX_LINE_STEP`` lines, so that typing forward keeps the start of the prompt (and with
it the model's KV cache) unchanged for many keystrokes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.prompt.tokens import offsets

PREFIX_LINE_STEP = 8
_CHARS_PER_TOKEN_MAX = 16  # no real token is longer: bounds how much text is tokenised


@dataclass(frozen=True, slots=True)
class Budgets:
    prefix_tokens: int = 384
    suffix_tokens: int = 96
    snippet_tokens: int = 384


def budgets_from_settings(cs: Any) -> Budgets:
    """From ``settings.completion``."""
    return Budgets(
        prefix_tokens=max(0, int(cs.prefix_tokens)),
        suffix_tokens=max(0, int(cs.suffix_tokens)),
        snippet_tokens=max(0, int(cs.snippet_tokens)),
    )


def keep_tail(tokenizer: Any, text: str, budget: int) -> str:
    """The end of ``text`` within ``budget`` tokens, starting at a line whose number is a
    multiple of PREFIX_LINE_STEP (or mid-line when the last line alone is too long)."""
    if budget <= 0:
        return ""
    if len(text) <= budget:
        return text
    # Code averages 3-4 characters a token: try a window of 6 a token, widen if short.
    for chars_per_token in (6, _CHARS_PER_TOKEN_MAX):
        window_start = max(0, len(text) - budget * chars_per_token)
        window = text[window_start:]
        spans = offsets(tokenizer, window)
        if len(spans) > budget or window_start == 0:
            break
    if len(spans) <= budget:
        return text if window_start == 0 else _align_start(text, window_start, window_start)
    cut = window_start + spans[len(spans) - budget][0]
    start = _align_start(text, cut, cut)
    return start


def _align_start(text: str, cut: int, fallback: int) -> str:
    """``text`` from the first line start at or after ``cut`` whose line number is a
    multiple of the step; from ``fallback`` when no such line start exists."""
    pos = cut if cut == 0 or text[cut - 1] == "\n" else text.find("\n", cut) + 1
    if pos <= 0:
        return text[fallback:]
    line_no = text.count("\n", 0, pos)
    while line_no % PREFIX_LINE_STEP:
        nxt = text.find("\n", pos)
        if nxt < 0:
            break
        pos = nxt + 1
        line_no += 1
    if line_no % PREFIX_LINE_STEP:
        # Not enough lines left to align: keep the line-aligned cut.
        pos = cut if cut == 0 or text[cut - 1] == "\n" else text.find("\n", cut) + 1
    return text[pos:]


def keep_head(tokenizer: Any, text: str, budget: int) -> str:
    """The start of ``text`` within ``budget`` tokens, ending at a line end when one fits."""
    if budget <= 0:
        return ""
    if len(text) <= budget:
        return text
    window = text[: budget * _CHARS_PER_TOKEN_MAX]
    spans = offsets(tokenizer, window)
    if len(spans) <= budget and len(window) == len(text):
        return text
    end = spans[budget - 1][1] if len(spans) >= budget else len(window)
    nl = text.rfind("\n", 0, end)
    return text[: nl + 1] if nl > 0 else text[:end]
