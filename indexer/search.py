"""The read side of the index: search, and in-memory lookups for the context builder.

``Index`` keeps a snapshot of the committed rows in memory (files, chunks, definitions,
imports, vectors), so ``definitions``/``imports``/``chunks`` are dict lookups and vector
search is one matrix product. Only paths with a ``files`` row (the commit marker) are
visible. ``refresh()`` compares table versions and reloads only the paths whose ``files``
row changed. A snapshot is replaced whole, so readers on other threads never see a mix.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embedder import Embedder, load_embedder, precision_of_slug
from indexer.store import (
    CHUNKS,
    FILES,
    IMPORTS,
    SYMBOLS,
    VECTOR_INDEX_MIN_ROWS,
    FileRow,
    Store,
    default_uri,
    in_list,
    local_path,
    vectors_table_name,
)
from indexer.types import Chunk, ImportRef, SearchHit, SymbolDef

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
    chunks: dict[str, list[Chunk]] = field(default_factory=dict)  # path → by start_line
    by_id: dict[str, Chunk] = field(default_factory=dict)
    defs: dict[str, list[tuple[str, SymbolDef]]] = field(default_factory=dict)
    file_defs: dict[str, list[SymbolDef]] = field(default_factory=dict)
    imports: dict[str, list[ImportRef]] = field(default_factory=dict)
    known: frozenset[str] = frozenset()
    meta: dict[str, str] = field(default_factory=dict)
    vec_hashes: list[str] = field(default_factory=list)
    vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    vec_set: frozenset[str] = frozenset()
    by_hash: dict[str, list[Chunk]] | None = None  # built on first vector search
    lower_names: dict[str, list[str]] | None = None  # built on first symbol search


def _chunk(row: dict[str, Any]) -> Chunk:
    return Chunk(
        path=row["path"],
        start_line=row["start_line"],
        end_line=row["end_line"],
        language=row["language"],
        text=row["text"],
        symbols=tuple(row["symbols"] or ()),
        kind=row["kind"],
    )


def _symbol(row: dict[str, Any]) -> SymbolDef:
    return SymbolDef(
        name=row["name"],
        qualified=row["qualified"],
        kind=row["kind"],
        start_line=row["start_line"],
        end_line=row["end_line"],
    )


def _import(row: dict[str, Any]) -> ImportRef:
    return ImportRef(
        local_name=row["local_name"],
        module=row["module"],
        name=row["name"],
        line=row["line"],
        candidates=tuple(row["candidates"] or ()),
    )


class Index:
    """A workspace's index, read side. Safe to share between threads."""

    def __init__(self, root: Path, uri: str) -> None:
        self.root = Path(root)
        self.uri = uri
        self.store = Store.open(uri)
        self._snap = _Snapshot()
        self._refresh_lock = threading.Lock()
        self._embedder: Embedder | None = None
        self._qcache: dict[tuple[str, str], np.ndarray] = {}
        self._qlock = threading.Lock()
        self.refresh()

    # -- loading ----------------------------------------------------------------------

    def refresh(self) -> bool:
        """Reload what changed since the last call (by table versions). Cheap when nothing
        changed (one manifest check per table). Returns True if the snapshot changed."""
        with self._refresh_lock:
            versions = self.store.versions()
            old = self._snap
            if versions == old.versions:
                return False
            snap = _Snapshot(
                versions=versions,
                files=old.files,
                chunks=old.chunks,
                by_id=old.by_id,
                defs=old.defs,
                file_defs=old.file_defs,
                imports=old.imports,
                known=old.known,
                meta=self.store.meta(),
                vec_hashes=old.vec_hashes,
                vecs=old.vecs,
                vec_set=old.vec_set,
            )
            rows_changed = any(
                versions.get(t) != old.versions.get(t) for t in (FILES, CHUNKS, SYMBOLS, IMPORTS)
            )
            if rows_changed:
                self._load_rows(snap, old)
            slug = snap.meta.get("embedder_slug", "")
            vt = vectors_table_name(slug)
            if slug and (versions.get(vt) != old.versions.get(vt) or vt not in versions):
                hashes, vecs = self.store.read_vectors(slug) if vt in versions else ([], None)
                snap.vec_hashes = hashes
                snap.vecs = vecs if vecs is not None else np.zeros((0, 0), dtype=np.float32)
                snap.vec_set = frozenset(hashes)
            self._snap = snap
            return True

    def _load_rows(self, snap: _Snapshot, old: _Snapshot) -> None:
        files = self.store.files()
        changed = [p for p, f in files.items() if old.files.get(p) != f]
        removed = [p for p in old.files if p not in files]
        if not old.files or len(changed) > _PARTIAL_RELOAD_MAX:
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
            live = set(targets)
            chunk_rows = self.store.read(CHUNKS, None, where).to_pylist()
            for r in chunk_rows:
                if r["path"] in live:
                    snap.chunks.setdefault(r["path"], []).append(_chunk(r))
            for lst in snap.chunks.values():
                lst.sort(key=lambda c: (c.start_line, c.end_line))
            for r in self.store.read(SYMBOLS, None, where).to_pylist():
                if r["path"] in live:
                    snap.file_defs.setdefault(r["path"], []).append(_symbol(r))
            for r in self.store.read(IMPORTS, None, where).to_pylist():
                if r["path"] in live:
                    snap.imports.setdefault(r["path"], []).append(_import(r))
            for imps in snap.imports.values():
                imps.sort(key=lambda i: i.line)
        snap.files = files
        snap.known = frozenset(files)
        snap.by_id = {c.id: c for lst in snap.chunks.values() for c in lst}
        defs: dict[str, list[tuple[str, SymbolDef]]] = {}
        for path, sds in snap.file_defs.items():
            for d in sds:
                defs.setdefault(d.name, []).append((path, d))
                if d.qualified != d.name:
                    defs.setdefault(d.qualified, []).append((path, d))
        for lst2 in defs.values():
            lst2.sort(key=lambda pd: (pd[0], pd[1].start_line))
        snap.defs = defs

    # -- lookups (in memory) ----------------------------------------------------------

    def definitions(self, name: str) -> list[tuple[str, SymbolDef]]:
        """Where ``name`` (short, or qualified like ``Parser.parse``) is defined."""
        return list(self._snap.defs.get(name, ()))

    def file_definitions(self, path: str) -> list[SymbolDef]:
        return list(self._snap.file_defs.get(path, ()))

    def imports(self, path: str) -> list[ImportRef]:
        return list(self._snap.imports.get(path, ()))

    def chunks(self, path: str) -> list[Chunk]:
        """The chunks of one file, by start line."""
        return list(self._snap.chunks.get(path, ()))

    def all_chunks(self) -> Iterator[Chunk]:
        snap = self._snap
        for path in sorted(snap.chunks):
            yield from snap.chunks[path]

    def known_paths(self) -> frozenset[str]:
        return self._snap.known

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

    def _text(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        table = self.store.table(CHUNKS)
        snap = self._snap
        if table is None or not snap.by_id:
            return []
        rows = table.search(query, query_type="fts").select(["id"]).limit(n * 2).to_list()
        out: list[tuple[Chunk, float]] = []
        for r in rows:
            c = snap.by_id.get(r["id"])
            if c is not None:
                out.append((c, float(r.get("_score", 0.0))))
                if len(out) >= n:
                    break
        return out

    def embedder(self) -> Embedder | None:
        """The embedder this index was built with (loaded on first use)."""
        meta = self._snap.meta
        name = meta.get("embedder", "none")
        slug = meta.get("embedder_slug", "")
        if self._embedder is None or self._embedder.slug != slug:
            self._embedder = load_embedder(name, precision_of_slug(slug))
        return self._embedder

    def _vector(self, query: str, n: int) -> list[tuple[Chunk, float]]:
        snap = self._snap
        emb = self.embedder()
        if emb is None or snap.vecs.size == 0:
            return []
        q = self._query_vector(emb, query)
        if len(snap.vec_hashes) > VECTOR_INDEX_MIN_ROWS:
            return self._vector_ann(q, n)
        scores = snap.vecs @ q
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
        t = self.store.table(vectors_table_name(slug))
        if t is None:
            return []
        rows = t.search(q.tolist()).distance_type("cosine").limit(n * 2).to_list()
        by_hash = self._by_hash()
        out: list[tuple[Chunk, float]] = []
        for r in rows:
            for c in by_hash.get(r["content_hash"], ()):
                out.append((c, 1.0 - float(r["_distance"])))
        return out[:n]

    def _lower_names(self) -> dict[str, list[str]]:
        """Case-insensitive name → names, built once per snapshot."""
        snap = self._snap
        if snap.lower_names is None:
            lower: dict[str, list[str]] = {}
            for key in snap.defs:
                lower.setdefault(key.lower(), []).append(key)
            snap.lower_names = lower
        return snap.lower_names

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
            found = snap.defs.get(ident)
            score = 1.0
            if not found:
                lower = self._lower_names()
                found = [pd for key in lower.get(ident.lower(), ()) for pd in snap.defs[key]]
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
        return {
            "root": str(self.root),
            "db": self.uri,
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


def open_index(root: Path | str, db: str | None = None, create: bool = False) -> Index:
    """The index of ``root`` (at ``db``, default ``<root>/.tandem``). Raises
    ``IndexNotFound`` when a local index folder does not exist, unless ``create``."""
    root = Path(root).resolve()
    uri = db or default_uri(root)
    path = local_path(uri)
    if path is not None and not create and not (path.exists() and any(path.glob("*.lance"))):
        raise IndexNotFound(f"no index at {path} (run `tandem index {root}` first)")
    return Index(root, uri)
