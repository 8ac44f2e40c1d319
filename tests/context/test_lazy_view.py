"""Warming the context builder's view (every file's type facts, the vector hashes) reads
the stored rows as columns: no file's chunks become objects until a context reads them,
and what is read is what the objects would say."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.lazy_rows import LazyChunks, chunk_column
from indexer.search import open_index
from indexer.sync import sync
from server.context.builder import view_for, warm
from server.context.typefacts import entry_language, entry_text
from server.context.workspace import FileEntry
from server.settings import IndexSettings


def test_warming_leaves_the_rows_lazy(tmp_path: Path) -> None:
    # an index of its own (other tests read the shared one, and so make its objects)
    root = tmp_path / "ws"
    shutil.copytree(Path(__file__).parent / "workspace", root)
    sync(root, IndexSettings(embedder="none"))
    index = open_index(root)
    view = view_for(index)
    warm(index, wait=True)
    entries = list(view.files.values())
    lazy = [e for e in entries if isinstance(e.chunks, LazyChunks)]
    assert len(lazy) == len(entries) > 3
    assert all("loaded=False" in repr(e.chunks) for e in lazy)
    for e in lazy:
        text, language = entry_text(e), entry_language(e)
        texts = chunk_column(e.chunks, "text")
        as_objects = FileEntry(e.path, list(e.chunks))  # now made
        assert "loaded=True" in repr(e.chunks)
        assert entry_text(as_objects) == text and entry_language(as_objects) == language
        assert texts == [c.text for c in as_objects.chunks] == chunk_column(e.chunks, "text")
