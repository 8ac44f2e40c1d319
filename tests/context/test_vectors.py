"""The vector channel, with real MiniLM vectors from the real indexer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from context_support import cursor_before

from server.context import build_context


@pytest.mark.slow
def test_vector_channel_uses_stored_vectors(ws_minilm: tuple[Path, Any]) -> None:
    root, index = ws_minilm
    assert index.has_vectors()
    text, line, col = cursor_before(root, "app/report.py", "lines = [f")
    with_vectors = build_context(index, "app/report.py", text, line, col, k=8)
    similar = [s for s in with_vectors.snippets if s.source == "similar"]
    assert any("vector" in s.reason for s in similar), [s.reason for s in similar]
    assert all(s.path != "app/report.py" or s.end_line < line + 1 for s in with_vectors.snippets)
    lexical = build_context(index, "app/report.py", text, line, col, k=8, vectors=False)
    assert not any("vector" in s.reason for s in lexical.snippets)
