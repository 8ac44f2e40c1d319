"""Code similar to the window before the cursor: in-memory BM25 beside vector similarity,
fused by reciprocal rank.

The vector channel never runs the embedding model at the cursor (one MiniLM call costs
20 ms or more on two cores, the whole budget): its query is the stored vector of the
nearest complete chunks above the cursor, which the indexer already embedded."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np

from indexer.types import Chunk, content_hash
from server.context.bm25 import code_terms, term_counts
from server.context.rank import Candidate
from server.context.workspace import Layered

RRF_K = 60
# Weight of the similar-code channel against definitions (scored from about 0.5 to 3).
SIMILAR_WEIGHT = 0.9

QUERY_CHUNKS = 2  # how many complete chunks above the cursor make the vector query


def text_ranking(
    layer: Layered,
    query: str,
    k: int,
    keep: Callable[[str, int, int], bool],
    scores: np.ndarray | None = None,
) -> list[tuple[str, int, int, str, float]]:
    """Chunks kept by ``keep`` by BM25 against ``query``: (path, start, end, text, score),
    best first. Overlay buffers are scored with the indexed corpus's statistics so the two
    compare; their chunks unchanged since indexing reuse the indexed scores."""
    terms = code_terms(query)
    if not terms:
        return []
    view = layer.view
    bm25 = view.bm25
    if scores is None:
        scores = bm25.score_vector(terms)
    rows: list[tuple[str, int, int, str, float]] = []
    for (path, i), score in bm25.top_of(scores, 4 * k + 16):
        c = view.files[path].chunks[i]
        if path not in layer.overlay and keep(path, c.start_line, c.end_line):
            rows.append((path, c.start_line, c.end_line, c.text, score))
    q = Counter(terms)
    for path, entry in layer.overlay.items():
        same = layer.twins(path)
        for c in entry.chunks:
            if not keep(path, c.start_line, c.end_line):
                continue
            j = same.get(id(c))
            slot = bm25.slot((path, j)) if j is not None else None
            s = float(scores[slot]) if slot is not None else bm25.score_doc(q, _terms(c))
            if s > 0:
                rows.append((path, c.start_line, c.end_line, c.text, s))
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    return rows[:k]


def _terms(chunk: Chunk) -> dict[str, int]:
    """Term counts of a chunk's text, cached by content (an open buffer is re-scored on
    every keystroke, and most of its chunks have not changed)."""
    key = chunk.text
    hit = _term_cache.get(key)
    if hit is None:
        hit = term_counts(key)
        _term_cache[key] = hit
        if len(_term_cache) > 4096:
            _term_cache.pop(next(iter(_term_cache)), None)
    return hit


_term_cache: dict[str, dict[str, int]] = {}


def similar_candidates(
    layer: Layered,
    query: str,
    keep: Callable[[str, int, int], bool],
    k: int,
    qvec: np.ndarray | None = None,
    lexical: np.ndarray | None = None,
) -> list[Candidate]:
    """The top ``k`` chunks similar to ``query``, kept by ``keep(path, start, end)``."""
    pool = 4 * k
    ranked: dict[tuple[str, int, int], tuple[str, float, list[str]]] = {}

    def vote(path: str, start: int, end: int, text: str, rank: int, channel: str) -> None:
        key = (path, start, end)
        old_text, old, channels = ranked.get(key, (text, 0.0, []))
        ranked[key] = (old_text, old + 1.0 / (RRF_K + rank), [*channels, channel])

    rank = 0
    for path, start, end, text, _ in text_ranking(layer, query, pool * 2, keep, lexical):
        if keep(path, start, end):
            rank += 1
            vote(path, start, end, text, rank, "text")
            if rank >= pool:
                break
    if qvec is not None:
        rank = 0
        for path, start, end, text, _ in vector_ranking(layer, qvec, pool * 2, keep):
            if keep(path, start, end):
                rank += 1
                vote(path, start, end, text, rank, "vector")
                if rank >= pool:
                    break
    if not ranked:
        return []
    channels_total = 2 if qvec is not None else 1
    best = channels_total / (RRF_K + 1)
    out = []
    for (path, start, end), (text, score, channels) in ranked.items():
        norm = SIMILAR_WEIGHT * math.sqrt(score / best)
        why = " and ".join(sorted(set(channels)))
        out.append(
            Candidate(
                path,
                start,
                end,
                text,
                norm,
                "similar",
                f"similar to the lines before the cursor ({why})",
            )
        )
    out.sort(key=lambda c: -c.score)
    return out[:k]


def query_vector(layer: Layered, path: str, cursor_line1: int) -> np.ndarray | None:
    """The mean stored vector of the last complete chunks above the cursor line (from the
    buffer when its chunks are unchanged since indexing, else from the indexed file)."""
    view = layer.view
    if not view.vectors:
        return None
    for entry in (layer.overlay.get(path), view.files.get(path)):
        if entry is None:
            continue
        above = [c for c in entry.chunks if c.end_line < cursor_line1]
        above.sort(key=lambda c: c.end_line)
        vecs = [view.vectors.get(_hash(c.text)) for c in above[-QUERY_CHUNKS:]]
        found = [v for v in vecs if v is not None]
        if found:
            q = np.mean(np.vstack(found), axis=0)
            norm = float(np.linalg.norm(q))
            return q / norm if norm > 0 else None
    return None


def vector_ranking(
    layer: Layered, qvec: np.ndarray, k: int, keep: Callable[[str, int, int], bool]
) -> list[tuple[str, int, int, str, float]]:
    """Chunks kept by ``keep`` by cosine similarity to ``qvec``: (path, start, end, text,
    score), best first. Overlay buffers count through the vectors of their chunks unchanged
    since indexing."""
    view = layer.view
    # overlay path → indices of its indexed chunks that the buffer still holds unchanged
    same = {path: set(layer.twins(path).values()) for path in layer.overlay}
    rows: list[tuple[str, int, int, str, float]] = []
    m = view.matrix()
    if m is not None:
        keys = m.keys
        scores = m.scores(qvec)
        n = min(len(keys), 4 * k + 16)
        top = np.argpartition(-scores, n - 1)[:n] if n < len(keys) else np.arange(len(keys))
        for j in top:
            path, i = keys[int(j)]
            c = view.files[path].chunks[i]
            if path in same and i not in same[path]:
                continue  # replaced by the unsaved buffer
            if keep(path, c.start_line, c.end_line):
                rows.append((path, c.start_line, c.end_line, c.text, float(scores[j])))
    for path, entry in layer.overlay.items():
        for c in entry.chunks:
            if id(c) in layer.twins(path) or not keep(path, c.start_line, c.end_line):
                continue
            v = view.vectors.get(_hash(c.text))
            if v is not None:
                rows.append((path, c.start_line, c.end_line, c.text, float(v @ qvec)))
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    return rows[:k]


def _hash(text: str) -> str:
    """A chunk's content hash, cached: an open buffer's chunks are looked up per keystroke."""
    h = _hash_cache.get(text)
    if h is None:
        h = content_hash(text)
        _hash_cache[text] = h
        if len(_hash_cache) > 4096:
            _hash_cache.pop(next(iter(_hash_cache)), None)
    return h


_hash_cache: dict[str, str] = {}
