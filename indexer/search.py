"""The read side of the index: search, and in-memory lookups for the context builder.

``Index`` keeps a snapshot of the committed rows in memory (files, chunks, definitions,
imports, vectors), so ``definitions``/``imports``/``chunks`` are dict lookups and vector
search is one matrix product. Only paths with a ``files`` row (the commit marker) are
visible. ``refresh()`` compares table versions and reloads only the paths whose ``files``
row changed. A snapshot is replaced whole, so readers on other threads never see a mix.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from indexer import lexicon
from indexer.embedder import Embedder, load_query_embedder, precision_of_slug
from indexer.gc_pause import gc_paused
from indexer.lazy_rows import CHUNK_COLUMNS, lazy_chunks, lazy_groups, term_keys
from indexer.lexicon import LayeredPostings, Postings
from indexer.memory import release_memory
from indexer.storage import display_uri
from indexer.store import (
    CHUNKS,
    CHUNKS_SCHEMA,
    DELETED,
    FILES,
    IMPORTS,
    META,
    SCHEMAS,
    SYMBOLS,
    VECTOR_INDEX_MIN_ROWS,
    FileRow,
    Store,
    default_uri,
    in_list,
    local_path,
    vectors_table_name,
)
from indexer.terms import code_terms
from indexer.types import Chunk, ImportRef, SearchHit, SymbolDef
from indexer.vectors import Int8Rows
from server.settings import IndexSettings

MODES = ("hybrid", "vector", "text", "symbol")
RRF_K = 60
SYMBOL_WEIGHT = 2.0  # the only chunk defining a name in the query counts as two first places
_PARTIAL_RELOAD_MAX = 300
_QUERY_CACHE = 512
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


class IndexNotFound(FileNotFoundError):
    """No index at the expected place (run ``tandem index`` first)."""


@dataclass
class _Snapshot:
    versions: dict[str, int] = field(default_factory=dict)
    files: dict[str, FileRow] = field(default_factory=dict)
    # path → by start_line; rows read from a store stay Arrow until first read (LazyChunks)
    chunks: dict[str, Sequence[Chunk]] = field(default_factory=dict)
    by_id: dict[str, Chunk] | None = None  # built on first full-text search
    # name (short or qualified) → where it is defined: built on first use (the context
    # builder keeps its own, so an editor's open does not pay for this one)
    defs: dict[str, list[tuple[str, SymbolDef]]] | None = None
    file_defs: dict[str, list[SymbolDef]] = field(default_factory=dict)
    imports: dict[str, Sequence[ImportRef]] = field(default_factory=dict)  # may be lazy
    known: frozenset[str] = frozenset()
    meta: dict[str, str] = field(default_factory=dict)
    vec_hashes: list[str] = field(default_factory=list)
    vecs: Int8Rows = field(default_factory=Int8Rows.empty)  # a quarter of the floats' memory
    vec_set: frozenset[str] = frozenset()
    by_hash: dict[str, list[Chunk]] | None = None  # built on first vector search
    lower_names: dict[str, list[str]] | None = None  # built on first symbol search
    deleted: frozenset[str] = frozenset()  # a delta's paths that hide the base's rows
    # Each chunk's stored term counts (path, start_line, end_line, terms, tfs), rows in the
    # order of ``chunks[path]`` with each path's rows together; None for an index written
    # before they were stored. The context builder's BM25 is built from these columns.
    terms: pa.Table | None = None
    # Full-text search over ``terms`` in memory (built on first text search of a layered
    # index): (BM25 over row numbers, the chunk of each row), or None when the columns
    # cannot be used (then the stores' full-text indexes answer).
    text_index: tuple[Any, Any] | tuple[()] | None = None
    # A base's precomputed postings (``indexer.lexicon``), seen through the delta; when
    # set, ``terms`` is None and the BM25s are built from these instead.
    postings: LayeredPostings | None = None


def _grouped(table: pa.Table, names: list[str], keys: list[str], make: Any) -> dict[str, list[Any]]:
    """path → ``make(*row)`` for the table's rows (``names``: the columns, path first, which
    ``make`` does not take), ordered by ``keys`` (Arrow sorts, stably; each column becomes
    a Python list once and the objects are made in one ``map``, not one call per row)."""
    if table.num_rows == 0:
        return {}
    if keys:
        table = _ordered(table, keys)
    codes = pc.dictionary_encode(table.column(names[0]).combine_chunks())
    runs = codes.indices.to_numpy(zero_copy_only=False)
    paths = codes.dictionary.to_pylist()
    objects = list(map(make, *(table.column(c).to_pylist() for c in names[1:])))
    bounds = (np.flatnonzero(runs[1:] != runs[:-1]) + 1).tolist()
    out: dict[str, list[Any]] = {}
    for lo, hi in zip([0, *bounds], [*bounds, len(objects)], strict=True):
        out.setdefault(paths[runs[lo]], []).extend(objects[lo:hi])
    return out


def _ordered(table: pa.Table, keys: list[str]) -> pa.Table:
    """``table`` with each value of ``keys[0]`` (the path) in one run of rows, ordered by
    the other keys within it. Rows are moved only when they are not so already: a sync
    writes each file's rows together and in order, and moving a chunks table's texts and
    terms (a ``take``) cost half a second of a shared base's open."""
    if table.num_rows < 2:
        return table
    codes = pc.dictionary_encode(table.column(keys[0]).combine_chunks())
    runs = codes.indices.to_numpy(zero_copy_only=False)
    within = runs[1:] == runs[:-1]  # row i+1 continues row i's path
    if int(np.count_nonzero(~within)) + 1 == len(codes.dictionary):
        for key in keys[1:]:
            v = table.column(key).to_numpy()
            if np.any(within & (v[1:] < v[:-1])):
                break
            within &= v[1:] == v[:-1]
        else:
            return table
    return table.sort_by([(k, "ascending") for k in keys])


def _import(
    path: str, local_name: str, module: str, name: str | None, line: int, cands: list[str] | None
) -> ImportRef:
    return ImportRef(local_name, module, name, line, tuple(cands or ()))


_CHUNK_COLUMNS = CHUNK_COLUMNS
_TERM_COLUMNS = ["path", "start_line", "end_line", "terms", "tfs"]
_CHUNK_ORDER = ["path", "start_line", "end_line"]
_NO_TERMS = pa.schema(
    [*((c, CHUNKS_SCHEMA.field(c).type) for c in _TERM_COLUMNS), ("ordinal", pa.int32())]
).empty_table()
_SYMBOL_COLUMNS = ["path", "name", "qualified", "kind", "start_line", "end_line"]
_IMPORT_COLUMNS = ["path", "local_name", "module", "name", "line", "candidates"]


def _derive(snap: _Snapshot) -> None:
    """Reset the lookups derived from the per-path rows (definitions by name, chunks by
    id: each built on first use)."""
    snap.known = frozenset(snap.files)
    snap.by_id = None
    snap.defs = None
    snap.lower_names = None


def _definitions(snap: _Snapshot) -> dict[str, list[tuple[str, SymbolDef]]]:
    """Definitions by short and qualified name, each name's by path and line."""
    defs: dict[str, list[tuple[str, SymbolDef]]] = {}
    for path, sds in snap.file_defs.items():
        for d in sds:
            defs.setdefault(d.name, []).append((path, d))
            if d.qualified != d.name:
                defs.setdefault(d.qualified, []).append((path, d))
    for lst2 in defs.values():
        if len(lst2) > 1:  # most names are defined once
            lst2.sort(key=lambda pd: (pd[0], pd[1].start_line))
    return defs


def _compose(base: _Snapshot, delta: _Snapshot) -> _Snapshot:
    """base ∪ delta: a path in the delta (indexed or deleted) hides the base's rows."""
    hidden = set(delta.files) | delta.deleted

    def merged(b: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
        out = {p: v for p, v in b.items() if p not in hidden}
        out.update(d)
        return out

    versions = {f"base:{k}": v for k, v in base.versions.items()}
    versions.update(delta.versions)
    vec_hashes, vecs = base.vec_hashes, base.vecs
    if delta.vec_hashes and delta.vecs.size:
        vecs = Int8Rows.stack([base.vecs, delta.vecs])
        vec_hashes = [*base.vec_hashes, *delta.vec_hashes]
    postings = None
    if base.postings is not None and (delta.terms is not None or not delta.chunks):
        postings = base.postings.through(frozenset(hidden), delta.terms)
    snap = _Snapshot(
        versions=versions,
        files=merged(base.files, delta.files),
        chunks=merged(base.chunks, delta.chunks),
        file_defs=merged(base.file_defs, delta.file_defs),
        imports=merged(base.imports, delta.imports),
        # the base decides the embedder (the delta adopts it) and the commit
        meta={**delta.meta, **{k: v for k, v in base.meta.items() if k != "updated_at"}},
        vec_hashes=vec_hashes,
        vecs=vecs,
        vec_set=base.vec_set | delta.vec_set,
        deleted=delta.deleted,
        terms=None if postings is not None else _compose_terms(base.terms, delta.terms, hidden),
        postings=postings,
    )
    _derive(snap)
    return snap


def _without(table: pa.Table, paths: Iterable[str]) -> pa.Table:
    """The rows of ``table`` whose path is not in ``paths``."""
    drop = pa.array(sorted(set(paths)), pa.string())
    if table.num_rows == 0 or len(drop) == 0:
        return table
    return table.filter(pc.invert(pc.is_in(table.column("path"), value_set=drop)))


def _compose_terms(
    base: pa.Table | None, delta: pa.Table | None, hidden: set[str]
) -> pa.Table | None:
    if base is None or delta is None:
        return None
    return pa.concat_tables([_without(base, hidden), delta], promote_options="default")


def _text_index(snap: _Snapshot) -> tuple[Any, Any] | tuple[()]:
    """A BM25 over the snapshot's chunks (from a base's postings, else from their stored
    term counts) and the chunk of a key; ``()`` when the columns are missing or do not
    line up with the chunks."""
    from server.context.bm25 import BM25  # the context builder's BM25 (no cycle at import)

    if snap.postings is not None:
        chunks = snap.chunks
        return BM25.from_layered(snap.postings), lambda key: chunks[key[0]][key[1]]
    terms = snap.terms
    if terms is None or terms.num_rows == 0:
        return ()
    keys = term_keys(terms, snap.chunks)
    if keys is None:
        return ()
    rows = [snap.chunks[p][i] for p, i in keys]
    bm25 = BM25.from_columns(range(len(rows)), terms.column("terms"), terms.column("tfs"))
    return (bm25, rows.__getitem__) if bm25 is not None else ()


# Reads of one snapshot repeated while a writer commits underneath (see _Layer.refresh).
_CONSISTENT_READ_TRIES = 4


class _Layer:
    """The committed rows of one store, in memory; ``refresh`` reloads what changed."""

    def __init__(self, store: Store, derive: bool = True, postings: bool = False) -> None:
        self.store = store
        self.snap = _Snapshot()
        self.derive = derive  # False for a layer only read through ``_compose``
        self.postings = postings  # a base: read its precomputed postings when valid
        # A base has no tombstones of its own (a delta's hide the base's rows): its
        # ``deleted`` table is never opened (two object-store requests).
        self.tables = [n for n in SCHEMAS if not (postings and n == DELETED)]

    def refresh(self) -> bool:
        """Reload what changed since the last call (by table versions). Cheap when nothing
        changed (one manifest check per table). Returns True if the snapshot changed.

        A writer commits a sync table by table (rows, then tombstones, then the meta that
        names the base). A read that overlaps those commits may see some tables after
        them and others before, so it is read again until the versions it started from
        are still current: a snapshot never shows a new base with the old delta."""
        changed = False
        for _ in range(_CONSISTENT_READ_TRIES):
            if not self._refresh_once():
                return changed
            changed = True
            if self.store.versions(self.tables) == self.snap.versions:
                return changed
        return changed

    def _refresh_once(self) -> bool:
        versions = self.store.versions(self.tables)
        old = self.snap
        if versions == old.versions:
            return False
        deleted_changed = versions.get(DELETED) != old.versions.get(DELETED)
        snap = dataclasses.replace(  # the lookups built on demand are built anew
            old,
            versions=versions,
            meta=self.store.meta(),
            deleted=self.store.deleted() if deleted_changed else old.deleted,
            by_id=None,
            by_hash=None,
            lower_names=None,
            text_index=None,
            postings=None,
        )
        rows_changed = any(
            versions.get(t) != old.versions.get(t) for t in (FILES, CHUNKS, SYMBOLS, IMPORTS)
        )
        if rows_changed:
            self._load_rows(snap, old)
        slug = snap.meta.get("embedder_slug", "")
        vt = vectors_table_name(slug)
        if slug and (versions.get(vt) != old.versions.get(vt) or vt not in versions):
            hashes, vecs = self.store.read_vectors_int8(slug) if vt in versions else ([], None)
            snap.vec_hashes = hashes
            snap.vecs = vecs if vecs is not None else Int8Rows.empty()
            snap.vec_set = frozenset(hashes)
        self.snap = snap
        # The read's temporaries (LanceDB's decoded pages, Python lists of the columns)
        # are freed by now but glibc keeps them: hand them back before the context
        # builder's view is built on top (~110 MB of a 30 MB workspace's; a few ms).
        release_memory()
        return True

    def _load_rows(self, snap: _Snapshot, old: _Snapshot) -> None:
        with gc_paused():
            self._read_rows(snap, old)
        if self.derive:
            with gc_paused():
                _derive(snap)

    def _read_rows(self, snap: _Snapshot, old: _Snapshot) -> None:
        table = self.store.table(CHUNKS)
        stored = table.schema.names if table is not None else []
        with_terms = all(c in stored for c in ("terms", "tfs"))
        term_columns = ["terms", "tfs"] if with_terms else []
        # Postings built with one chunks version are only read with all of its rows.
        whole = not old.files or old.postings is not None
        recorded = snap.meta.get(lexicon.META_KEY, "") if self.postings and whole else ""
        use_postings = recorded.startswith(f"{snap.versions.get(CHUNKS)}:")
        chunk_columns = _CHUNK_COLUMNS + ([] if use_postings else term_columns)
        reads = {CHUNKS: chunk_columns, SYMBOLS: _SYMBOL_COLUMNS, IMPORTS: _IMPORT_COLUMNS}
        with ThreadPoolExecutor(max_workers=len(reads) + 1) as pool:
            # A first load reads every table at once (an object store's latency overlaps).
            first = (
                {n: pool.submit(self.store.read, n, c) for n, c in reads.items()} if whole else {}
            )
            postings_rows = pool.submit(self.store.read, lexicon.LEXICON) if use_postings else None
            files = self.store.files()
            changed = [p for p, f in files.items() if old.files.get(p) != f]
            removed = [p for p in old.files if p not in files]
            if whole or len(changed) > _PARTIAL_RELOAD_MAX:
                snap.chunks, snap.file_defs, snap.imports = {}, {}, {}
                where = None
                targets = list(files)
            else:
                snap.chunks, snap.file_defs = dict(old.chunks), dict(old.file_defs)
                snap.imports = dict(old.imports)
                for p in removed + changed:
                    snap.chunks.pop(p, None)
                    snap.file_defs.pop(p, None)
                    snap.imports.pop(p, None)
                where = in_list("path", changed) if changed else ""
                targets = changed
            if where != "" and targets:
                fetched = first or {
                    n: pool.submit(self.store.read, n, c, where) for n, c in reads.items()
                }
                live = set(targets)
                live_array = pa.array(sorted(live), pa.string())
                # The smaller tables first: the chunks (texts, term lists) are still
                # arriving meanwhile, from an object store above all.
                found = _grouped(fetched[SYMBOLS].result(), _SYMBOL_COLUMNS, ["path"], SymbolDef)
                snap.file_defs.update((p, objs) for p, objs in found.items() if p in live)
                # Imports become objects per file when read (most files' never are).
                ordered = _ordered(fetched[IMPORTS].result(), ["path", "line"])
                lazy = lazy_groups(ordered, _IMPORT_COLUMNS, _import)
                imports = lazy if lazy is not None else {}  # (never: ordered above)
                snap.imports.update((p, rows) for p, rows in imports.items() if p in live)
                read = fetched[CHUNKS].result()
                rows = _live_rows(read, live_array)
                postings = None
                if postings_rows is not None:
                    postings = _valid_postings(postings_rows.result(), rows, read, recorded)
                    if postings is None:  # not the rows it was built from: the columns
                        read = self.store.read(CHUNKS, _CHUNK_COLUMNS + term_columns)
                        rows = _live_rows(read, live_array)
                grouped = lazy_chunks(rows)
                if grouped is None:  # a file's rows apart (not as a sync writes): sort
                    rows = rows.sort_by([(k, "ascending") for k in _CHUNK_ORDER])
                    grouped = lazy_chunks(rows)
                    assert grouped is not None
                by_path, ordinal = grouped
                snap.chunks.update(by_path)
                if postings is not None:
                    codes = pc.dictionary_encode(rows.column("path").combine_chunks())
                    snap.postings = LayeredPostings(
                        postings,
                        codes.dictionary.to_pylist(),
                        codes.indices.to_numpy(zero_copy_only=False),
                        ordinal,
                    )
                terms = (
                    rows.select(_TERM_COLUMNS).append_column("ordinal", pa.array(ordinal))
                    if with_terms and postings is None
                    else None
                )
                if where is None or terms is None or snap.terms is None:
                    snap.terms = terms if where is None else None
                else:  # the changed paths' rows replace theirs, each path's rows together
                    kept = _without(snap.terms, removed + changed)
                    snap.terms = pa.concat_tables([kept, terms], promote_options="default")
            elif where is None:
                snap.terms = _NO_TERMS
            elif snap.terms is not None and removed:
                snap.terms = _without(snap.terms, removed)
        snap.files = files


def _live_rows(table: pa.Table, live: pa.Array) -> pa.Table:
    """The rows of ``table`` whose path is in ``live``: the table itself when every row
    is (a filter copies every column, texts included, even when it drops nothing)."""
    keep = pc.is_in(table.column("path"), value_set=live)
    if keep.null_count == 0 and pc.all(keep).as_py() is not False:
        return table
    return table.filter(keep)


def _valid_postings(
    table: pa.Table, rows: pa.Table, read: pa.Table, recorded: str
) -> Postings | None:
    """The postings of a ``lexicon`` table, when they describe exactly ``rows`` (every row
    ``read``, in the order and at the version they were built from)."""
    if rows.num_rows != read.num_rows:
        return None
    version = recorded.split(":", 1)[0]
    if recorded != f"{version}:{lexicon.fingerprint(rows.select(lexicon.ROW_COLUMNS))}":
        return None
    return Postings.from_table(table, rows.num_rows)


class Index:
    """A workspace's index, read side. Safe to share between threads.

    With a ``base`` (a shared read-only index, e.g. built by CI in object storage) the
    workspace's own store is a local delta over it: the two are layers of one snapshot,
    the delta's files replacing the base's and its ``deleted`` paths hiding them, just as
    open buffers are layered over the index by the context builder.
    """

    def __init__(self, root: Path, uri: str, base: Store | None = None) -> None:
        self.root = Path(root)
        self.uri = uri
        self.store = Store.open(uri)
        self._local = _Layer(self.store, derive=base is None)
        self._base: _Layer | None = None
        if base is not None:
            self._base = _prefetched_layer(base) or _Layer(base, derive=False, postings=True)
        self._snap = _Snapshot()
        self._refresh_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._qcache: dict[tuple[str, str], np.ndarray] = {}
        self._qlock = threading.Lock()
        self._lazy_lock = threading.Lock()
        self.refresh()

    # -- loading ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Catch up with committed writes. The base is re-read when the delta has been
        computed against a newer base than the one in memory (``base_changed`` tells the
        writer when to compute it). Returns True if the snapshot changed."""
        with self._refresh_lock:
            changed = self._local.refresh()
            base = self._base
            if base is None:
                if changed:
                    self._snap = self._local.snap
                return changed
            wanted = self._local.snap.meta.get("base_version")
            loaded = base.snap.versions.get(FILES)
            if not base.snap.versions or (wanted and wanted != str(loaded)):
                with base.store.errors():
                    changed = base.refresh() or changed
            if changed or not self._snap.versions:
                with gc_paused():
                    self._snap = _compose(base.snap, self._local.snap)
            return changed

    def base_changed(self) -> bool:
        """The base has a newer version than the one the delta was computed against."""
        if self._base is None:
            return False
        with self._base.store.errors():
            table = self._base.store.table(FILES)
            current = str(int(table.version)) if table is not None else None
        return current is not None and current != self._local.snap.meta.get("base_version")

    @property
    def base(self) -> Store | None:
        return self._base.store if self._base is not None else None

    # -- lookups (in memory) ----------------------------------------------------------

    def definitions(self, name: str) -> list[tuple[str, SymbolDef]]:
        """Where ``name`` (short, or qualified like ``Parser.parse``) is defined."""
        return list(self._defs().get(name, ()))

    def file_definitions(self, path: str) -> list[SymbolDef]:
        return list(self._snap.file_defs.get(path, ()))

    def imports(self, path: str) -> list[ImportRef]:
        return list(self._snap.imports.get(path, ()))

    def import_rows(self, path: str) -> Sequence[ImportRef]:
        """``imports(path)`` as held (read-only, not copied; rows read from a store become
        objects when first read: ``indexer.lazy_rows.LazyRows``)."""
        return self._snap.imports.get(path, ())

    def chunks(self, path: str) -> list[Chunk]:
        """The chunks of one file, by start line."""
        return list(self._snap.chunks.get(path, ()))

    def chunk_rows(self, path: str) -> Sequence[Chunk]:
        """``chunks(path)`` as held (read-only, not copied): a file's stored rows become
        objects only when first read, so a caller that only counts them or reads their
        lines (``indexer.lazy_rows.chunk_lines``) makes none."""
        return self._snap.chunks.get(path, ())

    def all_chunks(self) -> Iterator[Chunk]:
        snap = self._snap
        for path in sorted(snap.chunks):
            yield from snap.chunks[path]

    def known_paths(self) -> frozenset[str]:
        return self._snap.known

    def chunk_terms(self) -> pa.Table | None:
        """Every visible chunk's stored term counts: columns path, start_line, end_line,
        terms, tfs and ordinal (the row's index in ``chunks(path)``; each path's rows are
        together, as stored). None
        when the index predates them (the reader then tokenizes the texts itself)."""
        return self._snap.terms

    def chunk_postings(self) -> LayeredPostings | None:
        """A base's precomputed postings seen through the delta (``indexer.lexicon``), or
        None; when set, ``chunk_terms`` is None and a BM25 is built from these."""
        return self._snap.postings

    def file(self, path: str) -> FileRow | None:
        return self._snap.files.get(path)

    def chunk_for_definition(self, path: str, d: SymbolDef) -> Chunk | None:
        """The chunk carrying a definition (its header line), or None."""
        best: Chunk | None = None
        for c in self._snap.chunks.get(path, ()):
            if d.qualified in c.symbols:
                return c
            if best is None and c.start_line <= d.start_line <= c.end_line:
                best = c
        return best

    # -- search -----------------------------------------------------------------------

    def search(self, query: str, k: int = 10, mode: str = "hybrid") -> list[SearchHit]:
        """Top ``k`` chunks for a query. ``hybrid`` fuses full-text and vector ranks
        (reciprocal-rank fusion) and boosts chunks defining a name in the query."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r} (use one of {', '.join(MODES)})")
        if not query.strip() or k <= 0:
            return []
        if mode == "text":
            return [self._hit(c, s, "text") for c, s in self._text(query, k)]
        if mode == "vector":
            if not self.has_vectors():
                raise ValueError("this index has no embeddings (it was built with embedder none)")
            return [self._hit(c, s, "vector") for c, s in self._vector(query, k)]
        if mode == "symbol":
            return [self._hit(c, s, "symbol") for c, s in self._symbol(query, k)]
        n = max(k * 3, 20)
        lists: list[tuple[float, list[tuple[Chunk, float]]]] = [(1.0, self._text(query, n))]
        if self.has_vectors():
            lists.append((1.0, self._vector(query, n)))
        symbol = self._symbol(query, n)
        lists.append((SYMBOL_WEIGHT, symbol))
        fused: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        for weight, ranked in lists:
            for rank, (c, score) in enumerate(ranked):
                # Symbol hits also weigh by how specific the name is (see _symbol).
                w = weight * score if ranked is symbol else weight
                fused[c.id] = fused.get(c.id, 0.0) + w / (RRF_K + rank + 1)
                chunks[c.id] = c
        top = sorted(fused.items(), key=lambda kv: (-kv[1], chunks[kv[0]].path))[:k]
        return [self._hit(chunks[cid], score, "hybrid") for cid, score in top]

    def has_vectors(self) -> bool:
        snap = self._snap
        return snap.meta.get("embedder", "none") != "none" and len(snap.vec_hashes) > 0

    def _hit(self, c: Chunk, score: float, source: str) -> SearchHit:
        return SearchHit(
            path=c.path,
            start_line=c.start_line,
            end_line=c.end_line,
            text=c.text,
            score=float(score),
            symbol=c.symbols[0] if c.symbols else None,
            source=source,
            language=c.language,
        )

    def _stores(self) -> list[Store]:
        return [self.store] if self._base is None else [self._base.store, self.store]

    def _text(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        """Full-text ranks. Over a base, in memory from the stored term counts of base ∪
        delta (one scorer for both layers, and no object-store round trip per query: a
        base's full-text index read from S3 cost ~40 ms a query, ten times a local one);
        otherwise the store's native full-text index."""
        if self._base is not None:
            found = self._text_in_memory(query, n)
            if found is not None:
                return found
        by_id = self._by_id()
        if not by_id:
            return []
        scored: list[tuple[Chunk, float]] = []
        for store in self._stores():  # a base's rows hidden by the delta drop out below
            table = store.table(CHUNKS)
            if table is None:
                continue
            with store.errors():
                rows = table.search(query, query_type="fts").select(["id"]).limit(n * 2)
                found_rows = rows.to_list()
            for r in found_rows:
                c = by_id.get(r["id"])
                if c is not None:
                    scored.append((c, float(r.get("_score", 0.0))))
        if len(self._stores()) > 1:
            scored.sort(key=lambda cs: -cs[1])
        seen: set[str] = set()
        out: list[tuple[Chunk, float]] = []
        for c, score in scored:
            if c.id not in seen:
                seen.add(c.id)
                out.append((c, score))
                if len(out) >= n:
                    break
        return out

    def _text_in_memory(self, query: str, n: int) -> list[tuple[Chunk, float]] | None:
        """BM25 over every visible chunk's stored term counts (built once per snapshot);
        None when the snapshot has no usable term columns (an index written before them)."""
        snap = self._snap
        with self._lazy_lock:
            if snap.text_index is None:
                snap.text_index = _text_index(snap)
        if not snap.text_index:
            return None
        bm25, chunk_of = snap.text_index
        return [(chunk_of(key), score) for key, score in bm25.top(code_terms(query), n)]

    def embedder(self) -> Embedder | None:
        """The embedder this index was built with (loaded on first use)."""
        meta = self._snap.meta
        name = meta.get("embedder", "none")
        slug = meta.get("embedder_slug", "")
        if self._embedder is None or self._embedder.slug != slug:
            # queries only (the index's vectors are written by the sync): numpy for MiniLM
            self._embedder = load_query_embedder(name, precision_of_slug(slug))
        return self._embedder

    def _vector(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        snap = self._snap
        emb = self.embedder()
        if emb is None or snap.vecs.size == 0:
            return []
        q = self._query_vector(emb, query)
        if len(snap.vec_hashes) > VECTOR_INDEX_MIN_ROWS:
            return self._vector_ann(q, n)
        scores = snap.vecs.scores(q)
        by_hash = self._by_hash()
        order = np.argsort(-scores)
        out: list[tuple[Chunk, float]] = []
        seen: set[str] = set()
        for i in order:
            h = snap.vec_hashes[int(i)]
            if h in seen:
                continue
            seen.add(h)
            for c in by_hash.get(h, ()):
                out.append((c, float(scores[i])))
            if len(out) >= n:
                break
        return out[:n]

    def _query_vector(self, emb: Embedder, query: str) -> np.ndarray:
        """Query vectors are cached (LRU): editors repeat the same queries often, and one
        encode costs 5-20 ms idle, far more on a loaded CPU."""
        key = (emb.slug, query)
        with self._qlock:
            vec = self._qcache.pop(key, None)
        if vec is None:
            vec = emb.embed([query])[0]
        with self._qlock:
            self._qcache[key] = vec
            while len(self._qcache) > _QUERY_CACHE:
                self._qcache.pop(next(iter(self._qcache)))
        return vec

    def _vector_ann(self, q: np.ndarray, n: int) -> list[tuple[Chunk, float]]:
        slug = self._snap.meta.get("embedder_slug", "")
        by_hash = self._by_hash()
        scored: list[tuple[Chunk, float]] = []
        for store in self._stores():
            t = store.table(vectors_table_name(slug))
            if t is None:
                continue
            with store.errors():
                metric = store.vector_metric(slug)  # the index's own, else a full scan
                rows = t.search(q.tolist()).distance_type(metric).limit(n * 2).to_list()
            for r in rows:
                for c in by_hash.get(r["content_hash"], ()):
                    scored.append((c, 1.0 - float(r["_distance"])))
        scored.sort(key=lambda cs: -cs[1])
        return scored[:n]

    def _defs(self, snap: _Snapshot | None = None) -> dict[str, list[tuple[str, SymbolDef]]]:
        """Definitions by name, built once per snapshot on first use."""
        snap = snap if snap is not None else self._snap
        defs = snap.defs
        if defs is None:
            with self._lazy_lock:
                defs = snap.defs
                if defs is None:
                    defs = snap.defs = _definitions(snap)
        return defs

    def _lower_names(self) -> dict[str, list[str]]:
        """Case-insensitive name → names, built once per snapshot."""
        snap = self._snap
        if snap.lower_names is None:
            lower: dict[str, list[str]] = {}
            for key in self._defs(snap):
                lower.setdefault(key.lower(), []).append(key)
            snap.lower_names = lower
        return snap.lower_names

    def _by_id(self) -> dict[str, Chunk]:
        """Chunks by id (what a full-text query returns), built once per snapshot."""
        snap = self._snap
        if snap.by_id is None:
            snap.by_id = {c.id: c for lst in snap.chunks.values() for c in lst}
        return snap.by_id

    def _by_hash(self) -> dict[str, list[Chunk]]:
        snap = self._snap
        if snap.by_hash is None:
            by_hash: dict[str, list[Chunk]] = {}
            for lst in snap.chunks.values():
                for c in lst:
                    by_hash.setdefault(c.content_hash, []).append(c)
            snap.by_hash = by_hash
        return snap.by_hash

    def _symbol(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        snap = self._snap
        out: list[tuple[Chunk, float]] = []
        seen: set[str] = set()
        for ident in _IDENT.findall(query):
            defs = self._defs(snap)
            found = defs.get(ident)
            score = 1.0
            if not found:
                lower = self._lower_names()
                found = [pd for key in lower.get(ident.lower(), ()) for pd in defs[key]]
                score = 0.8
            # A name defined in many places says less about which one is meant.
            score /= max(1, len(found))
            for path, d in found:
                c = self.chunk_for_definition(path, d)
                if c is not None and c.id not in seen:
                    seen.add(c.id)
                    out.append((c, score))
        out.sort(key=lambda cs: -cs[1])  # stable: query order among equals
        return out[:n]

    # -- status -----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What the index holds, as plain data (``tandem status`` prints it)."""
        snap = self._snap
        n_chunks = sum(len(v) for v in snap.chunks.values())
        embedded = sum(
            1 for lst in snap.chunks.values() for c in lst if c.content_hash in snap.vec_set
        )
        languages: dict[str, int] = {}
        for f in snap.files.values():
            languages[f.language] = languages.get(f.language, 0) + 1
        out = {
            "root": str(self.root),
            "db": display_uri(self.uri),
            "files": len(snap.files),
            "chunks": n_chunks,
            "symbols": sum(len(v) for v in snap.file_defs.values()),
            "embedded": embedded,
            "embedded_fraction": (embedded / n_chunks) if n_chunks else 0.0,
            "embedder": snap.meta.get("embedder", "none"),
            "bytes_on_disk": self.store.disk_bytes(),
            "source_bytes": sum(f.size for f in snap.files.values()),
            "last_update": max(
                filter(None, (snap.meta.get("updated_at"), self.store.last_write())), default=None
            ),
            "languages": dict(sorted(languages.items(), key=lambda kv: -kv[1])),
            # files of a grammar language cut into line windows because parsing failed
            "parse_fallbacks": [
                {"path": path, "reason": f.fallback}
                for path, f in sorted(snap.files.items())
                if f.fallback is not None
            ],
        }
        if snap.meta.get("commit"):
            out["commit"] = _commit_label(snap.meta)
        if self._base is not None:
            delta = self._local.snap
            out.update(
                {
                    "base": self._base.store.display_uri(),
                    "base_commit": _commit_label(self._base.snap.meta) or None,
                    "base_built_at": self._base.snap.meta.get("updated_at"),
                    "base_age": _age(self._base.snap.meta.get("updated_at")),
                    "delta_files": len(delta.files),
                    "delta_chunks": sum(len(v) for v in delta.chunks.values()),
                    "delta_deleted": len(delta.deleted),
                }
            )
        return out


_prefetched: dict[str, Future[_Layer]] = {}
_prefetch_lock = threading.Lock()


def prefetch_base(settings: IndexSettings) -> None:
    """Start reading the configured base's rows in the background (an editor opening a
    folder calls this before computing its delta): the object store's latency and the
    rows' decoding then overlap the walk, the git diff and the delta's parsing instead of
    following them. The next ``open_index`` over this base takes the rows if they are
    still the version it wants; otherwise they are dropped and read again."""
    uri = settings.base
    if not uri:
        return
    with _prefetch_lock:
        if uri in _prefetched:
            return
        future: Future[_Layer] = Future()
        _prefetched[uri] = future
    consistency = timedelta(seconds=max(0.0, settings.consistency_s))

    def load() -> None:
        try:
            store = Store.open(uri, settings.storage_options, consistency)
            layer = _Layer(store, derive=False, postings=True)
            with store.errors():
                layer.refresh()
            future.set_result(layer)
        except BaseException as e:  # the open that takes it reads again, and reports
            future.set_exception(e)

    threading.Thread(target=load, name="tandem-base-prefetch", daemon=True).start()


def _prefetched_layer(store: Store) -> _Layer | None:
    """The layer ``prefetch_base`` read for this store, once, or None."""
    with _prefetch_lock:
        future = _prefetched.pop(store.uri, None)
    if future is None:
        return None
    try:
        layer = future.result()
    except Exception:
        return None
    return layer if layer.store is store else None


def _recorded_base(path: Path | None) -> str | None:
    """The base a local delta was computed against (``tandem index --base``), so every
    command reading the workspace's index sees base ∪ delta without being told."""
    if path is None or not (path / f"{META}.lance").exists():
        return None
    return Store.open(str(path)).meta().get("base_uri") or None


def _commit_label(meta: dict[str, str]) -> str:
    commit = meta.get("commit", "")
    dirty = commit and meta.get("commit_dirty") == "true"
    return f"{commit[:12]} (dirty)" if dirty else commit[:12]


def _age(stamp: str | None) -> str | None:
    """'42 s', '7 min', '3 h', '2 d' since an ISO UTC stamp."""
    if not stamp:
        return None
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    s = max(0, int((datetime.now(UTC) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s // size} {unit}"
    return f"{s} s"


def open_index(
    root: Path | str,
    db: str | None = None,
    create: bool = False,
    settings: IndexSettings | None = None,
) -> Index:
    """The index of ``root`` (at ``db``, else ``settings.db``, default ``<root>/.tandem``),
    layered over ``settings.base`` when one is set. Raises ``IndexNotFound`` when a local
    index folder does not exist (unless ``create``), ``StorageError`` when an object store
    cannot be read."""
    root = Path(root).resolve()
    settings = settings or IndexSettings()
    uri = db or settings.db or default_uri(root)
    consistency = timedelta(seconds=max(0.0, settings.consistency_s))
    path = local_path(uri)
    base_uri = settings.base or _recorded_base(path)
    base: Store | None = None
    if base_uri:
        base = Store.open(base_uri, settings.storage_options, consistency)
        if base.table(FILES) is None:
            raise IndexNotFound(f"no index at {base.display_uri()} (the base index)")
    if base is not None and path is not None:
        create = True  # the delta may well be empty
    if path is not None and not create and not (path.exists() and any(path.glob("*.lance"))):
        raise IndexNotFound(f"no index at {path} (run `tandem index {root}` first)")
    store = Store.open(uri, settings.storage_options, consistency)
    if store.remote and store.table(FILES) is None:
        raise IndexNotFound(f"no index at {store.display_uri()}")
    if base is not None:
        store.ensure_tables()
    return Index(root, uri, base)
