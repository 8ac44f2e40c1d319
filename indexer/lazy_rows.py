"""A file's chunks kept as the stored rows they were read as, made ``Chunk`` objects on
first use.

Opening an index reads every chunk row (one Arrow read per table, which an object store
serves in parallel), but a context reads the chunks of a few files. Turning 67,000 rows
into Python objects up front cost about as much as reading them; here each file's slice of
the Arrow table becomes objects when something first reads it, once. Rows are never moved
(a ``take`` of every text and term list cost half a second): a file whose stored rows are
not in chunk order is read through a small permutation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from indexer.types import Chunk

CHUNK_COLUMNS = ["path", "start_line", "end_line", "language", "text", "symbols", "kind"]
T = TypeVar("T")


class LazyChunks(Sequence[Chunk]):
    """One file's chunks: rows ``lo:hi`` of a table grouped by path (``CHUNK_COLUMNS``),
    taken in the order ``perm`` (by start line, then end line; None: as stored). Its
    length and lines need no objects."""

    __slots__ = ("_hi", "_items", "_lines", "_lo", "_perm", "_table")

    def __init__(
        self, table: pa.Table, lo: int, hi: int, lines: np.ndarray, perm: np.ndarray | None
    ) -> None:
        self._table: pa.Table | None = table
        self._lo, self._hi = lo, hi
        self._lines = lines  # the whole table's (start_line, end_line), n x 2
        self._perm = perm
        self._items: list[Chunk] | None = None

    def __len__(self) -> int:
        return self._hi - self._lo

    @property
    def lines(self) -> np.ndarray:
        """(start_line, end_line) of each chunk, in order (n x 2)."""
        mine = self._lines[self._lo : self._hi]
        return mine if self._perm is None else mine[self._perm]

    def _load(self) -> list[Chunk]:
        items = self._items
        if items is None:
            table = self._table
            assert table is not None
            part = table.slice(self._lo, self._hi - self._lo)
            columns = [part.column(c).to_pylist() for c in CHUNK_COLUMNS]
            items = [
                Chunk(path, start, end, language, text, tuple(symbols or ()), kind)
                for path, start, end, language, text, symbols, kind in zip(*columns, strict=True)
            ]
            if self._perm is not None:
                items = [items[i] for i in self._perm.tolist()]
            self._items = items  # two threads may both build it: equal lists, either wins
            self._table = None
        return items

    def column(self, name: str) -> list[Any]:
        """One field of every chunk (a ``CHUNK_COLUMNS`` name), in chunk order, read from
        the rows without making (or keeping) ``Chunk`` objects: a pass over the whole
        workspace (type facts, vector hashes) leaves the rows lazy."""
        items = self._items
        table = self._table if items is None else None
        if items is None and table is None:
            items = self._items  # made meanwhile (it is set before the table is dropped)
        if items is not None:
            return [getattr(c, name) for c in items]
        assert table is not None
        values = table.column(name).slice(self._lo, self._hi - self._lo).to_pylist()
        return values if self._perm is None else [values[i] for i in self._perm.tolist()]

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        return self._load()[i]

    def __iter__(self) -> Iterator[Chunk]:
        return iter(self._load())

    def __repr__(self) -> str:
        return f"LazyChunks({len(self)} rows, loaded={self._items is not None})"


def lazy_chunks(table: pa.Table) -> tuple[dict[str, LazyChunks], np.ndarray] | None:
    """(path → its chunks, each row's place among its file's chunks) for a table whose
    rows are grouped by path (as a sync writes them); nothing becomes an object yet. None
    when some path's rows are not together (the caller sorts the table first)."""
    n = table.num_rows
    if n == 0:
        return {}, np.zeros(0, dtype=np.int32)
    table = table.select(CHUNK_COLUMNS)
    codes = pc.dictionary_encode(table.column("path").combine_chunks())
    runs = codes.indices.to_numpy(zero_copy_only=False)
    bounds = np.flatnonzero(runs[1:] != runs[:-1]) + 1
    if len(bounds) + 1 != len(codes.dictionary):
        return None
    los = np.concatenate([[0], bounds]).astype(np.int64)
    his = np.concatenate([bounds, [n]]).astype(np.int64)
    starts = table.column("start_line").to_numpy()
    ends = table.column("end_line").to_numpy()
    # Rows that break the order by (start, end) within their file (the chunker puts a
    # class summary before the class's first piece, which starts on the same line).
    same = runs[1:] == runs[:-1]
    earlier = (starts[1:] < starts[:-1]) | ((starts[1:] == starts[:-1]) & (ends[1:] < ends[:-1]))
    run_of = np.repeat(np.arange(len(los)), his - los)
    unordered = set(run_of[np.flatnonzero(same & earlier) + 1].tolist())
    ordinal = (np.arange(n) - np.repeat(los, his - los)).astype(np.int32)
    names = codes.dictionary.to_pylist()
    lines = np.stack([starts, ends], axis=1)
    out: dict[str, LazyChunks] = {}
    for r, (lo, hi) in enumerate(zip(los.tolist(), his.tolist(), strict=True)):
        perm = None
        if r in unordered:
            perm = np.lexsort((ends[lo:hi], starts[lo:hi]))  # stable: by start, then end
            ordinal[lo + perm] = np.arange(hi - lo, dtype=np.int32)
        out[names[runs[lo]]] = LazyChunks(table, lo, hi, lines, perm)
    return out, ordinal


class LazyRows(Sequence[T]):
    """One path's rows ``lo:hi`` of a table grouped by path, made objects (``make`` over
    the columns ``names``, path first) on first use; ``column`` reads one column of them
    without making any (an editor opening a base counts every file's imported names but
    reads the imports of a few files)."""

    __slots__ = ("_hi", "_items", "_lo", "_make", "_names", "_table")

    def __init__(
        self, table: pa.Table, lo: int, hi: int, names: list[str], make: Callable[..., T]
    ) -> None:
        self._table: pa.Table | None = table
        self._lo, self._hi = lo, hi
        self._names = names
        self._make = make
        self._items: list[T] | None = None

    def __len__(self) -> int:
        return self._hi - self._lo

    def column(self, name: str) -> list[Any]:
        """The values of one column, in order."""
        table = self._table
        if table is None:  # made already
            return [getattr(item, name) for item in self._load()]
        return table.column(name).slice(self._lo, self._hi - self._lo).to_pylist()

    def _load(self) -> list[T]:
        items = self._items
        if items is None:
            table = self._table
            assert table is not None
            part = table.slice(self._lo, self._hi - self._lo)
            columns = [part.column(c).to_pylist() for c in self._names]
            make = self._make
            items = [make(*row) for row in zip(*columns, strict=True)]
            self._items = items  # two threads may both build it: equal lists, either wins
            self._table = None
        return items

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        return self._load()[i]

    def __iter__(self) -> Iterator[T]:
        return iter(self._load())

    def __repr__(self) -> str:
        return f"LazyRows({len(self)} rows, loaded={self._items is not None})"


def lazy_groups(
    table: pa.Table, names: list[str], make: Callable[..., T]
) -> dict[str, LazyRows[T]] | None:
    """path → its rows as ``LazyRows`` for a table whose rows are grouped by path and in
    order within it (the caller orders them); None when some path's rows are apart."""
    n = table.num_rows
    if n == 0:
        return {}
    table = table.select(names)
    codes = pc.dictionary_encode(table.column(names[0]).combine_chunks())
    runs = codes.indices.to_numpy(zero_copy_only=False)
    bounds = np.flatnonzero(runs[1:] != runs[:-1]) + 1
    if len(bounds) + 1 != len(codes.dictionary):
        return None
    los = [0, *bounds.tolist()]
    his = [*bounds.tolist(), n]
    paths = codes.dictionary.to_pylist()
    firsts = runs[los].tolist()
    return {
        paths[f]: LazyRows(table, lo, hi, names, make)
        for f, lo, hi in zip(firsts, los, his, strict=True)
    }


def chunk_column(chunks: Sequence[Chunk], name: str) -> list[Any]:
    """One field of each chunk, without making objects of lazily held rows."""
    if isinstance(chunks, LazyChunks):
        return chunks.column(name)
    return [getattr(c, name) for c in chunks]


def chunk_lines(chunks: Sequence[Chunk]) -> np.ndarray:
    """The chunks' (start_line, end_line) (n x 2), without making objects of lazily held
    rows."""
    if isinstance(chunks, LazyChunks):
        return chunks.lines
    pairs = (n for c in chunks for n in (c.start_line, c.end_line))
    flat = np.fromiter(pairs, dtype=np.int64, count=2 * len(chunks))
    return flat.reshape(-1, 2)


def term_keys(
    table: pa.Table, chunks: Mapping[str, Sequence[Chunk]]
) -> list[tuple[str, int]] | None:
    """(path, index into ``chunks[path]``) of each row of a stored term-counts table
    (columns path, start_line, end_line and, from ``lazy_chunks``, ordinal; a file's rows
    together, in any order); None unless the rows are exactly the chunks (an older index, or rows
    that do not line up), so the caller tokenizes instead. Numpy over the columns: no
    object per row but the keys."""
    n = table.num_rows
    if n == 0 or n != sum(len(c) for c in chunks.values()):
        return None
    codes = pc.dictionary_encode(table.column("path").combine_chunks())
    runs = codes.indices.to_numpy(zero_copy_only=False)
    bounds = np.flatnonzero(runs[1:] != runs[:-1]) + 1
    names = codes.dictionary.to_pylist()
    if len(bounds) + 1 != len(names):
        return None  # a path's rows apart
    los = np.concatenate([[0], bounds]).astype(np.int64)
    lengths = np.diff(np.concatenate([los, [n]]))
    run_paths = [names[i] for i in runs[los].tolist()]
    held = [chunks.get(p) for p in run_paths]
    if any(c is None or len(c) != k for c, k in zip(held, lengths.tolist(), strict=True)):
        return None
    base = np.repeat(los, lengths)
    if "ordinal" in table.schema.names:
        ordinal = table.column("ordinal").to_numpy().astype(np.int64)
    else:  # rows in chunk order: the place within the file's run
        ordinal = np.arange(n, dtype=np.int64) - base
    if ordinal.min() < 0 or np.any(ordinal >= np.repeat(lengths, lengths)):
        return None
    where = base + ordinal  # each row's place in the files' chunks laid end to end
    if np.bincount(where, minlength=n).max() != 1:
        return None  # not one row per chunk
    expected = np.concatenate([chunk_lines(c) for c in held if c is not None])[where]
    if not np.array_equal(expected[:, 0], table.column("start_line").to_numpy()):
        return None
    if "end_line" in table.schema.names and not np.array_equal(
        expected[:, 1], table.column("end_line").to_numpy()
    ):
        return None
    paths = [names[i] for i in runs.tolist()]
    return list(zip(paths, ordinal.tolist(), strict=True))
