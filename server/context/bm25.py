"""A small in-memory BM25 (Okapi) over code, shared by the context builder and the baselines.

In memory because a LanceDB full-text query per keystroke costs more than the whole context
budget, and because unsaved buffers must be searchable beside the indexed files. Documents
can be added and removed one by one, so a file save re-indexes one file, not the workspace.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_SUBWORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(text: str) -> list[str]:
    """Identifier and number tokens, case kept: the unit the baselines compare."""
    return _WORD.findall(text)


def code_terms(text: str) -> list[str]:
    """Search terms for code: each identifier lower-cased, plus its camelCase/snake_case
    parts, so that ``parse_config`` matches ``ConfigParser``."""
    out: list[str] = []
    for w in _WORD.findall(text):
        low = w.lower()
        out.append(low)
        parts = _SUBWORD.findall(w)
        if len(parts) > 1:
            out.extend(p.lower() for p in parts if len(p) > 1)
    return out


K = TypeVar("K", bound=Hashable)


class BM25(Generic[K]):
    """Okapi BM25 over documents identified by hashable keys."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, dict[K, int]] = {}
        self._lengths: dict[K, int] = {}
        self._terms: dict[K, tuple[str, ...]] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, key: K, terms: Iterable[str]) -> None:
        if key in self._lengths:
            self.remove(key)
        counts = Counter(terms)
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[key] = tf
        n = sum(counts.values())
        self._lengths[key] = n
        self._terms[key] = tuple(counts)
        self._total_length += n

    def remove(self, key: K) -> None:
        n = self._lengths.pop(key, None)
        if n is None:
            return
        self._total_length -= n
        for term in self._terms.pop(key, ()):
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(key, None)
                if not posting:
                    del self._postings[term]

    def idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        n = len(self._lengths)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: Iterable[str], max_df: float = 1.0) -> dict[K, float]:
        """BM25 score of every document sharing a term with the query.

        ``max_df`` < 1 skips terms found in more than that fraction of the documents
        (``self``, ``return``): their weight is near zero and their postings are the
        longest, so skipping them makes a query several times cheaper."""
        n = len(self._lengths)
        if n == 0:
            return {}
        avg = self._total_length / n or 1.0
        k1, b = self.k1, self.b
        limit = max_df * n
        out: dict[K, float] = {}
        for term, qtf in Counter(query_terms).items():
            posting = self._postings.get(term)
            if not posting or len(posting) > limit:
                continue
            idf = math.log(1.0 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            lengths = self._lengths
            for key, tf in posting.items():
                norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[key] / avg))
                out[key] = out.get(key, 0.0) + qtf * idf * norm
        return out

    def score_doc(self, query: Counter[str], doc: Counter[str]) -> float:
        """BM25 of a document outside the corpus (an unsaved buffer's chunk), with the
        corpus's statistics."""
        n = len(self._lengths)
        if n == 0:
            return 0.0
        avg = self._total_length / n or 1.0
        length = sum(doc.values())
        k1, b = self.k1, self.b
        s = 0.0
        for term, qtf in query.items():
            f = doc.get(term, 0)
            if f:
                s += qtf * self.idf(term) * f * (k1 + 1) / (f + k1 * (1 - b + b * length / avg))
        return s

    def top(self, query_terms: Iterable[str], k: int) -> list[tuple[K, float]]:
        scored = self.scores(query_terms)
        return sorted(scored.items(), key=lambda kv: (-kv[1], str(kv[0])))[:k]
