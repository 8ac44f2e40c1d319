"""Bring the index in line with the files on disk, computing only what changed.

Crash safety: for every path, its ``files`` row is deleted before its chunks, symbols and
imports are touched and written again only after they are all committed. So a ``files``
row always describes complete rows, and a run killed at any point (SIGKILL) leaves paths
without a ``files`` row, which the next run re-indexes (and orphan rows, which it deletes):
the result is exactly what a fresh run gives.

Lexical first: chunks, symbols, imports and the full-text index are committed before any
embedding; vectors then fill in behind in batches, each committed as it goes, looked up
first in the cache keyed by chunk content hash.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexer import lexicon
from indexer.chunker import parse_file
from indexer.delta import (
    Base,
    adopt_embedder,
    base_meta,
    git_commit,
    git_unchanged,
    open_base,
    split,
)
from indexer.embedder import (
    Embedder,
    load_embedder,
    load_query_embedder,
    precision_of_slug,
    release_embedder,
)
from indexer.lease import writer_lease
from indexer.memory import release_memory
from indexer.secrets import redact
from indexer.store import (
    CHUNKS,
    FILES,
    IMPORTS,
    PATH_TABLES,
    SCHEMA_VERSION,
    SYMBOLS,
    FileRow,
    Store,
    default_uri,
    in_list,
    local_path,
)
from indexer.terms import term_counts
from indexer.types import ParsedFile, ParseFallback, Skipped, content_hash
from indexer.walk import IGNORE_FILES, IgnoreRules, WalkEntry, read_source, walk
from server.settings import IndexSettings

Progress = Callable[[str, int, int, str], None]
"""``progress(phase, done, total, message)``; phases: scan, index, embed."""

_EMBED_WINDOW = 4096  # texts read ahead from the index and sorted by length (little padding)
_EMBED_COMMIT = 256  # vectors per commit
# Texts to embed up to which numpy does it (``load_query_embedder``: a save's chunks, a
# small workspace) instead of torch: ~80 ms of CPU a chunk beside bfloat16 torch's ~30,
# but torch's import alone keeps ~250 MB resident in a language server for good.
SMALL_JOB = 256
_WRITE_BATCH_FILES = 200
_WRITE_BATCH_CHUNKS = 4000
_FULL_OPTIMIZE_FILES = 100
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class SyncReport:
    """What one run did (the CLI prints it; ``to_dict`` is its ``--json``)."""

    root: str
    db: str
    embedder: str
    indexed: int = 0
    unchanged: int = 0
    restamped: int = 0
    deleted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # files of a grammar language parsed by this run into line windows, and why
    fallbacks: list[ParseFallback] = field(default_factory=list)
    total_fallbacks: int = 0  # files in the index parsed that way
    reparsed_all: bool = False  # an index from an older version: every file parsed again
    chunks: int = 0  # chunks written by this run
    total_files: int = 0
    total_chunks: int = 0
    embedded: int = 0  # vectors computed by this run
    cached: int = 0  # distinct chunk texts written by this run whose vector was cached
    pending: int = 0  # chunks still without a vector
    lexical_seconds: float = 0.0
    seconds: float = 0.0
    base: str | None = None  # the shared base this index is a local delta over
    base_unchanged: int = 0  # files identical to the base (not indexed locally)
    base_deleted: int = 0  # base files gone from the working tree (hidden)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        d["fallbacks"] = [{"path": f.path, "reason": f.reason} for f in self.fallbacks]
        return d


def db_uri(root: Path, settings: IndexSettings) -> str:
    return settings.db or default_uri(root)


@contextmanager
def _writer_lock(store: Store) -> Iterator[None]:
    """One writer per index: a thread lock within the process and, across processes, an
    advisory file lock for a local index (``tandem index`` beside a running server) or
    the writer lease for one in object storage (see ``indexer.lease``)."""
    uri = store.uri
    with _locks_guard:
        lock = _locks.setdefault(uri, threading.Lock())
    with lock:
        path = local_path(uri)
        if path is None:
            with store.errors(), writer_lease(store.db, store.display_uri()):
                store.ensure_tables()  # under the lease: two first writers race otherwise
                yield
            return
        path.mkdir(parents=True, exist_ok=True)
        with open(path / "writer.lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                store.ensure_tables()
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _checkpoint(name: str) -> None:
    """Test hook: ``TANDEM_KILL_AT=name[:n]`` SIGKILLs this process the n-th time (default
    first) it reaches the named point, so tests can kill a run at an exact phase."""
    target = os.environ.get("TANDEM_KILL_AT")
    if not target:
        return
    want, _, nth = target.partition(":")
    if want != name:
        return
    count = _hits.get(name, 0) + 1
    _hits[name] = count
    if count >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


_hits: dict[str, int] = {}


def _batch_files() -> int:
    return int(os.environ.get("TANDEM_SYNC_BATCH", _WRITE_BATCH_FILES))


# -- rows ------------------------------------------------------------------------------


def _chunk_rows(parsed: ParsedFile) -> list[dict[str, Any]]:
    rows = []
    for c in parsed.chunks:
        counts = term_counts(c.text)
        rows.append(
            {
                "id": c.id,
                "path": parsed.path,
                "start_line": c.start_line,
                "end_line": c.end_line,
                "language": c.language,
                "kind": c.kind,
                "symbols": list(c.symbols),
                "symbol": c.symbols[0] if c.symbols else None,
                "text": c.text,
                "content_hash": c.content_hash,
                "terms": list(counts),
                "tfs": list(counts.values()),
            }
        )
    return rows


def _symbol_rows(parsed: ParsedFile) -> list[dict[str, Any]]:
    return [
        {
            "path": parsed.path,
            "name": d.name,
            "qualified": d.qualified,
            "kind": d.kind,
            "start_line": d.start_line,
            "end_line": d.end_line,
        }
        for d in parsed.definitions
    ]


def _import_rows(parsed: ParsedFile) -> list[dict[str, Any]]:
    return [
        {
            "path": parsed.path,
            "local_name": i.local_name,
            "module": i.module,
            "name": i.name,
            "line": i.line,
            "candidates": list(i.candidates),
        }
        for i in parsed.imports
    ]


def _parse(entry: WalkEntry, text: str) -> ParsedFile | Skipped:
    try:
        return parse_file(entry.path, text)
    except Exception as e:  # the chunker promises totality; never let one file stop a run
        return Skipped(entry.path, f"parse error ({type(e).__name__}: {e})")


# -- the core: apply a set of observed files and disappeared paths ----------------------


@dataclass
class _Plan:
    entries: list[WalkEntry]
    gone: list[str]
    orphans: list[str] = field(default_factory=list)
    read: dict[str, tuple[str, str]] = field(default_factory=dict)  # path → (text, hash)


def _apply(
    store: Store,
    plan: _Plan,
    settings: IndexSettings,
    report: SyncReport,
    progress: Progress | None,
    table_paths: set[str] | None,
    stored: dict[str, FileRow],
    reparse: bool = False,
) -> set[str]:
    """Index changed entries (every entry when ``reparse``), delete gone paths and orphans.
    Returns the content hashes of the chunks written (their texts are in the index;
    nothing per chunk is held here)."""
    max_bytes = settings.max_file_kb * 1024
    restamp: list[FileRow] = []
    todo: list[tuple[WalkEntry, str, str]] = []
    present: set[str] = set()
    for entry in plan.entries:
        old = stored.get(entry.path)
        same_stat = old is not None and old.mtime_ns == entry.mtime_ns and old.size == entry.size
        if same_stat and not reparse:
            report.unchanged += 1
            present.add(entry.path)
            continue
        ahead = plan.read.get(entry.path)  # read (and redacted) while computing a delta
        if ahead is not None:
            text, h = ahead
        else:
            source = read_source(entry.abspath, max_bytes, rel=entry.path)
            if isinstance(source, Skipped):
                report.skipped.append(source)
                continue
            text = redact(source)
            h = content_hash(text)
        present.add(entry.path)
        if old is not None and old.content_hash == h and not reparse:
            restamp.append(
                FileRow(
                    entry.path,
                    entry.mtime_ns,
                    entry.size,
                    h,
                    old.language,
                    old.n_chunks,
                    old.fallback,
                )
            )
            continue
        todo.append((entry, text, h))

    read_skipped = {e.path for e in plan.entries} - present
    gone = sorted(set(plan.gone) | read_skipped)
    in_files = [p for p in gone if p in stored]
    if in_files:
        store.delete_paths([FILES], in_files)
        _checkpoint("files-deleted")
        report.deleted += len(in_files)
    has_rows = [p for p in gone if table_paths is None or p in table_paths or p in stored]
    store.delete_paths(PATH_TABLES, has_rows)
    if plan.orphans:
        store.delete_paths(PATH_TABLES, plan.orphans)
    _checkpoint("deleted")

    written: set[str] = set()
    total = len(todo)
    done = 0
    batch: list[tuple[WalkEntry, str, str]] = []
    n_batch_chunks = 0
    for item in todo:
        batch.append(item)
        n_batch_chunks += item[1].count("\n") // 20 + 1
        if len(batch) >= _batch_files() or n_batch_chunks >= _WRITE_BATCH_CHUNKS:
            done += _write_batch(store, batch, stored, table_paths, report, written)
            if progress:
                progress("index", done, total, batch[-1][0].path)
            batch, n_batch_chunks = [], 0
    if batch:
        done += _write_batch(store, batch, stored, table_paths, report, written)
        if progress:
            progress("index", done, total, "")
    if restamp:
        store.upsert_files(restamp)
        report.restamped += len(restamp)
    return written


def _write_batch(
    store: Store,
    batch: list[tuple[WalkEntry, str, str]],
    stored: dict[str, FileRow],
    table_paths: set[str] | None,
    report: SyncReport,
    written: set[str],
) -> int:
    chunks: list[dict[str, Any]] = []
    symbols: list[dict[str, Any]] = []
    imports: list[dict[str, Any]] = []
    files: list[FileRow] = []
    for entry, text, h in batch:
        parsed = _parse(entry, text)
        if isinstance(parsed, Skipped):
            report.skipped.append(parsed)
            continue
        if parsed.fallback is not None:
            report.fallbacks.append(ParseFallback(entry.path, parsed.fallback))
        rows = _chunk_rows(parsed)
        chunks.extend(rows)
        symbols.extend(_symbol_rows(parsed))
        imports.extend(_import_rows(parsed))
        files.append(
            FileRow(
                entry.path,
                entry.mtime_ns,
                entry.size,
                h,
                parsed.language,
                len(rows),
                parsed.fallback,
            )
        )
        written.update(r["content_hash"] for r in rows)
    paths = [e.path for e, _, _ in batch]
    had_files_row = [p for p in paths if p in stored]
    if had_files_row:
        store.delete_paths([FILES], had_files_row)
    _checkpoint("batch-files-deleted")
    # rows may exist without a files row after a killed run: delete those too
    stale = paths if table_paths is None else [p for p in paths if p in table_paths or p in stored]
    store.delete_paths(PATH_TABLES, stale)
    store.add(CHUNKS, chunks)
    _checkpoint("chunks-added")
    store.add(SYMBOLS, symbols)
    store.add(IMPORTS, imports)
    _checkpoint("rows-added")
    store.upsert_files(files)
    _checkpoint("files-added")
    report.indexed += len(files)
    report.chunks += len(chunks)
    release_memory()  # the batch's rows, parse trees and Arrow buffers
    return len(batch)


# -- embeddings ------------------------------------------------------------------------


def embed_pending(
    store: Store,
    embedder: Embedder,
    progress: Progress | None = None,
    written: set[str] | None = None,
    report: SyncReport | None = None,
    elsewhere: frozenset[str] = frozenset(),
    keep_embedder: bool = True,
) -> int:
    """Embed every chunk whose content hash has no cached vector (here, or ``elsewhere``:
    a base index's vectors, which the reader layers under the delta's). Texts stream from
    the index in windows (sorted by length within each, so batches pad little) and vectors
    are committed as they go, so memory stays bounded whatever the size of the workspace.
    Without ``keep_embedder`` the model is released before the vector index is built (a
    process that exits next: the two peaks do not add up). Returns vectors computed."""
    referenced = set(store.read(CHUNKS, ["content_hash"]).column("content_hash").to_pylist())
    have = store.vector_hashes(embedder.slug) | elsewhere
    missing = referenced - have
    if report is not None and written:
        report.cached += len(written & have)
    total = len(missing)
    done = 0
    # commit every few model batches (fewer LanceDB fragments); tests make it small
    commit = int(os.environ.get("TANDEM_EMBED_COMMIT", _EMBED_COMMIT))
    window: dict[str, str] = {}

    def flush() -> None:
        nonlocal done
        order = sorted(window, key=lambda h: len(window[h]))
        for i in range(0, len(order), commit):
            part = order[i : i + commit]
            vecs = embedder.embed([window[h] for h in part])
            store.add_vectors(embedder.slug, part, vecs)
            _checkpoint("vectors-added")
            release_memory()  # activations freed by torch, kept by glibc's tuned heap
            done += len(part)
            if progress:
                progress("embed", done, total, "")
        window.clear()

    if missing:
        for batch in store.scan_batches(CHUNKS, ["content_hash", "text"]):
            hashes = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            for h, t in zip(hashes, texts, strict=True):
                if h in missing:
                    missing.discard(h)
                    window[h] = t
            if len(window) >= _EMBED_WINDOW:
                flush()
        flush()
    if report is not None:
        report.embedded += done
    if not keep_embedder:
        release_embedder(embedder)
    store.gc_vectors(embedder.slug, referenced, keep_unreferenced=max(1000, len(referenced) // 4))
    store.drop_other_vector_tables(embedder.slug)
    store.ensure_vector_index(embedder.slug)
    return done


# -- public entry points ---------------------------------------------------------------


def _open(root: Path, settings: IndexSettings) -> tuple[Store, SyncReport]:
    uri = db_uri(root, settings)
    store = Store.open(uri, settings.storage_options)
    report = SyncReport(root=str(root), db=store.display_uri(), embedder=settings.embedder)
    return store, report


def _wants_embedder(settings: IndexSettings, embed: bool) -> bool:
    return embed and settings.embedder.strip().lower() not in ("", "none", "off")


def _embedder_if_needed(
    store: Store,
    settings: IndexSettings,
    report: SyncReport,
    written: set[str],
    base: Base | None = None,
) -> Embedder | None:
    """The embedder, unless the index (with its base's vectors, for a delta) already has a
    vector for every chunk with this embedder (then loading the model is skipped). A job
    of at most ``SMALL_JOB`` texts (a save, a small workspace) gets the numpy encoder
    that queries use, so a language server embeds its saves without importing torch."""
    meta = store.meta()
    if base is not None and base.meta.get("embedder_slug"):
        meta = {**meta, "embedder": settings.embedder, "embedder_slug": base.vector_slug}
    slug = meta.get("embedder_slug")
    same = bool(meta.get("embedder") == settings.embedder and slug)
    hashes = set(store.read(CHUNKS, ["content_hash"]).column("content_hash").to_pylist())
    if same and slug:
        hashes -= store.vector_hashes(slug) | _base_vectors(base, slug)
        if not hashes:
            report.cached += len(written)
            return None
    # keep the precision the cache was built with, unless one is forced
    forced = os.environ.get("TANDEM_EMBED_DTYPE")
    precision = precision_of_slug(slug) if same and slug and not forced else None
    if len(hashes) <= SMALL_JOB:
        return load_query_embedder(settings.embedder, precision)
    return load_embedder(settings.embedder, precision)


def _base_vectors(base: Base | None, slug: str) -> frozenset[str]:
    """Content hashes the base has a vector for, with the same embedder and precision."""
    if base is None or base.vector_slug != slug:
        return frozenset()
    return frozenset(base.store.vector_hashes(slug))


def _finish(
    store: Store,
    embed: bool,
    report: SyncReport,
    written: set[str],
    progress: Progress | None,
    settings: IndexSettings,
    start: float,
    changed: bool,
    full: bool,
    base: Base | None = None,
    keep_embedder: bool = True,
) -> SyncReport:
    # Only a full sync has parsed every file with this version (sync_paths leaves an older
    # version's mark, so the next full sync still re-parses what it wrote).
    fresh = "schema_version" not in store.meta()
    meta = {"schema_version": SCHEMA_VERSION} if full or fresh else {}
    if changed and full:  # (after file events, status reads the files table's version time)
        meta["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not _wants_embedder(settings, True):  # lexical only: one meta commit, not two
        meta.update({"embedder": "none", "embedder_slug": ""})
    store.set_meta(meta)
    report.lexical_seconds = time.monotonic() - start
    _checkpoint("lexical-done")
    # loaded after the lexical commit: the workspace is searchable while the model loads,
    # and a bad model name fails here with nothing lost
    embedder = (
        _embedder_if_needed(store, settings, report, written, base)
        if _wants_embedder(settings, embed)
        else None
    )
    if embedder is not None:
        store.set_meta(
            {
                "embedder": settings.embedder,
                "embedder_slug": embedder.slug,
                "embedder_dim": str(embedder.dim),
            }
        )
        elsewhere = _base_vectors(base, embedder.slug)
        if embed_pending(
            store, embedder, progress, written, report, elsewhere, keep_embedder=keep_embedder
        ):
            changed = True
    elif not _wants_embedder(settings, True):
        store.set_meta({"embedder": "none", "embedder_slug": ""})
    big = report.indexed + report.deleted >= _FULL_OPTIMIZE_FILES
    # A small delta written for the first time (an editor opening a folder over a base)
    # has a fragment or two per table and only this run's versions: nothing to compact
    # or clean up yet, and its full-text index is a fallback (text search over a base
    # ranks in memory). The next sync does the housekeeping (~0.06 CPU s of the 0.5 s
    # that editor waits for).
    first_delta = fresh and base is not None and not big
    if changed and not first_delta:  # after a big change, index everything now; after
        store.optimize(full=big, throttle=not full)  # small ones, when due
        _checkpoint("optimized")
    if full and base is None and store.remote:
        # a base others open: its full-text postings, built once here (indexer.lexicon)
        lexicon.write(store, store.versions().get(CHUNKS, -1))
    files = store.read(FILES, ["n_chunks", "fallback"])
    counts = files.column("n_chunks").to_pylist()
    report.total_files = len(counts)
    report.total_chunks = sum(counts)
    report.total_fallbacks = len(counts) - files.column("fallback").null_count
    slug = store.meta().get("embedder_slug")
    if slug and _wants_embedder(settings, True):
        have = store.vector_hashes(slug) | _base_vectors(base, slug)
        hashes = store.read(CHUNKS, ["content_hash"]).column("content_hash").to_pylist()
        report.pending = sum(1 for h in hashes if h not in have)
    elif _wants_embedder(settings, True):  # embedding deferred (embed=False): all to do
        report.pending = report.total_chunks
    else:  # lexical only: nothing will ever be embedded
        report.pending = 0
    report.seconds = time.monotonic() - start
    return report


def sync(
    root: Path | str,
    settings: IndexSettings,
    progress: Progress | None = None,
    embed: bool = True,
    keep_embedder: bool = True,
) -> SyncReport:
    """Index ``root`` incrementally: walk, diff, write what changed, delete what is gone,
    then embed what has no vector yet (unless ``embed`` is false or the embedder is none).
    ``keep_embedder=False``: the model is released once the vectors are written (a
    process that exits after this run; see ``embed_pending``)."""
    start = time.monotonic()
    root = Path(root).resolve()
    entries: list[WalkEntry] = []
    skipped: list[Skipped] = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        # a base's files table arrives (from object storage) while the tree is walked
        pending = pool.submit(open_base, settings)
        for item in walk(root, settings):
            if isinstance(item, Skipped):
                skipped.append(item)
            else:
                entries.append(item)
            if progress and len(entries) % 500 == 0:
                progress("scan", len(entries), 0, "")
        base = pending.result()
    settings = adopt_embedder(settings, base)
    store, report = _open(root, settings)
    report.skipped.extend(skipped)
    with _writer_lock(store):
        _checkpoint("walked")
        stored = store.files()
        report.reparsed_all = bool(stored) and store.meta().get("schema_version") != SCHEMA_VERSION
        seen = {e.path for e in entries}
        table_paths: set[str] = set()
        for name in PATH_TABLES:
            table_paths |= store.paths_in(name)
        orphans = sorted(table_paths - set(stored) - seen)
        tombstones: list[str] = []
        if base is not None:
            unchanged = git_unchanged(root, base)
            read: dict[str, tuple[str, str]] = {}
            max_bytes = settings.max_file_kb * 1024
            entries, clean = split(entries, base, stored, max_bytes, unchanged, read)
            report.base, report.base_unchanged = base.store.display_uri(), len(clean)
            seen_delta = {e.path for e in entries}
            tombstones = [p for p in base.files if p not in seen]
            plan = _Plan(entries, [p for p in stored if p not in seen_delta], orphans, read)
        else:
            plan = _Plan(entries, [p for p in stored if p not in seen], orphans)
        written = _apply(
            store, plan, settings, report, progress, table_paths, stored, report.reparsed_all
        )
        changed = bool(report.indexed or report.deleted or orphans or report.restamped)
        if base is not None:
            changed = _record_base(store, base, report, tombstones, None) or changed
        else:
            _record_commit(store, root)
        return _finish(
            store,
            embed,
            report,
            written,
            progress,
            settings,
            start,
            changed,
            True,
            base,
            keep_embedder,
        )


def _record_base(
    store: Store, base: Base, report: SyncReport, add: list[str], remove: list[str] | None
) -> bool:
    """Write the delta's tombstones (``remove=None``: ``add`` is the whole set) and the
    base version it was computed against. Returns True if anything changed."""
    before = store.deleted()
    if remove is None:
        remove = sorted(before - set(add))
    store.set_deleted(add, remove)
    after = store.deleted()
    report.base = base.store.display_uri()
    report.base_deleted = len(after)
    meta = store.meta()
    fresh = meta.get("base_version") != base.version
    store.set_meta(base_meta(base))
    return fresh or before != after


def _record_commit(store: Store, root: Path) -> None:
    """The commit a full index was built from (the base's, when CI builds one)."""
    found = git_commit(root)
    if found is not None:
        store.set_meta({"commit": found[0], "commit_dirty": "true" if found[1] else "false"})


def _relative(root: Path, path: str | Path) -> str | None:
    """``path`` (absolute, or relative to ``root``) as a workspace-relative POSIX path, or
    None if it lies outside the workspace."""
    p = Path(path)
    if not p.is_absolute():
        p = root / p
    p = Path(os.path.normpath(p))
    for base in (root, root.resolve()):
        try:
            rel = p.relative_to(base).as_posix()
        except ValueError:
            continue
        return None if rel in ("", ".") else rel
    return None


def sync_paths(
    root: Path | str,
    settings: IndexSettings,
    paths: Iterable[str | Path],
    progress: Progress | None = None,
    embed: bool = True,
) -> SyncReport:
    """Re-index just these paths (files or folders, created, changed, deleted or renamed:
    pass both names of a rename). A change to an ignore file re-syncs everything."""
    start = time.monotonic()
    root = Path(root).resolve()
    rels = sorted({r for p in paths if (r := _relative(root, p)) is not None})
    if any(r.rsplit("/", 1)[-1] in IGNORE_FILES for r in rels):
        return sync(root, settings, progress, embed)
    base = open_base(settings)
    settings = adopt_embedder(settings, base)
    store, report = _open(root, settings)
    recorded = store.meta().get("base_version")
    if base is not None and recorded and recorded != base.version:
        # CI wrote a newer base since the delta was computed: every file may now differ
        # from it, so recording it after these few paths would hide the rest.
        return sync(root, settings, progress, embed)
    with _writer_lock(store):
        rules = IgnoreRules(root, settings)
        stored = store.files()
        entries: list[WalkEntry] = []
        gone: set[str] = set()
        for rel in rels:
            p = root / rel
            under = [s for s in stored if s.startswith(rel + "/")]
            if p.is_dir() and not p.is_symlink():
                seen: set[str] = set()
                if rules.path_reason(rel + "/x") is None:
                    for item in walk(root, settings, under=rel):
                        if isinstance(item, Skipped):
                            report.skipped.append(item)
                        else:
                            entries.append(item)
                            seen.add(item.path)
                gone.update(s for s in under if s not in seen)
                if rel in stored:
                    gone.add(rel)
                continue
            gone.update(under)
            try:
                st = p.lstat()
            except OSError:
                gone.add(rel)
                continue
            reason = None if p.is_file() and not p.is_symlink() else "not a regular file"
            reason = reason or rules.skip_reason(rel, st.st_size)
            if reason is not None:
                report.skipped.append(Skipped(rel, reason))
                gone.add(rel)
                continue
            entries.append(WalkEntry(rel, p, st.st_mtime_ns, st.st_size))
        unique = list({e.path: e for e in entries}.values())  # a file and its folder both named
        present = {e.path for e in unique}
        if base is not None:
            unchanged = git_unchanged(root, base)
            unique, clean = split(unique, base, stored, settings.max_file_kb * 1024, unchanged)
            report.base_unchanged = len(clean)
            gone |= {p for p in clean if p in stored}
        plan = _Plan(unique, sorted(gone - {e.path for e in unique}))
        written = _apply(store, plan, settings, report, progress, None, stored)
        changed = bool(report.indexed or report.deleted or report.restamped)
        if base is not None:
            # gone holds the delta's own paths; a deleted folder hides the base's too
            named = {p for r in rels for p in base.files if p == r or p.startswith(r + "/")}
            missing = {p for p in named if p not in present and not (root / p).is_file()}
            tombs = sorted({p for p in gone if p in base.files and p not in present} | missing)
            changed = _record_base(store, base, report, tombs, sorted(present)) or changed
        return _finish(
            store, embed, report, written, progress, settings, start, changed, False, base
        )


def forget(
    root: Path | str, paths: Sequence[str | Path], settings: IndexSettings | None = None
) -> list[str]:
    """Remove these files or folders from the index at once (rows and their cached
    vectors) and add them to ``.tandemignore`` so they stay out. Returns paths removed."""
    settings = settings or IndexSettings()
    root = Path(root).resolve()
    rels = []
    for p in paths:
        rel = _relative(root, p)
        if rel is None:
            raise ValueError(f"not inside the workspace {root}: {p}")
        rels.append(rel)
    base = open_base(settings)
    store = Store.open(db_uri(root, settings), settings.storage_options)
    with _writer_lock(store):
        stored = store.files()
        table_paths: set[str] = set()
        for name in PATH_TABLES:
            table_paths |= store.paths_in(name)
        every = set(stored) | table_paths
        removed = sorted(s for s in every for r in rels if s == r or s.startswith(r + "/"))
        if base is not None:  # the base's rows of these paths are hidden from now on
            hidden = [p for p in base.files for r in rels if p == r or p.startswith(r + "/")]
            store.set_deleted(hidden, [])
            removed = sorted(set(removed) | set(hidden))
        if removed:
            hashes = set(
                store.read(CHUNKS, ["content_hash"], in_list("path", removed))
                .column("content_hash")
                .to_pylist()
            )
            store.delete_paths([FILES], removed)
            store.delete_paths(PATH_TABLES, removed)
            still = set(store.read(CHUNKS, ["content_hash"]).column("content_hash").to_pylist())
            slug = store.meta().get("embedder_slug")
            if slug:
                store.delete_vectors(slug, sorted(hashes - still))
            store.set_meta({"updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
            store.optimize()
        _append_ignores(
            root,
            rels,
            {r for r in rels if (root / r).is_dir() or any(s.startswith(r + "/") for s in removed)},
        )
    return removed


def _append_ignores(root: Path, rels: list[str], dirs: set[str]) -> None:
    path = root / ".tandemignore"
    try:
        existing = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        existing = []
    lines = []
    for rel in rels:
        pattern = "/" + _escape_glob(rel) + ("/" if rel in dirs else "")
        if pattern not in existing and pattern not in lines:
            lines.append(pattern)
    if lines:
        prefix = "" if not existing or (path.read_text(encoding="utf-8").endswith("\n")) else "\n"
        with path.open("a", encoding="utf-8") as f:
            f.write(prefix + "\n".join(lines) + "\n")


def _escape_glob(rel: str) -> str:
    out = []
    for ch in rel:
        out.append("\\" + ch if ch in "*?[]!#\\" else ch)
    return "".join(out)
