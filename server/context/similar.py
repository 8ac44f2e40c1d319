"""Code similar to the window before the cursor: in-memory BM25 beside vector similarity,
fused by reciprocal rank.

The vector channel never runs the embedding model at the cursor (one MiniLM call costs
20 ms or more on two cores, the whole budget): its query is the stored vector of the
nearest complete chunks above the cursor, which the indexer already embedded."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping

import numpy as np

from server.context.bm25 import code_terms
from server.context.rank import Candidate
from server.context.workspace import ChunkKey, Layered

RRF_K = 60
# Weight of the similar-code channel against definitions (scored from about 0.5 to 3).
SIMILAR_WEIGHT = 0.9

QUERY_CHUNKS = 2  # how many complete chunks above the cursor make the vector query


def text_ranking(
    layer: Layered, query: str, k: int, scores: Mapping[ChunkKey, float] | None = None
) -> list[tuple[str, int, int, str, float]]:
    """Chunks by BM25 against ``query``: (path, start, end, text, score), best first.

    Overlay buffers are scored with the indexed corpus's statistics so the two compare."""
    terms = code_terms(query)
    if not terms:
        return []
    view = layer.view
    if scores is None:
        scores = view.bm25.scores(terms)
    rows: list[tuple[str, int, int, str, float]] = []
    for key, score in scores.items():
        path, i = key
        if path in layer.overlay:
            continue
        c = view.files[path].chunks[i]
        rows.append((path, c.start_line, c.end_line, c.text, score))
    if layer.overlay:
        q = Counter(terms)
        bm = view.bm25
        n = max(1, len(bm))
        avg = (bm._total_length / n) or 1.0
        for path, entry in layer.overlay.items():
            for c in entry.chunks:
                tf = Counter(code_terms(c.text))
                length = sum(tf.values())
                s = 0.0
                for term, qtf in q.items():
                    f = tf.get(term, 0)
                    if f:
                        norm = f * (bm.k1 + 1) / (f + bm.k1 * (1 - bm.b + bm.b * length / avg))
                        s += qtf * bm.idf(term) * norm
                if s > 0:
                    rows.append((path, c.start_line, c.end_line, c.text, s))
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    return rows[:k]


def similar_candidates(
    layer: Layered,
    query: str,
    keep: Callable[[str, int, int], bool],
    k: int,
    qvec: np.ndarray | None = None,
    lexical: Mapping[ChunkKey, float] | None = None,
) -> list[Candidate]:
    """The top ``k`` chunks similar to ``query``, kept by ``keep(path, start, end)``."""
    pool = 4 * k
    ranked: dict[tuple[str, int, int], tuple[str, float, list[str]]] = {}

    def vote(path: str, start: int, end: int, text: str, rank: int, channel: str) -> None:
        key = (path, start, end)
        old_text, old, channels = ranked.get(key, (text, 0.0, []))
        ranked[key] = (old_text, old + 1.0 / (RRF_K + rank), [*channels, channel])

    rank = 0
    for path, start, end, text, _ in text_ranking(layer, query, pool * 2, lexical):
        if keep(path, start, end):
            rank += 1
            vote(path, start, end, text, rank, "text")
            if rank >= pool:
                break
    if qvec is not None:
        rank = 0
        for path, start, end, text, _ in vector_ranking(layer, qvec, pool * 2):
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
        vecs = [view.vectors.get(c.content_hash) for c in above[-QUERY_CHUNKS:]]
        found = [v for v in vecs if v is not None]
        if found:
            q = np.mean(np.vstack(found), axis=0)
            norm = float(np.linalg.norm(q))
            return q / norm if norm > 0 else None
    return None


def vector_ranking(
    layer: Layered, qvec: np.ndarray, k: int
) -> list[tuple[str, int, int, str, float]]:
    """Chunks by cosine similarity to ``qvec``: (path, start, end, text, score), best first.
    Overlay buffers count through the vectors of their unchanged chunks."""
    view = layer.view
    rows: list[tuple[str, int, int, str, float]] = []
    m = view.matrix()
    if m is not None:
        keys, matrix = m
        scores = matrix @ qvec
        n = min(len(keys), k + 4 * len(layer.overlay) + 8)
        top = np.argpartition(-scores, n - 1)[:n] if n < len(keys) else np.arange(len(keys))
        for j in top:
            path, i = keys[int(j)]
            if path in layer.overlay:
                continue
            c = view.files[path].chunks[i]
            rows.append((path, c.start_line, c.end_line, c.text, float(scores[j])))
    for path, entry in layer.overlay.items():
        for c in entry.chunks:
            v = view.vectors.get(c.content_hash)
            if v is not None:
                rows.append((path, c.start_line, c.end_line, c.text, float(v @ qvec)))
    rows.sort(key=lambda r: (-r[4], r[0], r[1]))
    return rows[:k]
