"""A shared base's full-text postings, built once by CI and read as they are by editors.

Every editor opening a base (``index.base``, built by CI in object storage) needs a BM25
over all of its chunks: the context builder's, and full-text search's. Building it from
each chunk's stored term counts (``chunks.terms``/``tfs``: transposing 1.5 million
(chunk, term) pairs) cost each editor about a second of CPU on every open, for a result
that is the same for everyone at one base version. So the writer of a base in object
storage also writes the transposed form, table ``lexicon``: one row per term, sorted,
with the chunk rows holding it and their counts. A reader takes the arrays as they are
(numpy views of Arrow buffers) and finds a term by bisection, with no per-term or per-row
Python object.

Rows are the ``chunks`` table's rows in stored order at the version recorded in ``meta``
(``lexicon_of``: that version and a fingerprint of the rows' paths and lines). A reader
that read other rows (a newer chunks version, a table rewritten) does not use it and reads
the per-chunk term columns instead, so a stale lexicon is never wrong, only unused.
"""

from __future__ import annotations

import bisect
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from indexer.store import Store

LEXICON = "lexicon"
META_KEY = "lexicon_of"
LEXICON_SCHEMA = pa.schema(
    [("term", pa.string()), ("rows", pa.list_(pa.int32())), ("tfs", pa.list_(pa.int32()))]
)
ROW_COLUMNS = ["path", "start_line", "end_line"]


def fingerprint(rows: pa.Table) -> str:
    """Identifies chunk rows and their order (columns path, start_line, end_line): the
    count, each path's first appearance in order, and every row's lines."""
    n = rows.num_rows
    if n == 0:
        return "0"
    names = pc.unique(rows.column("path")).to_pylist()  # in order of first appearance
    crc = zlib.crc32("\n".join(names).encode("utf-8", "surrogatepass"))
    for column in ("start_line", "end_line"):
        values = np.ascontiguousarray(rows.column(column).to_numpy(), dtype=np.int32)
        crc = zlib.crc32(values.tobytes(), crc)
    return f"{n}:{crc:08x}"


def stamp(chunks_version: int, rows: pa.Table) -> str:
    """The ``meta`` value naming the chunk rows a lexicon was built from."""
    return f"{chunks_version}:{fingerprint(rows)}"


@dataclass(frozen=True)
class Postings:
    """For each term (sorted), the chunk rows holding it and its count in each: the
    postings of ``terms[i]`` are ``rows[starts[i]:starts[i+1]]`` with ``tfs`` beside."""

    terms: pa.StringArray
    starts: np.ndarray  # int64, len(terms) + 1
    # int32 views of the table's Arrow buffers (not copied: widening 1.5 million postings
    # to int64 and float64 cost each open ~0.05-0.2 s; a scorer widens one term's slice)
    rows: np.ndarray  # the chunk row of each posting
    tfs: np.ndarray  # its count
    lengths: np.ndarray  # float64 per chunk row: its number of terms
    # terms looked up so far (an editor's queries repeat their terms keystroke after
    # keystroke); a dict of every term would cost each open what bisection saves
    _found: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)
    _listed: list[list[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.lengths)

    def get(self, term: str) -> int | None:
        """The index of ``term`` in ``terms`` (bisection: no dict of every term), or None."""
        found = self._found.get(term, -1)
        if found != -1:
            return found
        found = self._find(term)
        if len(self._found) < 1 << 16:
            self._found[term] = found
        return found

    def _find(self, term: str) -> int | None:
        # The terms as Python strings, made on the first lookup (3 ms for 75,000: a
        # twentieth of a dict of them, and bisecting the Arrow array cost 12 us a term).
        if not self._listed:
            self._listed.append(self.terms.to_pylist())
        terms = self._listed[0]
        i = bisect.bisect_left(terms, term)
        return i if i < len(terms) and terms[i] == term else None

    @classmethod
    def from_table(cls, table: pa.Table, n_rows: int) -> Postings | None:
        """Read a ``lexicon`` table; None when it does not describe ``n_rows`` rows."""
        if table.num_rows == 0 or table.column("rows").null_count or table.column("tfs").null_count:
            return None
        terms = table.column("term").combine_chunks()
        rows_list = table.column("rows").combine_chunks()
        tfs_list = table.column("tfs").combine_chunks()
        offsets = rows_list.offsets.to_numpy().astype(np.int64)
        if not np.array_equal(offsets, tfs_list.offsets.to_numpy()):
            return None
        rows = rows_list.values.to_numpy()[offsets[0] : offsets[-1]]
        tfs = tfs_list.values.to_numpy()[offsets[0] : offsets[-1]]
        if len(rows) and (rows.min() < 0 or rows.max() >= n_rows):
            return None
        lengths = np.bincount(rows, weights=tfs, minlength=n_rows).astype(np.float64)
        return cls(terms, offsets - offsets[0], rows, tfs, lengths)


def build(terms: pa.ChunkedArray | pa.Array, tfs: pa.ChunkedArray | pa.Array) -> pa.Table:
    """The ``lexicon`` table of chunk rows whose term counts are ``terms``/``tfs`` (one
    list per row): terms sorted (as Python orders strings: bisection compares so)."""
    if isinstance(terms, pa.ChunkedArray):
        terms = terms.combine_chunks()
    if isinstance(tfs, pa.ChunkedArray):
        tfs = tfs.combine_chunks()
    lengths = pc.list_value_length(terms).fill_null(0).to_numpy()
    flat = pc.list_flatten(terms)
    codes = pc.dictionary_encode(flat)
    dictionary = codes.dictionary
    order = np.asarray(pc.sort_indices(dictionary))  # byte order: as Python compares str
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    term_of = rank[codes.indices.to_numpy(zero_copy_only=False)]
    row_of = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    by_term = np.argsort(term_of, kind="stable")  # rows ascending within each term
    per_term = np.bincount(term_of, minlength=len(order))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_term)]).astype(np.int32))
    counts = pc.list_flatten(tfs).to_numpy().astype(np.int32)
    return pa.Table.from_arrays(
        [
            dictionary.take(pa.array(order)),
            pa.ListArray.from_arrays(offsets, pa.array(row_of[by_term])),
            pa.ListArray.from_arrays(offsets, pa.array(counts[by_term])),
        ],
        schema=LEXICON_SCHEMA,
    )


def write(store: Store, chunks_version: int) -> None:
    """Build the lexicon of ``store``'s chunk rows (read back as a reader reads them) and
    record which rows it describes. A no-op when it already describes this version."""
    from indexer.store import CHUNKS

    recorded = store.meta().get(META_KEY, "")
    if recorded.startswith(f"{chunks_version}:"):
        return
    rows = store.read(CHUNKS, [*ROW_COLUMNS, "terms", "tfs"])
    if rows.num_rows == 0 or rows.column("terms").null_count or rows.column("tfs").null_count:
        return
    store.replace(LEXICON, build(rows.column("terms"), rows.column("tfs")))
    store.set_meta({META_KEY: stamp(chunks_version, rows.select(ROW_COLUMNS))})


@dataclass(frozen=True)
class LayeredPostings:
    """A base's postings seen through a local delta: rows of ``hidden`` paths are dead;
    the delta's own rows come as term counts (``delta``: columns path, terms, tfs and
    ordinal). Each row's key is (path, its place among its file's chunks)."""

    postings: Postings
    names: list[str]  # path of each code
    codes: np.ndarray  # path code of each row
    ordinal: np.ndarray  # each row's place among its file's chunks
    hidden: frozenset[str] = frozenset()
    delta: pa.Table | None = None
    _alive: list[np.ndarray] = field(default_factory=list, repr=False, compare=False)

    def alive(self) -> np.ndarray:
        """Which base rows are visible (a new array each call: callers mask more)."""
        if not self._alive:
            mask = np.ones(self.postings.n_rows, dtype=bool)
            dead = [i for i, name in enumerate(self.names) if name in self.hidden]
            if dead:
                mask[np.isin(self.codes, np.array(dead, dtype=self.codes.dtype))] = False
            self._alive.append(mask)
        return self._alive[0].copy()

    def key(self, row: int) -> tuple[str, int]:
        return self.names[int(self.codes[row])], int(self.ordinal[row])

    def delta_docs(self) -> list[tuple[tuple[str, int], dict[str, int]]]:
        """((path, ordinal), term counts) of each delta row."""
        table = self.delta
        if table is None or table.num_rows == 0:
            return []
        cols = [table.column(c).to_pylist() for c in ("path", "ordinal", "terms", "tfs")]
        return [
            ((path, ordinal), dict(zip(terms or (), tfs or (), strict=True)))
            for path, ordinal, terms, tfs in zip(*cols, strict=True)
        ]

    def through(self, hidden: frozenset[str], delta: pa.Table | None) -> LayeredPostings:
        """The same base postings under another delta."""
        return LayeredPostings(self.postings, self.names, self.codes, self.ordinal, hidden, delta)
