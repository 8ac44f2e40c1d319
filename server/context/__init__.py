"""The context builder: from a cursor to the snippets worth putting in the prompt.

``build_context(index, path, text, line, col, overlay=None, k=8, budget_tokens=...,
count_tokens=None) -> ContextResult`` — see ``server.context.builder``."""

from server.context.builder import DEFAULT_BUDGET_TOKENS, build_context, view_for, warm
from server.context.snippet import ContextResult, Snippet

__all__ = [
    "DEFAULT_BUDGET_TOKENS",
    "ContextResult",
    "Snippet",
    "build_context",
    "view_for",
    "warm",
]
