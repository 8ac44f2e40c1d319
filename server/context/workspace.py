"""An in-memory view of the index for the context builder: symbols by name, chunks and
imports by path, a BM25 over chunks.

Every keystroke asks for context, and one LanceDB query costs milliseconds; so the rows are
read once per index version (only the paths whose rows changed are re-read) and every
lookup at the cursor is a dict access. Unsaved buffers (the overlay) are layered on top at
query time without touching the cached view.
"""

from __future__ import annotations

import posixpath
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from indexer.gc_pause import gc_paused
from indexer.lazy_rows import LazyRows, chunk_column, term_keys
from indexer.resolve import PathIndex
from indexer.types import Chunk, ImportRef, ParsedFile, SymbolDef, content_hash
from indexer.vectors import Int8Rows
from server.context.bm25 import BM25, term_counts


class StoredVectors(Mapping[str, np.ndarray]):
    """Stored chunk vectors by content hash: rows of the index's own int8 matrix (shared,
    not copied: 31 MB for 80,000 MiniLM vectors), reached through a hash → row map; a row
    reads as float32."""

    __slots__ = ("matrix", "rows")

    def __init__(self, matrix: Int8Rows | None = None, rows: dict[str, int] | None = None):
        self.matrix = matrix if matrix is not None else Int8Rows.empty()
        self.rows = rows or {}

    def __getitem__(self, content_hash: str) -> np.ndarray:
        return self.matrix[self.rows[content_hash]]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __contains__(self, content_hash: object) -> bool:
        return content_hash in self.rows


@dataclass(frozen=True, slots=True)
class VectorMatrix:
    """The chunks with a stored vector (``keys``) and each one's row of ``matrix``:
    ``scores(q)`` is every key's dot product with ``q``."""

    keys: list[tuple[str, int]]
    rows: np.ndarray
    matrix: Int8Rows

    def scores(self, q: np.ndarray) -> np.ndarray:
        # Every stored row is scored (the index keeps few unused ones) and the keys'
        # rows are picked from the result.
        return self.matrix.scores(q)[self.rows]


@dataclass(slots=True)
class FileEntry:
    """The rows of one file, as the context builder uses them."""

    path: str
    chunks: Sequence[Chunk] = field(default_factory=list)  # read-only (may be lazy rows)
    definitions: list[SymbolDef] = field(default_factory=list)
    imports: Sequence[ImportRef] = field(default_factory=list)  # read-only (may be lazy rows)
    signature: Any = None  # whatever tells us the rows changed (the file's content hash)

    @classmethod
    def from_parsed(cls, parsed: ParsedFile) -> FileEntry:
        return cls(parsed.path, list(parsed.chunks), list(parsed.definitions), list(parsed.imports))


ChunkKey = tuple[str, int]  # (path, index into FileEntry.chunks)


class WorkspaceView:
    """The whole index in memory, refreshed path by path when the index version moves."""

    def __init__(self) -> None:
        self.version: Any = None
        self.files: dict[str, FileEntry] = {}
        self.by_name: dict[str, list[tuple[str, SymbolDef]]] = {}
        self.bm25: BM25[ChunkKey] = BM25()
        self.imported_names: Counter[str] = Counter()  # how many imports bind each name
        self.vectors = StoredVectors()  # chunk content hash → stored vector
        self.vectors_version: Any = None
        self._paths: PathIndex | None = None
        self._configs: dict[tuple[str, ...], dict[str, str]] = {}
        self._matrix: VectorMatrix | None = None
        # What a file sees without an import, by file and state of its buffer (the
        # context builder's ``scope_rows``); emptied whenever any file's rows change.
        self.scope_rows: dict[Any, Any] = {}
        # How many chunks name each in-scope name (lower-cased), read once per state.
        self.name_df: dict[str, int] = {}
        self.lock = threading.RLock()  # held while the view is read or changed

    # --- loading -------------------------------------------------------------------------

    def sync_from(self, index: Any) -> None:
        """Bring the view up to the index's current version (a no-op when unchanged)."""
        from server.context import source

        version = source.index_version(index)
        if source.same(version, self.version):
            return
        with self.lock:
            if source.same(version, self.version):
                return
            signatures = source.file_signatures(index)
            # In path order: the index lists its paths as a set, whose order changes with
            # each process's string hashing, and names defined in two files (Go build
            # tags) must come back in the same order every run for ties to fall alike.
            stale = sorted(p for p, sig in signatures.items() if self._signature(p) != sig)
            for path in [p for p in self.files if p not in signatures]:
                self._drop(path)
            if stale:
                with gc_paused():
                    self._load(index, stale, signatures)
            self._sync_vectors(index, source)
            self.version = version

    def _load(self, index: Any, stale: list[str], signatures: dict[str, Any]) -> None:
        """Put in the rows of the ``stale`` paths (every path, on a first load)."""
        from server.context import source

        stale_set = set(stale)
        entries = source.load_files(index, stale)
        # A first load takes the BM25 from the stored term counts when it can.
        loaded = None
        if not self.files:  # a base's postings, else the stored term counts
            postings = source.chunk_postings(index)
            loaded = (
                BM25.from_layered(postings)
                if postings is not None
                else bm25_from_columns(entries, source.chunk_terms(index))
            )
        if loaded is not None:
            self.bm25 = loaded
        for entry in entries:
            entry.signature = signatures.get(entry.path)
            self._put(entry, tokenize=loaded is None)
            stale_set.discard(entry.path)
        for path in stale_set:  # listed but without rows: keep it known, empty
            self._put(FileEntry(path, signature=signatures[path]))

    def _sync_vectors(self, index: Any, source: Any) -> None:
        """Vectors fill in behind the lexical rows: read the new ones when the table moved."""
        vversion = source.vectors_version(index)
        if vversion is None:
            self.vectors = StoredVectors()
            self._matrix = None
        elif not source.same(vversion, self.vectors_version):
            wanted = {h for e in self.files.values() for h in _hashes(e)}
            self.vectors = source.load_vectors(index, wanted)
            self._matrix = None
        self.vectors_version = vversion

    def _signature(self, path: str) -> Any:
        entry = self.files.get(path)
        return entry.signature if entry is not None else None

    def add_files(self, entries: Iterable[FileEntry]) -> None:
        """Put rows in directly (tests, and building a view without an index)."""
        with self.lock:
            for entry in entries:
                self._put(entry)

    def _put(self, entry: FileEntry, tokenize: bool = True) -> None:
        """Add a file's rows (``tokenize``: to the BM25 too; False when it was loaded with
        them from the stored term counts)."""
        if entry.path in self.files:
            self._drop(entry.path)
        self.files[entry.path] = entry
        for d in entry.definitions:
            self.by_name.setdefault(d.name, []).append((entry.path, d))
        if tokenize:
            for i, chunk in enumerate(entry.chunks):
                self.bm25.add((entry.path, i), term_counts(chunk.text))
        self.imported_names.update(_bound_names(entry.imports))
        self._paths = None
        self.scope_rows.clear()
        self.name_df.clear()
        self._configs.clear()
        self._matrix = None

    def _drop(self, path: str) -> None:
        entry = self.files.pop(path, None)
        if entry is None:
            return
        for d in entry.definitions:
            rows = self.by_name.get(d.name)
            if rows:
                rows[:] = [r for r in rows if r[0] != path]
                if not rows:
                    del self.by_name[d.name]
        for i in range(len(entry.chunks)):
            self.bm25.remove((path, i))
        self.imported_names.subtract(_bound_names(entry.imports))
        self._paths = None
        self.scope_rows.clear()
        self.name_df.clear()
        self._configs.clear()
        self._matrix = None

    # --- lookups ---------------------------------------------------------------------------

    def matrix(self) -> VectorMatrix | None:
        """Every chunk with a stored vector (L2-normalised) and its row of the stored
        matrix; None without vectors."""
        if self._matrix is None and self.vectors:
            keys: list[ChunkKey] = []
            rows: list[int] = []
            where = self.vectors.rows
            for path, entry in self.files.items():
                for i, h in enumerate(_hashes(entry)):
                    row = where.get(h)
                    if row is not None:
                        keys.append((path, i))
                        rows.append(row)
            if rows:
                matrix = self.vectors.matrix
                self._matrix = VectorMatrix(keys, np.array(rows, dtype=np.intp), matrix)
        return self._matrix

    def path_index(self) -> PathIndex:
        """The indexed paths with suffix and folder maps, for import resolution."""
        if self._paths is None:
            self._paths = PathIndex(self.files)
        return self._paths

    def configs(self, names: tuple[str, ...]) -> dict[str, str]:
        """Project files named ``names`` (go.mod, tsconfig.json): path → text, rebuilt from
        their chunks (blank lines between chunks dropped, which these formats ignore)."""
        found = self._configs.get(names)
        if found is None:
            found = {
                p: _text(e)
                for p, e in self.files.items()
                if posixpath.basename(p) in names and e.chunks
            }
            self._configs[names] = found
        return found


def bm25_from_columns(entries: list[FileEntry], table: pa.Table | None) -> BM25[ChunkKey] | None:
    """A BM25 over ``entries`` from their chunks' stored term counts (columns path,
    start_line, end_line, terms, tfs; each path's rows together, in chunk order): numpy
    over the columns instead of tokenizing every text. None when the columns are missing
    or do not match the entries (an older index): the caller tokenizes instead."""
    if table is None or table.num_rows == 0:
        return None
    keys = term_keys(table, {e.path: e.chunks for e in entries})
    if keys is None:
        return None
    return BM25.from_columns(keys, table.column("terms"), table.column("tfs"))


def _bound_names(imports: Sequence[ImportRef]) -> list[str]:
    """The member names ``imports`` bind (``from m import X``: X), read from the stored
    column when the rows are still lazy (no object per import)."""
    names = imports.column("name") if isinstance(imports, LazyRows) else [r.name for r in imports]
    return [n for n in names if n and n != "*"]


def _hashes(entry: FileEntry) -> list[str]:
    """Each chunk's content hash, from the stored rows without making objects of them."""
    return [content_hash(t) for t in chunk_column(entry.chunks, "text")]


def _text(entry: FileEntry) -> str:
    return "\n".join(c.text for c in entry.chunks if c.kind != "class_summary")


class Layered:
    """The view as seen through the overlay: an open buffer's rows replace the indexed ones."""

    def __init__(
        self,
        view: WorkspaceView,
        overlay: Mapping[str, ParsedFile] | None,
        current: FileEntry | None = None,
    ) -> None:
        self.view = view
        self.overlay: dict[str, FileEntry] = {
            p: FileEntry.from_parsed(pf) for p, pf in (overlay or {}).items()
        }
        if current is not None:
            self.overlay[current.path] = current
        self._twins: dict[str, dict[int, int]] = {}

    def file(self, path: str) -> FileEntry | None:
        entry = self.overlay.get(path)
        return entry if entry is not None else self.view.files.get(path)

    def has_path(self, path: str) -> bool:
        return path in self.overlay or path in self.view.files

    def definitions(self, name: str) -> list[tuple[str, SymbolDef]]:
        rows = [r for r in self.view.by_name.get(name, ()) if r[0] not in self.overlay]
        for path, entry in self.overlay.items():
            rows.extend((path, d) for d in entry.definitions if d.name == name)
        return rows

    def twins(self, path: str) -> dict[int, int]:
        """For an overlay buffer: id of each of its chunks identical to an indexed chunk
        (same lines, same text) → that chunk's index in the view, so unchanged chunks of an
        open buffer reuse the indexed scores and vectors."""
        memo = self._twins.get(path)
        if memo is None:
            memo = {}
            entry, indexed = self.overlay.get(path), self.view.files.get(path)
            if entry is not None and indexed is not None:
                where = {
                    (c.start_line, c.end_line, c.text): i for i, c in enumerate(indexed.chunks)
                }
                for c in entry.chunks:
                    i = where.get((c.start_line, c.end_line, c.text))
                    if i is not None:
                        memo[id(c)] = i
            self._twins[path] = memo
        return memo

    def path_index(self) -> PathIndex:
        """Indexed paths, plus any unsaved buffer not indexed yet."""
        base = self.view.path_index()
        extra = [p for p in self.overlay if p not in base]
        return PathIndex([*base.paths, *extra]) if extra else base

    def imports_of(self, path: str) -> Sequence[ImportRef]:
        entry = self.file(path)
        return entry.imports if entry is not None else []

    def definitions_of(self, path: str) -> list[SymbolDef]:
        entry = self.file(path)
        return entry.definitions if entry is not None else []

    def configs(self, names: Iterable[str]) -> dict[str, str]:
        """Project files (go.mod, tsconfig.json) as the overlay shows them: path → text."""
        key = tuple(names)
        found = self.view.configs(key)
        extra = {p: _text(e) for p, e in self.overlay.items() if posixpath.basename(p) in key}
        return {**found, **extra} if extra else found
