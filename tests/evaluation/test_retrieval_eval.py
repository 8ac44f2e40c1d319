"""Cross-file points and the retrieval eval on a real indexed workspace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from server.evaluation.baselines import WindowCorpus
from server.evaluation.points import Point, build_points
from server.evaluation.retrieval import _rank_of, evaluate_retrieval

WORKSPACE = Path(__file__).parent.parent / "context" / "workspace"


def test_points_are_first_cross_file_uses_with_their_definition(eval_ws: tuple[Path, Any]) -> None:
    root, index = eval_ws
    points = build_points(root, index)
    got = {(p.path, p.name, p.def_path, p.def_line) for p in points}
    assert got == {
        ("app/report.py", "Polygon", "shapes/polygon.py", 6),  # through shapes/__init__.py
        ("app/report.py", "Vector", "shapes/vector.py", 6),
        ("app/report.py", "dot", "shapes/vector.py", 20),
        ("shapes/polygon.py", "cross", "shapes/vector.py", 25),
    }  # polygon.py's `Vector` has fewer than 10 non-empty lines above its first use
    for p in points:
        lines = (root / p.path).read_text().split("\n")
        assert lines[p.line][p.col :].startswith(p.name)
        assert not any(p.name in t for t in lines[p.import_line : p.line])  # the first use
        assert sum(1 for t in lines[: p.line] if t.strip()) >= 10
        header = (root / p.def_path).read_text().split("\n")[p.def_line - 1]
        assert header.startswith((f"class {p.name}", f"def {p.name}"))


def test_points_are_deterministic_and_sampled_by_seed(eval_ws: tuple[Path, Any]) -> None:
    root, index = eval_ws
    assert build_points(root, index) == build_points(root, index)
    sample = build_points(root, index, limit=2, seed=3)
    assert len(sample) == 2 and sample == build_points(root, index, limit=2, seed=3)
    full = build_points(root, index)
    assert [p for p in full if p in sample] == sample  # kept in path order


def test_baseline_windows_cover_every_line_with_a_ten_line_step() -> None:
    corpus = WindowCorpus({"a.py": "\n".join(f"x{i}" for i in range(45))})
    spans = [(w.start_line, w.end_line) for w in corpus.windows]
    assert spans == [(1, 20), (11, 30), (21, 40), (31, 45)]
    assert corpus.bm25_top("x33", 1, exclude_path="b.py")[0].start_line in (21, 31)
    assert corpus.jaccard_top("x33", 5, exclude_path="a.py") == []  # own file excluded


def test_context_builder_beats_the_baselines_on_the_fixture(eval_ws: tuple[Path, Any]) -> None:
    root, index = eval_ws
    report = evaluate_retrieval(root, index, build_points(root, index))
    assert report.points == 4
    assert report.hits["context"][5] == 1.0
    for method in ("bm25", "jaccard"):
        assert set(report.hits[method]) == {1, 5, 10}
        assert report.hits[method][5] <= report.hits["context"][5]


@pytest.mark.slow
def test_eval_cli_builds_the_index_and_prints_hit_at_k(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(WORKSPACE, root)
    env = {**os.environ, "LANCEDB_LOG": "error"}
    cmd = [sys.executable, "-m", "server", "eval", "--retrieval", str(root), "--embedder", "none"]
    out = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "indexing" in out.stderr  # there was no index: it was built
    obj = json.loads(out.stdout)
    assert obj["points"] == 4
    assert set(obj["hit"]) == {"context", "bm25", "jaccard"}
    assert set(obj["hit"]["context"]) == {"hit@1", "hit@5", "hit@10"}
    table = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert table.returncode == 0, table.stderr
    assert "hit@5" in table.stdout and "context builder" in table.stdout and "BM25" in table.stdout


def test_header_line_skips_decorators_and_comments() -> None:
    from server.evaluation.points import header_line

    lines = ["", "# about A", "@dataclass(frozen=True)", "class A:", "    x: int"]
    assert header_line(lines, 2, 5) == 4
    assert header_line(["def f():", "    pass"], 1, 2) == 1


def test_a_snippet_that_leaves_the_header_line_out_does_not_hit() -> None:
    """A header's digest spans many lines but shows some: the definition must be shown,
    not merely named in another prototype within the span."""
    point = Point("main.c", 20, 4, "api_t", "api.h", 12, "api_t", 0)
    spans = [("api.h", 3, 90)]
    assert _rank_of(spans, point, ["int f(api_t *a);"], [(3, 40, 90)]) is None
    assert _rank_of(spans, point, ["typedef int api_t;"], [(3, 12, 90)]) == 1
    assert _rank_of(spans, point, ["typedef int api_t;"], [()]) == 1  # every line shown
