"""A small in-memory BM25 (Okapi) over code, shared by the context builder and the baselines.

In memory because a LanceDB full-text query per keystroke costs more than the whole context
budget, and because unsaved buffers must be searchable beside the indexed files. Documents
can be added and removed one by one, so a file save re-indexes one file, not the workspace.

Queries are numpy: each term's posting becomes (slots, weights) arrays on first use (and
again after a document holding it changes), and a query adds those into one dense score
vector, so 40,000 chunks cost about a millisecond.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np

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


K = TypeVar("K", bound=Hashable)


class BM25(Generic[K]):
    """Okapi BM25 over documents identified by hashable keys."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings: dict[str, dict[int, int]] = {}  # term → slot → term frequency
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term → (slots, tf-norms)
        self._slot: dict[K, int] = {}
        self._keys: list[K | None] = []  # slot → key (None: free)
        self._free: list[int] = []
        self._lengths: dict[int, int] = {}
        self._terms: dict[int, tuple[str, ...]] = {}
        self._total_length = 0
        self._avg_at_build = 0.0

    def __len__(self) -> int:
        return len(self._lengths)

    @property
    def avg_length(self) -> float:
        return (self._total_length / len(self._lengths)) if self._lengths else 1.0

    def key(self, slot: int) -> K | None:
        return self._keys[slot]

    def df(self, term: str) -> int:
        """How many documents hold ``term``."""
        return len(self._postings.get(term, ()))

    def slot(self, key: K) -> int | None:
        return self._slot.get(key)

    def add(self, key: K, terms: Iterable[str] | Mapping[str, int]) -> None:
        """Index a document by its terms (or their counts)."""
        if key in self._slot:
            self.remove(key)
        slot = self._free.pop() if self._free else len(self._keys)
        if slot == len(self._keys):
            self._keys.append(key)
        else:
            self._keys[slot] = key
        self._slot[key] = slot
        counts = terms if isinstance(terms, Mapping) else Counter(terms)
        postings, arrays = self._postings, self._arrays
        for term, tf in counts.items():
            posting = postings.get(term)
            if posting is None:
                postings[term] = {slot: tf}
            else:
                posting[slot] = tf
                if arrays:
                    arrays.pop(term, None)
        n = sum(counts.values())
        self._lengths[slot] = n
        self._terms[slot] = tuple(counts)
        self._total_length += n

    def remove(self, key: K) -> None:
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        self._keys[slot] = None
        self._free.append(slot)
        self._total_length -= self._lengths.pop(slot)
        for term in self._terms.pop(slot, ()):
            self._arrays.pop(term, None)
            posting = self._postings.get(term)
            if posting is not None:
                posting.pop(slot, None)
                if not posting:
                    del self._postings[term]

    def idf(self, term: str) -> float:
        df = len(self._postings.get(term, ()))
        n = len(self._lengths)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _array(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        avg = self.avg_length
        if abs(avg - self._avg_at_build) > 0.1 * max(avg, 1.0):  # the corpus drifted
            self._arrays.clear()
            self._avg_at_build = avg
        arr = self._arrays.get(term)
        if arr is None:
            posting = self._postings[term]
            slots = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tf = np.fromiter(posting.values(), dtype=np.float64, count=len(posting))
            lengths = np.fromiter(
                (self._lengths[s] for s in posting), dtype=np.float64, count=len(posting)
            )
            k1, b = self.k1, self.b
            norm = tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / (self._avg_at_build or 1.0)))
            arr = (slots, norm)
            self._arrays[term] = arr
        return arr

    def score_vector(self, query_terms: Iterable[str], max_df: float = 1.0) -> np.ndarray:
        """BM25 of every slot against the query, as one dense vector (0 where no term is
        shared). ``max_df`` < 1 skips terms found in more than that fraction of the
        documents (``self``, ``return``): their weight is near zero and their postings
        the longest."""
        out = np.zeros(len(self._keys), dtype=np.float64)
        n = len(self._lengths)
        if n == 0:
            return out
        limit = max_df * n
        for term, qtf in Counter(query_terms).items():
            posting = self._postings.get(term)
            if not posting or len(posting) > limit:
                continue
            slots, norm = self._array(term)
            out[slots] += qtf * self.idf(term) * norm
        return out

    def top(self, query_terms: Iterable[str], k: int, max_df: float = 1.0) -> list[tuple[K, float]]:
        """The ``k`` best documents with a positive score, best first (ties by slot)."""
        return self.top_of(self.score_vector(query_terms, max_df), k)

    def top_of(self, scores: np.ndarray, k: int) -> list[tuple[K, float]]:
        positive = int(np.count_nonzero(scores > 0))
        k = min(k, positive)
        if k <= 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        out: list[tuple[K, float]] = []
        for i in sorted(part.tolist(), key=lambda i: (-scores[i], i)):
            key = self._keys[i]
            if key is not None and scores[i] > 0:
                out.append((key, float(scores[i])))
        return out

    def score_doc(self, query: Mapping[str, int], doc: Mapping[str, int]) -> float:
        """BM25 of a document outside the corpus (an unsaved buffer's chunk), with the
        corpus's statistics."""
        if not self._lengths:
            return 0.0
        avg = self.avg_length
        length = sum(doc.values())
        k1, b = self.k1, self.b
        s = 0.0
        for term, qtf in query.items():
            f = doc.get(term, 0)
            if f:
                s += qtf * self.idf(term) * f * (k1 + 1) / (f + k1 * (1 - b + b * length / avg))
        return s
