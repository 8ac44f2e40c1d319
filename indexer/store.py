"""The LanceDB tables and every write to them.

Tables: ``files`` (one row per indexed file; written last, so it is the commit marker),
``chunks`` (with a native full-text index on ``text``), ``symbols``, ``imports``,
``vectors_<embedder slug>`` (the embedding cache, keyed by chunk content hash, so renames
and reverts never re-embed) and ``meta`` (key/value: schema version, embedder, last update).

One ``Store`` per process and URI is shared (``Store.open``); writes hold its lock, so one
writer thread and any number of reader threads can use it at once.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS, IvfPq

from indexer.lease import LEASE
from indexer.storage import display_uri, is_remote, storage_errors, storage_options
from indexer.vectors import Int8Rows
from indexer.vectors import fill as fill_int8

# Bump when rows written by an older version are incomplete or wrong: the next full sync
# re-parses every file once (``indexer.sync``). Columns added to a table's schema are added
# (as nulls) to an existing table when it is opened for writing (``Store.ensure_tables``).
# 2: files.fallback; version 1 hid parse failures as line windows.
# 3: chunks.terms/tfs (each chunk's search terms and counts, read by the context builder's
# BM25 instead of re-tokenizing every chunk on open).
SCHEMA_VERSION = "3"
DEFAULT_DIR = ".tandem"
VECTOR_INDEX_MIN_ROWS = 50_000
# the ANN metric: on normalised vectors, the same ranking and scores as cosine
VECTOR_METRIC: Literal["dot"] = "dot"
# Old versions older than this are removed by ``optimize``: long enough for a query that
# started on the previous version (readers pin no version: ``Index`` answers lookups from
# memory and each LanceDB query checks out the latest), short enough that a burst of edits
# does not pile up copies on disk.
CLEANUP_AFTER = timedelta(seconds=3)
_DELETE_BATCH = 400
_FRAGMENT_ROWS = 4096  # fragments below this are merged by compaction
_MAX_SMALL_FRAGMENTS = 24
_OPTIMIZE_EVERY = 1.0  # seconds; well under CLEANUP_AFTER, so the folder stays bounded

FILES = "files"
CHUNKS = "chunks"
SYMBOLS = "symbols"
IMPORTS = "imports"
META = "meta"
DELETED = "deleted"  # a local delta's files deleted from its base (see indexer.delta)
PATH_TABLES = (CHUNKS, SYMBOLS, IMPORTS)

FILES_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("mtime_ns", pa.int64()),
        ("size", pa.int64()),
        ("content_hash", pa.string()),
        ("language", pa.string()),
        ("n_chunks", pa.int32()),
        ("fallback", pa.string()),  # why a grammar language got line windows (None: parsed)
    ]
)
CHUNKS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("path", pa.string()),
        ("start_line", pa.int32()),
        ("end_line", pa.int32()),
        ("language", pa.string()),
        ("kind", pa.string()),
        ("symbols", pa.list_(pa.string())),
        ("symbol", pa.string()),
        ("text", pa.string()),
        ("content_hash", pa.string()),
        ("terms", pa.list_(pa.string())),  # indexer.terms.term_counts(text): its keys
        ("tfs", pa.list_(pa.int32())),  # and counts
    ]
)
SYMBOLS_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("name", pa.string()),
        ("qualified", pa.string()),
        ("kind", pa.string()),
        ("start_line", pa.int32()),
        ("end_line", pa.int32()),
    ]
)
IMPORTS_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("local_name", pa.string()),
        ("module", pa.string()),
        ("name", pa.string()),
        ("line", pa.int32()),
        ("candidates", pa.list_(pa.string())),
    ]
)
META_SCHEMA = pa.schema([("key", pa.string()), ("value", pa.string())])
DELETED_SCHEMA = pa.schema([("path", pa.string())])
SCHEMAS = {
    FILES: FILES_SCHEMA,
    CHUNKS: CHUNKS_SCHEMA,
    SYMBOLS: SYMBOLS_SCHEMA,
    IMPORTS: IMPORTS_SCHEMA,
    META: META_SCHEMA,
    DELETED: DELETED_SCHEMA,
}


def vectors_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            ("content_hash", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
            ("added_ns", pa.int64()),
        ]
    )


def vectors_table_name(slug: str) -> str:
    return f"vectors_{slug}"


@dataclass(frozen=True, slots=True)
class FileRow:
    path: str
    mtime_ns: int
    size: int
    content_hash: str
    language: str
    n_chunks: int
    fallback: str | None = None


def quote(value: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(quote(v) for v in values)})"


def is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def local_path(uri: str) -> Path | None:
    if not is_local(uri):
        return None
    return Path(uri.removeprefix("file://"))


def default_uri(root: Path) -> str:
    return str(Path(root) / DEFAULT_DIR)


def dir_bytes(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


class Store:
    """The tables of one index; every method is safe to call from several threads."""

    _shared: ClassVar[dict[str, Store]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        uri: str,
        options: Mapping[str, str] | None = None,
        consistency: timedelta = timedelta(0),
    ) -> None:
        self.uri = uri
        self.remote = is_remote(uri)
        path = local_path(uri)
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
            ignore = path / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
        # Credentials live here and in LanceDB only (see indexer/storage.py).
        self._options = storage_options(uri, options)
        self.lock = threading.RLock()
        self._tables: dict[str, Any] = {}
        self._last_optimize = 0.0
        self._metrics: dict[tuple[str, int], str] = {}  # (slug, version) -> ANN metric
        # small tables read whole, by table version (a sync and an open read the files
        # and meta tables several times each: a round trip each, to an object store)
        self._small: dict[str, tuple[int, Any]] = {}
        # A reader that accepts versions ``consistency`` old also lists the tables that
        # seldom: each listing is a request to an object store.
        self._consistency = consistency.total_seconds() if self.remote else 0.0
        self._names: tuple[float, list[str]] | None = None
        with self.errors():  # a wrong endpoint, key or bucket fails here, clearly
            self.db = lancedb.connect(
                uri,
                read_consistency_interval=consistency,
                storage_options=self._options or None,
            )
            if self.remote:
                self.table_names()

    @classmethod
    def open(
        cls,
        uri: str,
        options: Mapping[str, str] | None = None,
        consistency: timedelta = timedelta(0),
    ) -> Store:
        """The process-wide store for ``uri`` (created on first use)."""
        with cls._shared_lock:
            store = cls._shared.get(uri)
            if store is None:
                store = cls(uri, options, consistency)
                cls._shared[uri] = store
            return store

    def errors(self) -> AbstractContextManager[None]:
        """Failures of a remote store inside this block become one ``StorageError`` line."""
        return storage_errors(self.uri, self._options)

    def display_uri(self) -> str:
        return display_uri(self.uri)

    @classmethod
    def close_all(cls) -> None:
        """Forget shared stores (tests, or after the folder was deleted)."""
        with cls._shared_lock:
            cls._shared.clear()

    # -- tables -----------------------------------------------------------------------

    def table_names(self) -> list[str]:
        cached = self._names
        if cached is not None and time.monotonic() - cached[0] < self._consistency:
            return list(cached[1])
        names = self._list_tables()
        if self._consistency:
            self._names = (time.monotonic(), names)
        return list(names)

    def _list_tables(self) -> list[str]:
        names: list[str] = []
        token: str | None = None
        while True:
            resp = self.db.list_tables(page_token=token)
            names.extend(resp.tables)
            token = resp.page_token
            if not token:
                return names

    def table(self, name: str) -> Any | None:
        """The named table, or None if it does not exist yet."""
        t = self._tables.get(name)
        if t is not None:
            return t
        with self.lock:
            try:
                t = self.db.open_table(name)
            except (ValueError, FileNotFoundError):
                return None
            self._tables[name] = t
            return t

    def _create(self, name: str, schema: pa.Schema) -> Any:
        with self.lock:
            t = self.table(name)
            if t is None:
                t = self.db.create_table(name, schema=schema, exist_ok=True)
                self._tables[name] = t
                self._names = None
            return t

    def ensure_tables(self) -> None:
        for name, schema in SCHEMAS.items():
            self._add_missing_columns(self._create(name, schema), schema)
        self.ensure_fts()

    def _add_missing_columns(self, table: Any, schema: pa.Schema) -> None:
        """Bring a table written by an older version up to ``schema``: new columns are
        added as nulls (readers treat a missing column the same way)."""
        with self.lock:
            have = set(table.schema.names)
            missing = [f for f in schema if f.name not in have]
            if not missing:
                return
            try:
                table.add_columns(missing)
            except Exception:
                # Another process may have added them first; anything else is real.
                table.checkout_latest()
                if any(f.name not in table.schema.names for f in missing):
                    raise

    def ensure_fts(self) -> None:
        chunks = self._create(CHUNKS, CHUNKS_SCHEMA)
        with self.lock:
            if not any(i.index_type == "FTS" for i in chunks.list_indices()):
                chunks.create_index("text", config=FTS(with_position=False))

    def versions(self, names: Iterable[str] = SCHEMAS) -> dict[str, int]:
        """Current version of each existing table of ``names`` and of every vectors table
        (cheap; used to detect changes)."""
        out: dict[str, int] = {}
        for name in (*names, *[n for n in self.table_names() if n.startswith("vectors_")]):
            t = self.table(name)
            if t is not None:
                out[name] = int(t.version)
        return out

    # -- reads ------------------------------------------------------------------------

    def read(
        self, name: str, columns: list[str] | None = None, where: str | None = None
    ) -> pa.Table:
        """Rows of a table as Arrow (empty with the right schema if it does not exist)."""
        t = self.table(name)
        if t is None:
            schema = SCHEMAS.get(name, pa.schema([]))
            if columns:
                schema = pa.schema([schema.field(c) for c in columns if c in schema.names])
            return schema.empty_table()
        q = t.search()
        if where:
            q = q.where(where)
        if columns:
            q = q.select(columns)
        return q.limit(None).to_arrow() if where else _scan(t, columns)

    def scan_batches(
        self, name: str, columns: list[str], rows: int = 4096
    ) -> Iterator[pa.RecordBatch]:
        """Some columns of a whole table, streamed ``rows`` at a time (memory stays at one
        batch however big the table)."""
        t = self.table(name)
        if t is None:
            return
        reader = None
        if _has_pylance():
            try:
                reader = t.to_lance().to_batches(columns=columns, batch_size=rows)
            except Exception:  # a table without a local Lance dataset: LanceDB streams it
                reader = None
        if reader is None:  # (outside the except block: see _scan)
            reader = t.search().select(columns).limit(None).to_batches(rows)
        yield from reader

    def _by_version(self, name: str, read: Any) -> Any:
        """``read()``, or what it returned for this table version before."""
        t = self.table(name)
        if t is None:
            return read()
        version = int(t.version)
        hit = self._small.get(name)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = read()
        self._small[name] = (version, value)
        return value

    def files(self) -> dict[str, FileRow]:
        """path → its files row (a new dict each call)."""
        return dict(self._by_version(FILES, self._read_files))

    def _read_files(self) -> dict[str, FileRow]:
        data = self.read(FILES)
        absent = [None] * data.num_rows  # a column an older index lacks
        cols = [
            data.column(f.name).to_pylist() if f.name in data.schema.names else absent
            for f in FILES_SCHEMA
        ]
        return {row[0]: FileRow(*row) for row in zip(*cols, strict=True)}

    def paths_in(self, name: str) -> set[str]:
        return set(self.read(name, ["path"]).column("path").to_pylist())

    def meta(self) -> dict[str, str]:
        return dict(
            self._by_version(
                META, lambda: {r["key"]: r["value"] for r in self.read(META).to_pylist()}
            )
        )

    def deleted(self) -> frozenset[str]:
        read = self._by_version(
            DELETED, lambda: frozenset(self.read(DELETED, ["path"]).column("path").to_pylist())
        )
        return frozenset(read)

    def set_deleted(self, add: Iterable[str], remove: Iterable[str]) -> None:
        """Record paths deleted from the base (a delta's tombstones), and drop others."""
        add, remove = sorted(set(add)), sorted(set(remove))
        current = self.deleted()
        add = [p for p in add if p not in current]
        remove = [p for p in remove if p in current]
        if remove:
            self.delete_paths([DELETED], remove)
        if add:
            self.add(DELETED, [{"path": p} for p in add])

    # -- writes -----------------------------------------------------------------------

    def delete_paths(self, names: Iterable[str], paths: Sequence[str]) -> None:
        """Delete every row of these paths from the named tables, in batches."""
        if not paths:
            return
        with self.lock:
            for name in names:
                t = self.table(name)
                if t is None:
                    continue
                for i in range(0, len(paths), _DELETE_BATCH):
                    t.delete(in_list("path", paths[i : i + _DELETE_BATCH]))

    def add(self, name: str, rows: pa.Table | list[dict[str, Any]]) -> None:
        if isinstance(rows, list):
            if not rows:
                return
            rows = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
        if rows.num_rows == 0:
            return
        with self.lock:
            self._create(name, SCHEMAS[name]).add(rows)

    def replace(self, name: str, rows: pa.Table) -> None:
        """Write a whole table anew (a derived table, e.g. ``indexer.lexicon``'s)."""
        with self.lock:
            self._tables[name] = self.db.create_table(name, rows, mode="overwrite")
            self._names = None

    def upsert_files(self, rows: list[FileRow]) -> None:
        """Write files rows (the commit marker of those paths), replacing old ones."""
        if not rows:
            return
        data = pa.Table.from_pylist([_asdict(r) for r in rows], schema=FILES_SCHEMA)
        with self.lock:
            t = self._create(FILES, FILES_SCHEMA)
            (
                t.merge_insert("path")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(data)
            )

    def set_meta(self, values: dict[str, str]) -> None:
        """Write the keys whose value differs (no new table version when nothing does)."""
        current = self.meta()
        values = {k: v for k, v in values.items() if current.get(k) != v}
        if not values:
            return
        data = pa.Table.from_pylist(
            [{"key": k, "value": v} for k, v in values.items()], schema=META_SCHEMA
        )
        with self.lock:
            t = self._create(META, META_SCHEMA)
            t.merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(
                data
            )

    # -- vectors ----------------------------------------------------------------------

    def vector_hashes(self, slug: str) -> set[str]:
        t = self.table(vectors_table_name(slug))
        if t is None:
            return set()
        return set(_scan(t, ["content_hash"]).column("content_hash").to_pylist())

    def add_vectors(self, slug: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        if not hashes:
            return
        dim = int(vectors.shape[1])
        schema = vectors_schema(dim)
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
        data = pa.Table.from_arrays(
            [
                pa.array(list(hashes), pa.string()),
                pa.FixedSizeListArray.from_arrays(flat, dim),
                pa.array([time.time_ns()] * len(hashes), pa.int64()),
            ],
            schema=schema,
        )
        with self.lock:
            self._create(vectors_table_name(slug), schema).add(data)

    def read_vectors(self, slug: str) -> tuple[list[str], np.ndarray]:
        """Every cached vector and its content hash: one read-only float32 matrix, filled
        batch by batch as the table streams in (a whole read and then a copy out of it
        held every vector twice at once: a peak 286 MB above the start for 80,795 x 384
        floats, 124 MB of them kept)."""
        hashes: list[str] = []
        out = np.empty((0, 0), dtype=np.float32)
        for n, dim, at, rows in self._vector_batches(slug, hashes):
            if at == 0:
                out = np.empty((n, dim), dtype=np.float32)
            if at + len(rows) > len(out):  # rows committed since the count
                out = np.concatenate([out[:at], np.empty((len(rows), dim), np.float32)])
            out[at : at + len(rows)] = rows
        out = out[: len(hashes)]
        out.flags.writeable = False
        return hashes, out

    def read_vectors_int8(self, slug: str) -> tuple[list[str], Int8Rows]:
        """``read_vectors`` as int8 codes with a scale per row (``indexer.vectors``): what
        a reader keeps in memory, a quarter of the floats (31 MB for 80,795 x 384)."""
        hashes: list[str] = []
        codes, scale = np.empty((0, 0), dtype=np.int8), np.empty(0, dtype=np.float32)
        for n, dim, at, rows in self._vector_batches(slug, hashes):
            if at == 0:
                codes, scale = np.empty((n, dim), dtype=np.int8), np.empty(n, np.float32)
            if at + len(rows) > len(codes):  # rows committed since the count
                codes = np.concatenate([codes[:at], np.empty((len(rows), dim), np.int8)])
                scale = np.concatenate([scale[:at], np.empty(len(rows), np.float32)])
            fill_int8(codes, scale, at, rows)
        read = Int8Rows(codes[: len(hashes)], scale[: len(hashes)])
        read.codes.flags.writeable = read.scale.flags.writeable = False
        return hashes, read

    def _vector_batches(
        self, slug: str, hashes: list[str]
    ) -> Iterator[tuple[int, int, int, np.ndarray]]:
        """(rows counted, dim, offset, float32 rows) per batch of the vectors table, the
        batch's content hashes appended to ``hashes`` after it is used."""
        name = vectors_table_name(slug)
        t = self.table(name)
        if t is None:
            return
        dim = t.schema.field("vector").type.list_size
        n = t.count_rows()
        for batch in self.scan_batches(name, ["content_hash", "vector"], rows=8192):
            k = batch.num_rows
            flat = batch.column(1).flatten().to_numpy(zero_copy_only=False)
            yield n, dim, len(hashes), flat.reshape(k, dim)
            hashes.extend(batch.column(0).to_pylist())

    def gc_vectors(self, slug: str, referenced: set[str], keep_unreferenced: int) -> int:
        """Drop cached vectors no chunk uses, keeping the newest ``keep_unreferenced`` of
        them (so a branch switch back and forth does not re-embed). Returns rows dropped."""
        t = self.table(vectors_table_name(slug))
        if t is None:
            return 0
        data = _scan(t, ["content_hash", "added_ns"]).to_pylist()
        unref = [r for r in data if r["content_hash"] not in referenced]
        unref.sort(key=lambda r: -r["added_ns"])
        drop = {r["content_hash"] for r in unref[keep_unreferenced:]}
        self.delete_vectors(slug, sorted(drop))
        return len(drop)

    def delete_vectors(self, slug: str, hashes: Sequence[str]) -> None:
        t = self.table(vectors_table_name(slug))
        if t is None or not hashes:
            return
        with self.lock:
            for i in range(0, len(hashes), _DELETE_BATCH):
                t.delete(in_list("content_hash", hashes[i : i + _DELETE_BATCH]))

    def drop_other_vector_tables(self, slug: str) -> None:
        """An embedder change makes the other caches dead weight on disk."""
        keep = vectors_table_name(slug)
        with self.lock:
            for name in self.table_names():
                if name.startswith("vectors_") and name != keep:
                    self.db.drop_table(name)
                    self._tables.pop(name, None)
                    self._names = None

    def ensure_vector_index(self, slug: str) -> None:
        """An ANN index only once brute force would be slow (a full scan of 50k x 384
        floats); below that, exact search is faster and needs no training.

        The metric is ``dot``: the vectors are normalised, so it ranks and scores exactly
        as cosine (distance ``1 - a.b``), and the build skips cosine's normalised copy of
        every vector (about 100 MB less at the peak of a cold index). Indexes built with
        cosine keep working: queries ask ``vector_metric``."""
        t = self.table(vectors_table_name(slug))
        if t is None or t.count_rows() < VECTOR_INDEX_MIN_ROWS:
            return
        with self.lock:
            if not any(i.index_type.startswith("IVF") for i in t.list_indices()):
                t.create_index("vector", config=IvfPq(distance_type=VECTOR_METRIC))

    def vector_metric(self, slug: str) -> str:
        """The distance the vector table's ANN index was built with (a query with another
        one would scan every vector): ``dot``, or ``cosine`` for an index built before."""
        t = self.table(vectors_table_name(slug))
        if t is None:
            return VECTOR_METRIC
        key = (slug, int(t.version))
        metric = self._metrics.get(key)
        if metric is None:
            metric = VECTOR_METRIC
            for index in t.list_indices():
                if index.index_type.startswith("Ivf"):
                    stats = t.index_stats(index.name)
                    metric = str(getattr(stats, "distance_type", None) or VECTOR_METRIC).lower()
            self._metrics = {key: metric}
        return metric

    # -- housekeeping -----------------------------------------------------------------

    def optimize(
        self, full: bool = False, cleanup_after: timedelta = CLEANUP_AFTER, throttle: bool = False
    ) -> None:
        """Keep the folder bounded and reads fast under a stream of small edits.

        Each table: small fragments are merged once there are many (full-size fragments
        are left alone, so an edit never rewrites the table); the indices (FTS, vector)
        are brought up to date only when many rows are unindexed (queries scan those
        few rows directly; rebuilding the index after each edit was what grew the folder);
        versions older than ``cleanup_after`` are deleted. ``full`` does all of it now;
        ``throttle`` skips the work if it ran less than ``_OPTIMIZE_EVERY`` ago (file
        events come in bursts; housekeeping after each would double the cost of an edit).
        """
        now = time.monotonic()
        if throttle and not full and now - self._last_optimize < _OPTIMIZE_EVERY:
            return
        self._last_optimize = now
        with self.lock:
            for name in self.table_names():
                if name == LEASE:  # renewed by another thread: a compaction would conflict
                    continue
                t = self.table(name)
                if t is None:
                    continue
                try:
                    ds = t.to_lance()
                except Exception:  # a remote table: let LanceDB decide
                    t.optimize(cleanup_older_than=cleanup_after)
                    continue
                small = sum(1 for f in ds.get_fragments() if f.count_rows() < _FRAGMENT_ROWS)
                if full or small >= _MAX_SMALL_FRAGMENTS:
                    ds.optimize.compact_files(
                        target_rows_per_fragment=_FRAGMENT_ROWS,
                        materialize_deletions_threshold=0.1,
                    )
                    ds = t.to_lance()
                if full or self._unindexed(t) > max(2000, t.count_rows() // 20):
                    ds.optimize.optimize_indices()
                    ds = t.to_lance()
                ds.cleanup_old_versions(older_than=cleanup_after)
                t.checkout_latest()

    @staticmethod
    def _unindexed(t: Any) -> int:
        total = 0
        for index in t.list_indices():
            stats = t.index_stats(index.name)
            if stats is not None:
                total = max(total, int(stats.num_unindexed_rows))
        return total

    def last_write(self) -> str | None:
        """When the files table last changed (ISO, UTC), or None."""
        t = self.table(FILES)
        if t is None:
            return None
        try:
            stamp = t.list_versions()[-1]["timestamp"]
        except (IndexError, KeyError):
            return None
        return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def disk_bytes(self) -> int | None:
        path = local_path(self.uri)
        return dir_bytes(path) if path is not None and path.exists() else None

    def destroy(self) -> None:
        """Delete the whole index folder (local only)."""
        path = local_path(self.uri)
        with Store._shared_lock:
            Store._shared.pop(self.uri, None)
        if path is not None and path.exists():
            shutil.rmtree(path)


def _scan(t: Any, columns: list[str] | None) -> pa.Table:
    """A full read of some columns (to_lance, when pylance is installed, is the fastest
    path for local tables). The query's read runs outside any ``except`` block: an
    exception raised and kept inside LanceDB's reader (its end-of-stream, stored in a
    future) would otherwise chain to the one being handled, whose traceback holds the
    caller's frames, and with them every table read so far, until the cyclic GC runs
    (~120 MB of a 30 MB workspace's index open)."""
    if _has_pylance():
        try:
            return t.to_lance().to_table(columns=columns)
        except Exception:
            pass
    q = t.search()
    if columns:
        q = q.select(columns)
    return q.limit(None).to_arrow()


@functools.cache
def _has_pylance() -> bool:
    return importlib.util.find_spec("lance") is not None


def _asdict(row: FileRow) -> dict[str, Any]:
    return {
        "path": row.path,
        "mtime_ns": row.mtime_ns,
        "size": row.size,
        "content_hash": row.content_hash,
        "language": row.language,
        "n_chunks": row.n_chunks,
        "fallback": row.fallback,
    }
