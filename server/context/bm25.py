"""A small in-memory BM25 (Okapi) over code, shared by the context builder and the baselines.

In memory because a LanceDB full-text query per keystroke costs more than the whole context
budget, and because unsaved buffers must be searchable beside the indexed files. Documents
can be added and removed one by one, so a file save re-indexes one file, not the workspace.

Queries are numpy: each term's posting becomes (slots, weights) arrays on first use (and
again after a document holding it changes), and a query adds those into one dense score
vector, so 40,000 chunks cost about a millisecond.

A whole corpus can also be loaded at once from the term counts the index stores per chunk
(``BM25.from_counts``): its postings stay numpy arrays (sorted by term) instead of one dict
entry per (term, document), which is what lets an editor open a large shared index in
about a second. Documents added later live in dicts beside them; a loaded document that is
removed is masked out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from indexer.terms import code_terms, term_counts, words

if TYPE_CHECKING:
    from indexer.lexicon import LayeredPostings

__all__ = ["BM25", "code_terms", "term_counts", "words"]

K = TypeVar("K", bound=Hashable)


class _TermRows(Protocol):
    def get(self, term: str) -> int | None: ...


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
        self._lengths: dict[int, int] = {}  # slot → length, for documents added one by one
        self._terms: dict[int, tuple[str, ...]] = {}
        self._total_length = 0
        self._avg_at_build = 0.0
        # Loaded at once (from_counts): slots 0..n-1, postings as arrays sorted by term.
        self._loaded_term: _TermRows = {}  # term → its row in _loaded_starts
        self._loaded_starts = np.zeros(1, dtype=np.int64)
        self._loaded_slots: np.ndarray = np.zeros(0, dtype=np.int32)
        self._loaded_tfs: np.ndarray = np.zeros(0, dtype=np.float32)
        self._loaded_lengths = np.zeros(0, dtype=np.float64)
        self._loaded_alive = np.zeros(0, dtype=bool)
        self._loaded_live = 0  # loaded documents not removed since
        self._loaded_df: dict[str, int] = {}

    @classmethod
    def from_counts(
        cls,
        keys: Sequence[K],
        offsets: np.ndarray,
        terms: Sequence[str] | np.ndarray,
        term_index: np.ndarray,
        tfs: np.ndarray,
        k1: float = 1.2,
        b: float = 0.75,
    ) -> BM25[K]:
        """A corpus loaded at once: document ``i`` (``keys[i]``) holds the entries
        ``offsets[i]:offsets[i+1]`` of ``term_index`` (indices into ``terms``, each term
        once per document) with counts ``tfs``."""
        bm = cls(k1, b)
        n = len(keys)
        counts = np.diff(offsets)
        # Postings in 32 bits (slots and counts are small integers, exact in float32):
        # half the memory of a large corpus's millions of postings (21 MB of sympy's
        # 2.6 million); ``_array`` widens one term's postings when it scores them.
        doc = np.repeat(np.arange(n, dtype=np.int32 if n < 2**31 else np.int64), counts)
        order = np.argsort(term_index, kind="stable")
        per_term = np.bincount(term_index, minlength=len(terms))
        bm._loaded_starts = np.concatenate([[0], np.cumsum(per_term)]).astype(np.int64)
        bm._loaded_slots = doc[order]
        bm._loaded_tfs = tfs[order].astype(np.float32)
        del order
        bm._loaded_lengths = np.bincount(doc, weights=tfs, minlength=n).astype(np.float64)
        bm._loaded_alive = np.ones(n, dtype=bool)
        bm._loaded_live = n
        bm._loaded_term = {str(t): i for i, t in enumerate(terms)}
        bm._keys = list(keys)
        bm._slot = {k: i for i, k in enumerate(keys)}
        bm._total_length = int(bm._loaded_lengths.sum())
        return bm

    @classmethod
    def from_layered(
        cls, layered: LayeredPostings, k1: float = 1.2, b: float = 0.75
    ) -> BM25[tuple[str, int]]:
        """A base's precomputed postings (``indexer.lexicon``) as they are, its rows of
        paths the delta hides masked out, and the delta's rows added: keys (path, place
        among the file's chunks). The arrays are shared, not copied."""
        p = layered.postings
        bm: BM25[tuple[str, int]] = BM25(k1, b)
        alive = layered.alive()
        bm._loaded_starts, bm._loaded_slots = p.starts, p.rows
        bm._loaded_tfs, bm._loaded_lengths = p.tfs, p.lengths
        bm._loaded_alive = alive
        bm._loaded_live = int(np.count_nonzero(alive))
        bm._loaded_term = p
        bm._total_length = int(p.lengths[alive].sum())
        # keys and slots by map/zip (no Python loop over the 67,000 rows of sympy's base)
        paths = map(layered.names.__getitem__, layered.codes.tolist())
        keys: list[tuple[str, int] | None] = list(zip(paths, layered.ordinal.tolist(), strict=True))
        live_keys: list[tuple[str, int]] = keys  # type: ignore[assignment]
        slots = dict(zip(live_keys, range(len(keys)), strict=True))
        for i in np.flatnonzero(~alive).tolist():
            del slots[live_keys[i]]
            keys[i] = None
        bm._slot = slots
        bm._keys = keys
        for key, counts in layered.delta_docs():
            bm.add(key, counts)
        return bm

    @classmethod
    def from_columns(
        cls, keys: Sequence[K], terms: pa.ChunkedArray | pa.Array, tfs: pa.ChunkedArray | pa.Array
    ) -> BM25[K] | None:
        """A corpus loaded at once from stored term counts (``chunks.terms``/``tfs``, one
        row per key): numpy over the columns instead of tokenizing texts. None when the
        columns are incomplete (an older index): the caller tokenizes instead."""
        if isinstance(terms, pa.ChunkedArray):
            terms = terms.combine_chunks()
        if isinstance(tfs, pa.ChunkedArray):
            tfs = tfs.combine_chunks()
        if len(terms) != len(keys) or len(tfs) != len(keys) or terms.null_count or tfs.null_count:
            return None
        lengths = pc.list_value_length(terms).to_numpy()
        if not np.array_equal(lengths, pc.list_value_length(tfs).to_numpy()):
            return None
        codes = pc.dictionary_encode(pc.list_flatten(terms))
        return cls.from_counts(
            keys,
            np.concatenate([[0], np.cumsum(lengths)]),
            codes.dictionary.to_pylist(),
            codes.indices.to_numpy(),
            pc.list_flatten(tfs).to_numpy(),
        )

    def __len__(self) -> int:
        return len(self._lengths) + self._loaded_live

    @property
    def avg_length(self) -> float:
        n = len(self)
        return (self._total_length / n) if n else 1.0

    def key(self, slot: int) -> K | None:
        return self._keys[slot]

    def df(self, term: str) -> int:
        """How many documents hold ``term``."""
        return len(self._postings.get(term, ())) + self._loaded_count(term)

    def _loaded_count(self, term: str) -> int:
        row = self._loaded_term.get(term)
        if row is None:
            return 0
        found = self._loaded_df.get(term)
        if found is None:
            slots = self._loaded_slots[self._loaded_starts[row] : self._loaded_starts[row + 1]]
            found = int(np.count_nonzero(self._loaded_alive[slots]))
            self._loaded_df[term] = found
        return found

    def holders(self, term: str) -> list[K]:
        """The documents that hold ``term``, in slot order."""
        slots, _ = self._array(term)
        keys = self._keys
        return [k for s in sorted(slots.tolist()) if (k := keys[s]) is not None]

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
        if slot < len(self._loaded_alive):  # a loaded document: masked, its slot not reused
            self._loaded_alive[slot] = False
            self._loaded_live -= 1
            self._total_length -= int(self._loaded_lengths[slot])
            self._arrays.clear()  # its terms are not listed per document
            self._loaded_df.clear()
            return
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
        df = self.df(term)
        n = len(self)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _array(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        avg = self.avg_length
        if abs(avg - self._avg_at_build) > 0.1 * max(avg, 1.0):  # the corpus drifted
            self._arrays.clear()
            self._avg_at_build = avg
        arr = self._arrays.get(term)
        if arr is None:
            posting = self._postings.get(term, {})
            slots = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tf = np.fromiter(posting.values(), dtype=np.float64, count=len(posting))
            lengths = np.fromiter(
                (self._lengths[s] for s in posting), dtype=np.float64, count=len(posting)
            )
            row = self._loaded_term.get(term)
            if row is not None:
                a, z = self._loaded_starts[row], self._loaded_starts[row + 1]
                loaded = self._loaded_slots[a:z]
                alive = self._loaded_alive[loaded]
                loaded = loaded[alive]
                slots = np.concatenate([loaded.astype(np.int64), slots])
                tf = np.concatenate([self._loaded_tfs[a:z][alive].astype(np.float64), tf])
                lengths = np.concatenate([self._loaded_lengths[loaded], lengths])
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
        n = len(self)
        if n == 0:
            return out
        limit = max_df * n
        for term, qtf in Counter(query_terms).items():
            df = self.df(term)
            if not df or df > limit:
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
        if not len(self):
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
