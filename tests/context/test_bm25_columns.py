"""The context builder's BM25 loaded from the term counts the index stores per chunk ranks
exactly like one built by tokenizing every chunk, before and after files change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.context import source
from server.context.bm25 import BM25, term_counts
from server.context.workspace import ChunkKey, bm25_from_columns

QUERIES = ["parse config", "load settings path", "shape area", "return none", "x"]


def _scores(bm: BM25[ChunkKey], query: str) -> dict[ChunkKey, float]:
    return dict(bm.top(term_counts(query), k=10_000))


def test_loaded_from_columns_ranks_like_tokenizing(ws: tuple[Path, Any]) -> None:
    _, index = ws
    entries = source.load_files(index, sorted(index.known_paths()))
    loaded = bm25_from_columns(entries, index.chunk_terms())
    assert loaded is not None
    tokenized: BM25[ChunkKey] = BM25()
    for e in entries:
        for i, c in enumerate(e.chunks):
            tokenized.add((e.path, i), term_counts(c.text))
    assert len(loaded) == len(tokenized) > 10

    def same() -> None:
        for q in QUERIES:
            a, b = _scores(loaded, q), _scores(tokenized, q)
            assert a.keys() == b.keys()
            assert all(a[k] == pytest.approx(b[k]) for k in a)
        for term in ("self", "return", "def", "nothing_like_this"):
            assert loaded.df(term) == tokenized.df(term)

    same()
    # A file changes (its loaded chunks masked, the new ones added) and one goes away.
    changed, gone = entries[0], entries[1]
    for bm in (loaded, tokenized):
        for i in range(len(changed.chunks)):
            bm.remove((changed.path, i))
        bm.add((changed.path, 0), term_counts("def load_settings(path): return parse(path)"))
        for i in range(len(gone.chunks)):
            bm.remove((gone.path, i))
    same()


def test_columns_that_do_not_match_the_rows_are_not_used(ws: tuple[Path, Any]) -> None:
    _, index = ws
    entries = source.load_files(index, sorted(index.known_paths()))
    table = index.chunk_terms()
    assert bm25_from_columns(entries, None) is None  # an index written before they existed
    assert bm25_from_columns(entries[1:], table) is None  # rows of a file the view lacks
    assert bm25_from_columns(entries, table.slice(1)) is None  # a chunk without its row
