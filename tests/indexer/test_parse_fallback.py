"""No silent fallback: a file whose grammar fails is cut into line windows, and the reason is
kept on its row, counted and reported (``tandem index``, ``tandem status``, the server log).

Two real failures are used: a Python environment without the Go grammar's wheel (its import
fails, as when the wheel is not installed) and the chunker running out of Python stack.
"""

from __future__ import annotations

import inspect
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from index_helpers import lexical

from indexer import languages
from indexer.chunker import parse_file
from indexer.search import open_index
from indexer.store import FILES, SCHEMA_VERSION, Store
from indexer.sync import sync, sync_paths
from server.cli import main

GO = "package util\n\n// Double doubles.\nfunc Double(x int) int {\n\treturn 2 * x\n}\n"
PY = "def helper(x):\n    return x * 2\n"


def reset_grammars() -> None:
    languages.get_language.cache_clear()
    languages._parsers.clear()


@pytest.fixture
def without_go_grammar(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Go's grammar wheel made unimportable; every grammar loads afresh afterwards."""
    monkeypatch.setitem(sys.modules, "tree_sitter_go", None)
    reset_grammars()
    yield
    monkeypatch.undo()
    reset_grammars()


def nested_classes(depth: int) -> str:
    lines = []
    for level in range(depth):
        indent = "    " * level
        lines.append(f"{indent}class C{level}:")
        for j in range(6):
            lines.append(f"{indent}    def m{j}(self, value):")
            lines.append(f"{indent}        return compute(value, factor={j}, scale=self.scale)")
    return "\n".join(lines) + "\n"


def test_a_grammar_failure_is_recorded_with_what_failed_and_where() -> None:
    text = nested_classes(40)
    assert parse_file("deep.py", text).fallback is None
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 40)  # far less stack than 40 levels need
    try:
        parsed = parse_file("deep.py", text)
    finally:
        sys.setrecursionlimit(limit)
    assert parsed.fallback is not None
    assert parsed.fallback.startswith("RecursionError: maximum recursion depth exceeded")
    assert ".py:" in parsed.fallback and " in " in parsed.fallback  # file:line in function
    assert parsed.definitions == [] and {c.kind for c in parsed.chunks} == {"window"}
    assert "\n".join(c.text for c in parsed.chunks).split() == text.split()  # nothing lost


def test_a_missing_grammar_is_a_fallback_a_language_without_one_is_not(
    without_go_grammar: None,
) -> None:
    go = parse_file("util.go", GO)
    assert go.fallback == "the go grammar is not installed"
    assert go.definitions == [] and go.chunks and go.chunks[0].kind == "window"
    for path, text in (("README.md", "# Title\n\nSome words.\n"), ("a.py", PY)):
        assert parse_file(path, text).fallback is None


def test_fallbacks_are_stored_counted_and_reported_by_the_cli(
    workspace: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    without_go_grammar: None,
) -> None:
    root = workspace({"util.go": GO, "a.py": PY, "README.md": "# Notes\n"})
    assert main(["index", str(root), "--embedder", "none", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    reason = "the go grammar is not installed"
    assert report["fallbacks"] == [{"path": "util.go", "reason": reason}]
    assert report["total_fallbacks"] == 1
    rows = Store(str(root / ".tandem")).read(FILES).to_pylist()
    assert {r["path"]: r["fallback"] for r in rows} == {
        "util.go": reason,
        "a.py": None,
        "README.md": None,
    }
    # Unchanged files are not parsed again, but the index still counts them.
    assert main(["index", str(root), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["fallbacks"] == [] and again["total_fallbacks"] == 1
    assert main(["status", "--root", str(root), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["parse_fallbacks"] == [{"path": "util.go", "reason": reason}]
    assert main(["status", "--root", str(root)]) == 0
    assert f"util.go: {reason}" in capsys.readouterr().out
    (root / "util.go").write_text(GO + "\n// touched\n")
    assert main(["index", str(root)]) == 0
    human = capsys.readouterr().out
    assert "1 file(s) in the index cut into line windows" in human
    assert f"util.go: {reason}" in human


def test_a_file_that_parses_again_is_no_longer_counted(
    workspace: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = workspace({"util.go": GO})
    monkeypatch.setitem(sys.modules, "tree_sitter_go", None)
    reset_grammars()
    assert sync(root, lexical()).total_fallbacks == 1
    monkeypatch.undo()
    reset_grammars()
    (root / "util.go").write_text(GO + "\nfunc Half(x int) int { return x / 2 }\n")
    report = sync_paths(root, lexical(), ["util.go"])
    assert report.fallbacks == [] and report.total_fallbacks == 0
    index = open_index(root)
    assert index.status()["parse_fallbacks"] == []
    assert [p for p, _ in index.definitions("Half")] == ["util.go"]


def test_an_index_from_before_the_column_opens_and_is_parsed_again(
    workspace: Callable[..., Path],
) -> None:
    root = workspace({"util.go": GO, "a.py": PY})
    sync(root, lexical())
    # What version 1 wrote: no fallback column, schema_version 1.
    uri = str(root / ".tandem")
    old = Store(uri)
    old.table(FILES).drop_columns(["fallback"])
    old.set_meta({"schema_version": "1"})
    Store.close_all()
    index = open_index(root)
    assert index.status()["parse_fallbacks"] == [] and index.status()["files"] == 2
    assert [p for p, _ in index.definitions("Double")] == ["util.go"]
    report = sync(root, lexical())  # files unchanged on disk, yet parsed with this version
    assert report.reparsed_all and report.indexed == 2 and report.unchanged == 0
    store = Store(uri)
    assert "fallback" in store.table(FILES).schema.names
    assert store.meta()["schema_version"] == SCHEMA_VERSION
    assert not sync(root, lexical()).reparsed_all  # once


def test_the_language_server_logs_each_fallback_once(
    workspace: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
    without_go_grammar: None,
) -> None:
    from server.lsp.indexing import FolderIndexer
    from server.settings import Settings

    root = workspace({"util.go": GO, "a.py": PY})
    settings = Settings()
    settings.index.embedder = "none"
    folder = FolderIndexer(root, settings, lambda _progress: None)
    caplog.set_level(logging.WARNING, logger="tandem.lsp.indexing")
    folder.start()
    try:
        assert folder.wait_idle(60)
        (root / "util.go").write_text(GO + "\n// saved again\n")
        folder.submit_paths(["util.go"])
        assert folder.wait_idle(60)
    finally:
        folder.stop()
    warnings = [r.getMessage() for r in caplog.records if "parsing failed" in r.getMessage()]
    assert warnings == [
        "util.go: parsing failed, indexed as line windows (the go grammar is not installed)"
    ]
