"""The indexing commands: ``--json`` output, human output, and user errors as one line."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from index_helpers import TANDEM, cli_env, write

from indexer.search import open_index
from server.cli import main


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_index_search_status_forget_json(
    workspace: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = workspace()
    write(root, {".env": "X=1\n", "logo.png": b"\x89PNG"})
    report = run_json(capsys, "index", str(root), "--embedder", "none")
    assert isinstance(report, dict)
    assert report["indexed"] == 5 and report["total_chunks"] > 0
    assert report["skipped_by_reason"] == {"binary": 1, "secret file": 1}
    hits = run_json(capsys, "search", "double a number", "--root", str(root), "--mode", "text")
    assert isinstance(hits, list)
    top = hits[0]
    assert set(top) >= {"path", "start_line", "end_line", "symbol", "score", "text"}
    assert (top["path"], top["symbol"]) == ("pkg/util.py", "helper")
    assert top["start_line"] <= 4 <= top["end_line"]  # 1-based: `def helper` is line 4
    assert top["text"].splitlines()[4 - top["start_line"]].startswith("def helper")
    status = run_json(capsys, "status", "--root", str(root))
    assert isinstance(status, dict)
    assert status["files"] == 5 and status["embedder"] == "none"
    assert status["bytes_on_disk"] > 0 and status["last_update"]
    forgot = run_json(capsys, "forget", "pkg/util.py", "--root", str(root))
    assert isinstance(forgot, dict) and forgot["removed"] == ["pkg/util.py"]
    again = run_json(capsys, "index", str(root))  # keeps the index's embedder (none)
    assert isinstance(again, dict)
    assert again["embedder"] == "none" and again["indexed"] == 0 and again["total_files"] == 4


def test_human_output(workspace: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    root = workspace()
    assert main(["index", str(root), "--embedder", "none"]) == 0
    out = capsys.readouterr().out
    assert "5 indexed" in out and "chunks" in out
    assert main(["search", "greet", "--root", str(root), "--mode", "symbol"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("web/index.js:1-3") and "export function greet" in out
    assert main(["status", "--root", str(root)]) == 0
    assert "embedded fraction" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["index", "/no/such/folder"], "no such folder"),
        (["status", "--root", "{empty}"], "no index at"),
        (["search", "x", "--root", "{empty}"], "no index at"),
        (["search", "x", "--root", "{root}", "--mode", "vector"], "no embeddings"),
        (["search", "x", "--root", "{root}", "--k", "0"], "--k must be positive"),
        (["forget", "/etc/passwd", "--root", "{root}"], "not inside the workspace"),
        (["index", "{root}", "--max-file-kb", "0"], "--max-file-kb must be positive"),
    ],
)
def test_user_errors_are_one_line(
    workspace: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    root = workspace()
    (tmp_path / "empty").mkdir()
    assert main(["index", str(root), "--embedder", "none", "--json"]) == 0
    capsys.readouterr()
    argv = [a.format(root=root, empty=tmp_path / "empty") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_bad_embedder_fails_cleanly_and_keeps_the_lexical_index(
    workspace: Callable[..., Path],
) -> None:
    root = workspace()
    proc = subprocess.run(
        [*TANDEM, "index", str(root), "--embedder", "/no/such/model"],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "cannot load embedding model '/no/such/model'" in proc.stderr
    assert "Traceback" not in proc.stderr
    index = open_index(root)
    assert len(index.known_paths()) == 5  # nothing lost: the workspace is searchable
    assert index.status()["embedder"] == "none"


@pytest.mark.slow
def test_watch_keeps_the_index_current(workspace: Callable[..., Path]) -> None:
    root = workspace()
    proc = subprocess.Popen(
        [*TANDEM, "watch", str(root), "--embedder", "none", "--debounce-ms", "100", "--json"],
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the initial sync
        assert first["indexed"] == 5
        write(root, {"pkg/later.py": "def arrived_later():\n    return 1\n"})
        (root / "README.md").unlink()
        write(root, {"node_modules/x/index.js": "function ignored() {}\n"})
        deadline = time.monotonic() + 60
        index = open_index(root)
        while time.monotonic() < deadline:
            index.refresh()
            if index.definitions("arrived_later") and "README.md" not in index.known_paths():
                break
            time.sleep(0.2)
        assert [p for p, _ in index.definitions("arrived_later")] == ["pkg/later.py"]
        assert "README.md" not in index.known_paths()
        assert not any(p.startswith("node_modules") for p in index.known_paths())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
