"""Rows read from a store are grouped by path and ordered within it, moving them only when
the stored order is not so already (a sync writes each file's rows together, in order)."""

from __future__ import annotations

import pyarrow as pa

from indexer.search import _ordered

KEYS = ["path", "start_line", "end_line"]


def _rows(rows: list[tuple[str, int, int]]) -> pa.Table:
    path, start, end = zip(*rows, strict=True)
    text = [f"{p}:{s}-{e}" for p, s, e in rows]
    return pa.table({"path": path, "start_line": start, "end_line": end, "text": text})


def _groups(table: pa.Table) -> list[tuple[str, int, int]]:
    return list(zip(*(table.column(k).to_pylist() for k in KEYS), strict=True))


def test_rows_already_grouped_and_in_order_are_not_moved() -> None:
    table = _rows([("b.py", 1, 4), ("b.py", 5, 9), ("a.py", 1, 2), ("a.py", 1, 3), ("c.py", 7, 8)])
    assert _ordered(table, KEYS) is table  # paths need not be sorted, only together


def test_rows_out_of_order_within_a_path_are_sorted() -> None:
    table = _rows([("b.py", 5, 9), ("b.py", 1, 4), ("a.py", 1, 2)])
    out = _ordered(table, KEYS)
    assert _groups(out) == [("a.py", 1, 2), ("b.py", 1, 4), ("b.py", 5, 9)]
    assert out.column("text").to_pylist() == ["a.py:1-2", "b.py:1-4", "b.py:5-9"]


def test_a_path_split_over_two_runs_is_brought_together() -> None:
    table = _rows([("a.py", 1, 2), ("b.py", 1, 4), ("a.py", 3, 5)])
    assert _groups(_ordered(table, KEYS)) == [("a.py", 1, 2), ("a.py", 3, 5), ("b.py", 1, 4)]


def test_equal_starts_are_ordered_by_end() -> None:
    table = _rows([("a.py", 1, 9), ("a.py", 1, 3)])
    assert _groups(_ordered(table, KEYS)) == [("a.py", 1, 3), ("a.py", 1, 9)]
