"""build_context on a real indexed workspace: what reaches the prompt, and what never does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from context_support import cursor_before

from indexer.chunker import parse_file
from server.context import build_context
from server.evaluation.retrieval import prefix_at


def _at(root: Path, path: str, needle: str, nth: int = 0, cut: bool = True) -> tuple[str, int, int]:
    text, line, col = cursor_before(root, path, needle, nth)
    return (prefix_at(text, line, col) if cut else text), line, col


def test_imported_function_definition_is_first(ws: tuple[Path, Any]) -> None:
    root, index = ws
    text, line, col = _at(root, "app/report.py", "dot(a, b)")
    result = build_context(index, "app/report.py", text, line, col, k=3)
    top = result.snippets[0]
    assert (top.path, top.source) == ("shapes/vector.py", "definition")
    assert "def dot(a: Vector, b: Vector) -> float:" in top.text
    assert "`dot`" in top.reason and "imported at line 4" in top.reason


def test_definition_found_through_package_reexport(ws: tuple[Path, Any]) -> None:
    """`from shapes import Polygon` resolves through shapes/__init__.py to polygon.py."""
    root, index = ws
    text, line, col = _at(root, "app/report.py", "Polygon:")
    result = build_context(index, "app/report.py", text, line, col, k=5)
    hits = [s for s in result.snippets if s.contains_line("shapes/polygon.py", 6)]
    assert hits and hits[0].source == "definition"
    assert hits[0].text.startswith("class Polygon:")


def test_own_region_is_never_returned(ws: tuple[Path, Any]) -> None:
    """Inside summary_table: its own chunk (and what follows) stays out, while the
    near-identical function of another file comes in as similar code."""
    root, index = ws
    text, line, col = _at(root, "app/report.py", "lines = [f", cut=False)
    result = build_context(index, "app/report.py", text, line, col, k=8)
    own = [s for s in result.snippets if s.path == "app/report.py"]
    assert all(s.end_line < line + 1 for s in own), own
    assert any(s.path == "app/tables.py" and s.source == "similar" for s in result.snippets)


def test_overlay_replaces_the_indexed_rows(ws: tuple[Path, Any]) -> None:
    """An unsaved buffer of vector.py (dot moved down, new docstring) wins over disk."""
    root, index = ws
    original = (root / "shapes/vector.py").read_text()
    edited = original.replace(
        '    """The dot product of two vectors."""', '    """Dot product (unsaved edit)."""'
    ).replace("def dot(", "\n\n\ndef dot(")
    overlay = {"shapes/vector.py": parse_file("shapes/vector.py", edited)}
    text, line, col = _at(root, "app/report.py", "dot(a, b)")
    result = build_context(index, "app/report.py", text, line, col, overlay=overlay, k=3)
    dot = next(s for s in result.snippets if "def dot(" in s.text)
    assert "unsaved edit" in dot.text and "The dot product" not in dot.text
    assert dot.start_line == 23  # three lines further down than on disk
    assert edited.split("\n")[dot.start_line - 1].startswith("def dot(")


def test_import_typed_in_the_buffer_counts(ws: tuple[Path, Any]) -> None:
    """An import only in the unsaved buffer of the cursor's own file is resolved."""
    root, index = ws
    text = (root / "app/tables.py").read_text()
    text = text.replace(
        '"""Tables of numbers, formatted."""', '"""Tables."""\n\nfrom shapes.vector import cross\n'
    )
    text += "\n\ndef turn(a, b):\n    return "
    lines = text.split("\n")
    result = build_context(index, "app/tables.py", text, len(lines) - 1, len(lines[-1]), k=3)
    assert result.snippets[0].path == "shapes/vector.py"
    assert "def cross(" in result.snippets[0].text


def test_budget_and_k_are_respected(ws: tuple[Path, Any]) -> None:
    root, index = ws
    text, line, col = _at(root, "app/report.py", "dot(a, b)")
    full = build_context(index, "app/report.py", text, line, col, k=8, budget_tokens=10**6)
    assert len(full.snippets) > 2
    budget = 60
    small = build_context(
        index, "app/report.py", text, line, col, k=8, budget_tokens=budget, count_tokens=len
    )
    assert small.snippets and sum(len(s.text) for s in small.snippets) <= budget
    assert small.snippets[0].path == full.snippets[0].path  # the best one comes first, cut
    assert len(build_context(index, "app/report.py", text, line, col, k=1).snippets) == 1


@pytest.mark.parametrize("needle", ["Polygon:", "dot(a, b)", "lines = [f"])
def test_snippets_do_not_overlap(ws: tuple[Path, Any], needle: str) -> None:
    root, index = ws
    text, line, col = _at(root, "app/report.py", needle)
    spans = [
        (s.path, s.start_line, s.end_line)
        for s in build_context(index, "app/report.py", text, line, col, k=10).snippets
    ]
    for i, (p, a, b) in enumerate(spans):
        for q, c, d in spans[i + 1 :]:
            assert p != q or b < c or d < a, spans


def test_position_past_the_end_is_clamped(ws: tuple[Path, Any]) -> None:
    root, index = ws
    text = (root / "app/report.py").read_text()
    result = build_context(index, "app/report.py", text, 10_000, 10_000, k=3)
    assert result.ms >= 0 and len(result.snippets) <= 3
