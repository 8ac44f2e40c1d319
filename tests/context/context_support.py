"""Helpers for the context tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path


def cursor_before(root: Path, path: str, needle: str, nth: int = 0) -> tuple[str, int, int]:
    """(text, line, col), 0-based, of the ``nth`` occurrence of ``needle`` in ``path``."""
    text = (root / path).read_text()
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    col = at - (text.rfind("\n", 0, at) + 1)
    return text, line, col
