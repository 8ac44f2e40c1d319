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


def test_the_view_scores_the_index_vectors_in_place() -> None:
    """The view's vector matrix is the index's own (no copy of 31 MB of int8 for 80,000
    chunks): every chunk is scored by its stored vector, chunks sharing a text share a row."""
    import numpy as np

    from indexer.types import Chunk, content_hash
    from indexer.vectors import Int8Rows
    from server.context.workspace import FileEntry, StoredVectors, WorkspaceView

    texts = ["def a(): pass", "def b(): pass", "def a(): pass", "x = 1"]
    chunks = [Chunk("m.py", i + 1, i + 1, "python", t) for i, t in enumerate(texts)]
    stored = np.eye(4, 3, dtype=np.float32)[[2, 0, 1]]  # rows for "x = 1", a, b (+ one unused)
    stored = np.vstack([stored, np.full((1, 3), 0.5, dtype=np.float32)])
    rows = {content_hash("x = 1"): 0, content_hash("def a(): pass"): 1}
    rows[content_hash("def b(): pass")] = 2
    view = WorkspaceView()
    view.add_files([FileEntry("m.py", chunks)])
    view.vectors = StoredVectors(Int8Rows.quantize(stored), rows)
    m = view.matrix()
    assert m is not None and m.matrix is view.vectors.matrix
    assert m.keys == [("m.py", 0), ("m.py", 1), ("m.py", 2), ("m.py", 3)]
    q = np.array([0.2, 0.3, 0.5], dtype=np.float32)
    expected = [float(stored[rows[content_hash(t)]] @ q) for t in texts]
    assert np.allclose(m.scores(q), expected, atol=0.005)
    assert np.allclose(view.vectors[content_hash("def b(): pass")], stored[2], atol=0.005)
    assert content_hash("nothing") not in view.vectors and len(view.vectors) == 3


@pytest.mark.slow
def test_a_vector_search_does_not_import_torch(ws_minilm: tuple[Path, Any]) -> None:
    """Queries are embedded in numpy: a process that only searches never loads torch, and
    finds what the torch-embedded index holds."""
    import os
    import subprocess
    import sys

    root, _ = ws_minilm
    repo = Path(__file__).resolve().parents[2]
    code = (
        "import sys\n"
        "from indexer.search import open_index\n"
        f"hits = open_index({str(root)!r}).search('format a report line', k=3, mode='vector')\n"
        "print(len(hits), 'torch' in sys.modules, hits[0].path if hits else '')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(repo), "LANCEDB_LOG": "error"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    count, torch_loaded, first = out.stdout.split()
    assert int(count) == 3 and torch_loaded == "False" and first.endswith(".py")
