"""How the context builder reads an ``indexer.search.Index``: its version, which files'
rows changed, those rows, and the stored chunk vectors. Kept in one place so the rest of
the package works on plain data.

The Index already holds a snapshot of its rows in memory and replaces it whole on
``refresh()``; the snapshot's identity is the version (read without any I/O, so checking
it on every keystroke is free). Whoever writes the index calls ``refresh()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.context.workspace import FileEntry, StoredVectors


def index_version(index: Any) -> Any:
    """A value that changes whenever the index's snapshot changes: a public ``version``
    when the Index has one, else the snapshot object itself (compare with ``same``)."""
    v = getattr(index, "version", None)
    if v is not None:
        return v() if callable(v) else v
    return getattr(index, "_snap", None)


def same(a: Any, b: Any) -> bool:
    """Versions are equal: values compare by value, objects (snapshots) by identity."""
    if isinstance(a, int | str | tuple):
        return bool(a == b)
    return a is b and a is not None


def file_signatures(index: Any) -> dict[str, Any]:
    """path → content hash of every committed file."""
    out: dict[str, Any] = {}
    for p in index.known_paths():
        row = index.file(p)
        out[p] = row.content_hash if row is not None else None
    return out


def load_files(index: Any, paths: Sequence[str]) -> list[FileEntry]:
    """The chunks, definitions and imports of ``paths`` (dict lookups in the snapshot).
    Chunks and imports as the Index holds them when it can say (``chunk_rows``,
    ``import_rows``): a file's stored rows become objects when the context first reads
    that file, not all on the first load."""
    chunks = getattr(index, "chunk_rows", index.chunks)
    imports = getattr(index, "import_rows", index.imports)
    return [FileEntry(p, chunks(p), index.file_definitions(p), imports(p)) for p in paths]


def chunk_terms(index: Any) -> Any:
    """Every chunk's stored term counts as Arrow columns (``Index.chunk_terms``), or None
    when the index has none (then the view tokenizes the texts itself)."""
    read = getattr(index, "chunk_terms", None)
    return read() if callable(read) else None


def chunk_postings(index: Any) -> Any:
    """A base's precomputed postings seen through the delta (``Index.chunk_postings``),
    or None (then ``chunk_terms``)."""
    read = getattr(index, "chunk_postings", None)
    return read() if callable(read) else None


def vectors_version(index: Any) -> Any:
    """Changes when the stored vectors change; None when the index has none."""
    if not index.has_vectors():
        return None
    snap = getattr(index, "_snap", None)
    return getattr(snap, "vecs", None) if snap is not None else index_version(index)


def load_vectors(index: Any, hashes: set[str]) -> StoredVectors:
    """Stored vectors by chunk content hash, for these hashes (rows of the index's own
    matrix, not copies)."""
    snap = getattr(index, "_snap", None)
    keys = getattr(snap, "vec_hashes", None)
    vecs = getattr(snap, "vecs", None)
    if keys is None or vecs is None:
        slug = index.store.meta().get("embedder_slug")
        if not slug:
            return StoredVectors()
        keys, vecs = index.store.read_vectors_int8(slug)
    return StoredVectors(vecs, {h: i for i, h in enumerate(keys) if h in hashes})
