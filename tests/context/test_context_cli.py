"""`tandem context` as a user runs it: one cursor, or many from a JSON-lines file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from context_support import cursor_before


def _tandem(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANCEDB_LOG": "error"}
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_one_cursor_json_shape(ws: tuple[Path, Any]) -> None:
    root, _ = ws
    _, line, col = cursor_before(root, "app/report.py", "dot(a, b)")
    spec = f"app/report.py:{line + 1}:{col + 1}"
    out = _tandem("context", spec, "--root", str(root), "--k", "3", "--json", cwd=root)
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) >= {"path", "line", "col", "snippets", "ms"}
    assert (obj["path"], obj["line"], obj["col"]) == ("app/report.py", line + 1, col + 1)
    assert 1 <= len(obj["snippets"]) <= 3
    for s in obj["snippets"]:
        assert set(s) >= {"path", "start_line", "end_line", "score", "source", "text"}
    assert obj["snippets"][0]["path"] == "shapes/vector.py"
    # The human form says the same thing in words.
    human = _tandem("context", spec, "--root", str(root), "--k", "1", cwd=root)
    assert (
        human.returncode == 0 and "shapes/vector.py" in human.stdout and "def dot(" in human.stdout
    )


@pytest.mark.slow
def test_points_file_answers_in_order_and_reports_bad_lines(
    ws: tuple[Path, Any], tmp_path: Path
) -> None:
    root, _ = ws
    cursors = [
        cursor_before(root, "app/report.py", "dot(a, b)")[1:],
        cursor_before(root, "shapes/polygon.py", "cross(self")[1:],
        cursor_before(root, "app/report.py", "Polygon:")[1:],
    ]
    paths = ["app/report.py", "shapes/polygon.py", "app/report.py"]
    lines = [
        json.dumps({"path": p, "line": ln + 1, "col": c + 1})
        for p, (ln, c) in zip(paths, cursors, strict=True)
    ]
    lines.insert(2, "{not json")
    points = tmp_path / "points.jsonl"
    points.write_text("\n".join(lines) + "\n")
    out = _tandem("context", "--points", str(points), "--root", str(root), "--json", cwd=root)
    assert out.returncode == 1  # one bad line: reported, the others still answered
    objs = [json.loads(x) for x in out.stdout.splitlines()]
    assert len(objs) == 4
    assert objs[2] == {"input_line": 3, "error": objs[2]["error"]} and "line 3" in out.stderr
    good = [o for o in objs if "error" not in o]
    assert [(o["path"], o["line"]) for o in good] == [
        (p, ln + 1) for p, (ln, _) in zip(paths, cursors, strict=True)
    ]
    assert good[1]["snippets"][0]["path"] == "shapes/vector.py"  # cross, for polygon.py


def test_bad_position_is_a_clear_error(ws: tuple[Path, Any]) -> None:
    root, _ = ws
    out = _tandem("context", "app/report.py:0:1", "--root", str(root), cwd=root)
    assert out.returncode == 2 and "1-based" in out.stderr and not out.stdout
