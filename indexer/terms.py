"""Search terms of code: identifiers split at camelCase and snake_case, lower-cased.

Here, not in the context builder, because the indexer stores each chunk's term counts
(``chunks.terms``/``chunks.tfs``) so that a reader builds its BM25 from columns instead of
re-tokenizing every chunk (seconds on a large workspace, paid by every editor opening a
shared base).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_SUBWORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(text: str) -> list[str]:
    """Identifier and number tokens, case kept: the unit the baselines compare."""
    return _WORD.findall(text)


@lru_cache(maxsize=1 << 18)
def _expand(word: str) -> tuple[str, ...]:
    low = word.lower()
    parts = _SUBWORD.findall(word)
    if len(parts) > 1:
        return (low, *(p.lower() for p in parts if len(p) > 1))
    return (low,)


def code_terms(text: str) -> list[str]:
    """Search terms for code: each identifier lower-cased, plus its camelCase/snake_case
    parts, so that ``parse_config`` matches ``ConfigParser``."""
    out: list[str] = []
    for w in _WORD.findall(text):
        out.extend(_expand(w))
    return out


def term_counts(text: str) -> dict[str, int]:
    """``Counter(code_terms(text))``, several times faster on long texts (each distinct
    identifier is split once)."""
    out: dict[str, int] = {}
    get = out.get
    for w, n in Counter(_WORD.findall(text)).items():
        for t in _expand(w):
            out[t] = get(t, 0) + n
    return out
