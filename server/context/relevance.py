"""How well a definition fits the cursor, to order definitions found by the same kind of
evidence (say, the twelve names a file imports and has not used yet).

Three cheap signals, each in [0, 1]: the definition's name shares words with the lines just
above the cursor (``_null_highlighter = `` before ``NullHighlighter``), its code is
lexically close to them (BM25), and the workspace imports it often."""

from __future__ import annotations

import math

import numpy as np

from server.context.bm25 import code_terms
from server.context.cursor import Cursor
from server.context.definitions import Relevance
from server.context.workspace import Layered

NAME, LEXICAL, POPULAR = 0.5, 0.3, 0.2
LINES = 10
DECAY = 0.85


def term_weights(cursor: Cursor, n_lines: int = LINES) -> dict[str, float]:
    """Lower-cased words and sub-words of the last non-empty lines, 1.0 on the cursor line
    and decaying upwards."""
    weights: dict[str, float] = {}
    seen = 0
    for text in reversed(cursor.prefix_lines):
        if not text.strip():
            continue
        w = DECAY**seen
        for term in code_terms(text):
            if weights.get(term, 0.0) < w:
                weights[term] = w
        seen += 1
        if seen >= n_lines:
            break
    return weights


def name_terms(name: str) -> list[str]:
    terms = code_terms(name)
    return terms[1:] if len(terms) > 1 else terms


def make_relevance(layer: Layered, cursor: Cursor, lexical: np.ndarray) -> Relevance:
    """A relevance function over the view, given the BM25 scores of the query window (one
    per slot of the view's BM25)."""
    weights = term_weights(cursor)
    top_lexical = (float(lexical.max()) if len(lexical) else 0.0) or 1.0
    bm25 = layer.view.bm25
    counts = layer.view.imported_names
    top_count = math.log1p(max(counts.values(), default=0)) or 1.0

    def relevance(name: str, path: str, chunk: int) -> float:
        parts = name_terms(name)
        match = sum(weights.get(p, 0.0) for p in parts) / len(parts) if parts else 0.0
        slot = None if path in layer.overlay else bm25.slot((path, chunk))
        lex = float(lexical[slot]) / top_lexical if slot is not None else 0.0
        popular = math.log1p(max(0, counts.get(name, 0))) / top_count
        return NAME * match + LEXICAL * lex + POPULAR * popular

    return relevance
