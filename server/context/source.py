"""How the context builder reads the index: its version, which files' rows changed, those
rows, and the stored chunk vectors. Kept in one place so the rest of the package works on
plain data.

Accepts an ``indexer.search.Index`` (through its ``store``) or an ``indexer.store.Store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from indexer.types import Chunk, ImportRef, SymbolDef
from server.context.workspace import FileEntry

_FEW = 64  # below this many changed paths, read them with a filter; else scan the tables


def store_of(index: Any) -> Any:
    store = getattr(index, "store", None)
    if store is None and hasattr(index, "versions") and hasattr(index, "read"):
        store = index
    if store is None:
        raise TypeError(f"cannot read the rows of {type(index).__name__}: no store")
    return store() if callable(store) and not hasattr(store, "read") else store


def index_version(index: Any) -> Any:
    """A value that changes whenever any table changes (cheap: table versions)."""
    return tuple(sorted(store_of(index).versions().items()))


def file_signatures(index: Any) -> dict[str, Any]:
    """path → content hash, for every committed file (the files table is the commit
    marker: a path without a row there is mid-write and is left out)."""
    return {p: row.content_hash for p, row in store_of(index).files().items()}


def load_files(index: Any, paths: Sequence[str]) -> list[FileEntry]:
    """The chunks, symbols and imports of ``paths``."""
    from indexer.store import CHUNKS, IMPORTS, SYMBOLS, in_list

    store = store_of(index)
    wanted = set(paths)
    where = in_list("path", sorted(wanted)) if len(wanted) <= _FEW else None
    entries = {p: FileEntry(p) for p in wanted}
    cols = ["path", "start_line", "end_line", "language", "kind", "symbols", "text"]
    for r in store.read(CHUNKS, cols, where).to_pylist():
        e = entries.get(r["path"])
        if e is not None:
            e.chunks.append(
                Chunk(
                    r["path"],
                    r["start_line"],
                    r["end_line"],
                    r["language"] or "",
                    r["text"] or "",
                    tuple(r["symbols"] or ()),
                    r["kind"] or "definition",
                )
            )
    for r in store.read(SYMBOLS, None, where).to_pylist():
        e = entries.get(r["path"])
        if e is not None:
            e.definitions.append(
                SymbolDef(r["name"], r["qualified"], r["kind"], r["start_line"], r["end_line"])
            )
    for r in store.read(IMPORTS, None, where).to_pylist():
        e = entries.get(r["path"])
        if e is not None:
            e.imports.append(
                ImportRef(
                    r["local_name"], r["module"], r["name"], r["line"], tuple(r["candidates"] or ())
                )
            )
    for e in entries.values():
        e.chunks.sort(key=lambda c: (c.start_line, c.end_line))
        e.imports.sort(key=lambda i: i.line)
    return list(entries.values())


def vectors_version(index: Any) -> Any:
    """The version of the current embedder's vectors table (None without one)."""
    store = store_of(index)
    slug = store.meta().get("embedder_slug")
    if not slug or store.meta().get("embedder", "none") in ("", "none", "off"):
        return None
    return (slug, store.versions().get(f"vectors_{slug}"))


def load_vectors(index: Any, hashes: set[str]) -> dict[str, np.ndarray]:
    """Stored vectors of the current embedder for these chunk content hashes."""
    version = vectors_version(index)
    if version is None or not hashes:
        return {}
    keys, matrix = store_of(index).read_vectors(version[0])
    return {h: matrix[i] for i, h in enumerate(keys) if h in hashes}
