"""A file's stored chunk rows become objects only when read, in chunk order, and the BM25
loaders match stored term counts to those chunks by each row's ordinal."""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

from indexer.lazy_rows import LazyChunks, chunk_lines, lazy_chunks, term_keys
from indexer.types import Chunk

# As a sync stores them: each file's rows together, a class summary before the class's
# first piece on the same line (so not by (start, end)), files in any order.
ROWS = [
    ("b.py", 1, 30, "class B:", ["B"], "class_summary"),
    ("b.py", 1, 5, "class B:\n    x = 1", [], "definition"),
    ("b.py", 7, 30, "    def run(self): ...", ["B.run"], "definition"),
    ("a.py", 1, 2, "def f(): ...", ["f"], "definition"),
]


def _table(rows: list[tuple[str, int, int, str, list[str], str]]) -> pa.Table:
    path, start, end, text, symbols, kind = zip(*rows, strict=True)
    return pa.table(
        {
            "path": path,
            "start_line": pa.array(start, pa.int32()),
            "end_line": pa.array(end, pa.int32()),
            "language": ["python"] * len(rows),
            "text": text,
            "symbols": pa.array(symbols, pa.list_(pa.string())),
            "kind": kind,
        }
    )


def test_a_files_rows_become_chunks_by_start_then_end_line_on_first_read() -> None:
    grouped = lazy_chunks(_table(ROWS))
    assert grouped is not None
    chunks, ordinal = grouped
    b = chunks["b.py"]
    assert isinstance(b, LazyChunks) and len(b) == 3
    assert chunk_lines(b).tolist() == [[1, 5], [1, 30], [7, 30]]
    assert "loaded=False" in repr(b)  # counting and lines made no objects
    assert [(c.start_line, c.end_line) for c in b] == [(1, 5), (1, 30), (7, 30)]
    assert b[1] == Chunk("b.py", 1, 30, "python", "class B:", ("B",), "class_summary")
    assert list(chunks["a.py"]) == [Chunk("a.py", 1, 2, "python", "def f(): ...", ("f",))]
    assert ordinal.tolist() == [1, 0, 2, 0]  # each stored row's place in its file's chunks


def test_rows_of_one_file_apart_are_refused() -> None:
    assert lazy_chunks(_table([ROWS[0], ROWS[3], ROWS[1]])) is None


def test_term_rows_are_matched_to_chunks_by_ordinal_and_refused_when_they_differ() -> None:
    table = _table(ROWS)
    grouped = lazy_chunks(table)
    assert grouped is not None
    chunks, ordinal = grouped
    terms = table.select(["path", "start_line", "end_line"])
    terms = terms.append_column("ordinal", pa.array(ordinal))
    assert term_keys(terms, chunks) == [("b.py", 1), ("b.py", 0), ("b.py", 2), ("a.py", 0)]
    assert term_keys(terms, {"b.py": chunks["b.py"]}) is None  # rows of a file not held
    wrong = terms.set_column(3, "ordinal", pa.array([0, 1, 2, 0], pa.int32()))
    assert term_keys(wrong, chunks) is None  # same start, other end: not that chunk's counts
    twice = terms.set_column(3, "ordinal", pa.array([1, 1, 2, 0], pa.int32()))
    assert term_keys(twice, chunks) is None  # one chunk twice, one never


def test_lazy_groups_make_objects_per_path_on_first_read() -> None:
    """Imports read from a store stay Arrow until a file's are read; one column can be
    read without making any object."""
    from indexer.lazy_rows import LazyRows, lazy_groups

    table = pa.table(
        {
            "path": ["a.py", "a.py", "b.py"],
            "name": ["X", None, "Y"],
            "line": pa.array([1, 2, 1], pa.int32()),
        }
    )
    made: list[tuple[str, str | None, int]] = []

    class Ref(NamedTuple):
        name: str | None
        line: int

    def make(path: str, name: str | None, line: int) -> Ref:
        made.append((path, name, line))
        return Ref(name, line)

    groups = lazy_groups(table, ["path", "name", "line"], make)
    assert groups is not None and sorted(groups) == ["a.py", "b.py"]
    a = groups["a.py"]
    assert isinstance(a, LazyRows) and len(a) == 2
    assert a.column("name") == ["X", None] and made == []
    assert list(a) == [("X", 1), (None, 2)] and len(made) == 2
    assert a.column("name") == ["X", None]  # from the objects now
    assert groups["b.py"][0] == ("Y", 1)
    apart = pa.table({"path": ["a.py", "b.py", "a.py"], "name": ["X", "Y", "Z"], "line": [1, 1, 2]})
    assert lazy_groups(apart, ["path", "name", "line"], make) is None
