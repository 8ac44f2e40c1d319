"""Incremental sync on real files and a real LanceDB: what changes is recomputed, what
disappears is deleted, secrets never land in a table, readers see a consistent index."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from index_helpers import canonical, lexical, write

from indexer.search import open_index
from indexer.store import CHUNKS, FILES, Store
from indexer.sync import forget, sync, sync_paths
from server.settings import IndexSettings

AWS = "AKIA" + "Z7QW3ERTY5UIOPAS"
GH = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
PEM = "\n".join(
    ["-----BEGIN OPENSSH PRIVATE KEY-----"]
    + [
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW" + str(i)
        for i in range(5)
    ]
    + ["-----END OPENSSH PRIVATE KEY-----"]
)


def all_text(root: Path) -> str:
    store = Store(str(root / ".tandem"))
    parts = [
        str(r)
        for name in (FILES, CHUNKS, "symbols", "imports")
        for r in store.read(name).to_pylist()
    ]
    return "\n".join(parts)


def test_index_then_lookups_and_search(workspace: Callable[..., Path]) -> None:
    root = workspace()
    report = sync(root, lexical())
    assert report.indexed == 5 and report.total_files == 5 and report.total_chunks > 0
    assert report.pending == 0  # lexical only: nothing is waiting for a vector
    index = open_index(root)
    [(path, d)] = index.definitions("helper")
    assert path == "pkg/util.py" and d.kind == "function" and d.start_line == 4
    assert [p for p, _ in index.definitions("Parser.parse")] == ["pkg/util.py"]
    assert {i.local_name for i in index.imports("pkg/app.py")} == {"Parser", "helper"}
    assert index.known_paths() == {
        "pkg/__init__.py",
        "pkg/util.py",
        "pkg/app.py",
        "web/index.js",
        "README.md",
    }
    assert [c.start_line for c in index.chunks("pkg/util.py")] == sorted(
        c.start_line for c in index.chunks("pkg/util.py")
    )
    text_hits = index.search("double a number", k=3, mode="text")
    assert text_hits[0].path == "pkg/util.py" and text_hits[0].symbol == "helper"
    symbol_hits = index.search("greet", k=3, mode="symbol")
    assert (symbol_hits[0].path, symbol_hits[0].start_line) == ("web/index.js", 1)
    hybrid = index.search("Parser parse text", k=3)
    assert hybrid[0].path == "pkg/util.py"
    status = index.status()
    assert (
        status["files"] == 5 and status["embedder"] == "none" and status["embedded_fraction"] == 0
    )


def test_a_name_defined_once_outranks_one_defined_everywhere(
    workspace: Callable[..., Path],
) -> None:
    # Prose queries share words with common names (every conftest has a `workspace`
    # fixture): the one definition of `walk` must still come first.
    files = {f"tests/t{i}/conftest.py": "def workspace():\n    return 1\n" for i in range(4)}
    files["src/walk.py"] = "def walk(root):\n    return sorted(root.iterdir())\n"
    root = workspace(files)
    sync(root, lexical())
    index = open_index(root)
    symbol = index.search("walk the workspace", k=5, mode="symbol")
    assert [h.symbol for h in symbol] == ["walk"] + ["workspace"] * 4
    assert symbol[0].score == 1.0 and symbol[1].score == 0.25
    assert index.search("walk the workspace", k=5)[0].path == "src/walk.py"


def test_planted_secrets_never_reach_the_tables(workspace: Callable[..., Path]) -> None:
    root = workspace(
        {
            ".env": f"AWS_ACCESS_KEY_ID={AWS}\n",
            ".env.local": "DB_PASSWORD=correcthorse\n",
            "deploy/id_rsa": PEM + "\n",
            "deploy/server.pem": PEM + "\n",
            "src/config.py": (
                f'AWS_KEY = "{AWS}"\n'
                f"GITHUB = '{GH}'\n"
                f'KEY = """\n{PEM}\n"""\n\n\n'
                "def connect() -> str:\n"
                "    return 'postgres://app:pa55w0rd-x@db/app'\n"
            ),
        }
    )
    report = sync(root, lexical())
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped[".env"] == skipped[".env.local"] == skipped["deploy/id_rsa"] == "secret file"
    dump = all_text(root)
    for secret in (AWS, GH, "b3BlbnNzaC1rZXkt", "correcthorse", "pa55w0rd-x"):
        assert secret not in dump
    index = open_index(root)
    assert index.known_paths() == {"src/config.py"}
    [(_, connect)] = index.definitions("connect")
    assert connect.start_line == 14  # redaction kept every line
    assert index.search(AWS, mode="text") == []


def test_edit_touch_delete_and_noop(workspace: Callable[..., Path]) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    (root / "pkg/app.py").write_text("def main2() -> int:\n    return 2\n")
    r = sync(root, settings)
    assert (r.indexed, r.unchanged, r.deleted) == (1, 4, 0)
    st = (root / "README.md").stat()
    os.utime(root / "README.md", ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    r = sync(root, settings)
    assert (r.indexed, r.restamped) == (0, 1)
    (root / "web/index.js").unlink()
    r = sync(root, settings)
    assert (r.indexed, r.deleted) == (0, 1)
    index = open_index(root)
    assert "web/index.js" not in index.known_paths() and index.definitions("greet") == []
    assert [p for p, _ in index.definitions("main2")] == ["pkg/app.py"]
    assert index.definitions("main") == []
    start = time.monotonic()
    r = sync(root, settings)
    assert (r.indexed, r.restamped, r.deleted) == (0, 0, 0)
    assert time.monotonic() - start < 1.0


def test_file_becoming_ignored_or_binary_leaves_the_index(workspace: Callable[..., Path]) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    (root / ".gitignore").write_text("web/\n")
    (root / "README.md").write_bytes(b"now \x00 binary")
    r = sync(root, settings)
    assert r.deleted == 2
    assert open_index(root).known_paths() == {
        "pkg/__init__.py",
        "pkg/util.py",
        "pkg/app.py",
        ".gitignore",
    }


def test_sync_paths_create_change_rename_delete(
    workspace: Callable[..., Path], tmp_path: Path
) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    index = open_index(root)
    write(root, {"pkg/new.py": "def fresh() -> None:\n    pass\n"})
    sync_paths(root, settings, [root / "pkg/new.py"])
    assert index.refresh()
    assert [p for p, _ in index.definitions("fresh")] == ["pkg/new.py"]
    os.rename(root / "pkg", root / "lib")  # a folder rename: both names in one batch
    r = sync_paths(root, settings, ["pkg", "lib"])
    assert r.deleted == 4 and r.indexed == 4
    index.refresh()
    assert [p for p, _ in index.definitions("helper")] == ["lib/util.py"]
    os.remove(root / "lib/new.py")
    sync_paths(root, settings, [str(root / "lib/new.py"), "/elsewhere/outside.py"])
    index.refresh()
    assert index.definitions("fresh") == []
    fresh_db = tmp_path / "fresh-db"
    sync(root, lexical(fresh_db))
    assert canonical(root / ".tandem") == canonical(fresh_db)


def test_sync_paths_respects_ignore_rules_and_reloads_them(workspace: Callable[..., Path]) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    write(root, {"node_modules/dep/index.js": "function dep() {}\n"})
    r = sync_paths(root, settings, ["node_modules/dep/index.js"])
    assert r.indexed == 0 and r.skipped[0].reason == "ignored (default)"
    (root / ".gitignore").write_text("*.md\n")
    sync_paths(root, settings, [".gitignore"])
    assert "README.md" not in open_index(root).known_paths()


def test_forget_removes_at_once_and_keeps_out(workspace: Callable[..., Path]) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    index = open_index(root)
    removed = forget(root, ["pkg", "README.md"], settings)
    assert removed == ["README.md", "pkg/__init__.py", "pkg/app.py", "pkg/util.py"]
    index.refresh()
    assert index.known_paths() == {"web/index.js"}
    assert index.search("helper", mode="text") == []
    assert (root / ".tandemignore").read_text().splitlines() == ["/pkg/", "/README.md"]
    r = sync(root, settings)
    assert r.indexed == 0 and open_index(root).known_paths() == {"web/index.js"}
    with pytest.raises(ValueError, match="not inside the workspace"):
        forget(root, ["/etc/passwd"], settings)


def test_orphan_rows_without_a_files_row_are_cleaned(
    workspace: Callable[..., Path], tmp_path: Path
) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    store = Store.open(str(root / ".tandem"))
    store.delete_paths([FILES], ["pkg/util.py"])  # as if killed mid-write
    ghost = store.read(CHUNKS).to_pylist()[0] | {"path": "ghost.py", "id": "ghost"}
    store.add(CHUNKS, [ghost])
    sync(root, settings)
    sync(root, lexical(tmp_path / "fresh"))
    assert canonical(root / ".tandem") == canonical(tmp_path / "fresh")


def test_readers_and_one_writer_at_once(workspace: Callable[..., Path]) -> None:
    root = workspace()
    settings = lexical()
    sync(root, settings)
    index = open_index(root)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                index.refresh()
                index.search("helper parse", k=5)
                assert index.definitions("helper")
                index.chunks("pkg/util.py")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for i in range(8):
            write(root, {"pkg/app.py": f"def main{i}() -> int:\n    return {i}\n"})
            sync_paths(root, settings, ["pkg/app.py"])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors
    index.refresh()
    assert [p for p, _ in index.definitions("main7")] == ["pkg/app.py"]


@pytest.mark.slow
def test_minilm_embeddings_cached_by_content_across_rename(
    workspace: Callable[..., Path],
) -> None:
    root = workspace()
    settings = IndexSettings(embedder="minilm")
    first = sync(root, settings, embed=False)  # lexical first: searchable, no vectors yet
    index = open_index(root)
    assert first.pending == first.total_chunks and index.status()["embedded_fraction"] == 0
    assert index.search("double", mode="text")
    second = sync(root, settings)
    assert second.embedded == second.total_chunks and second.pending == 0
    index.refresh()
    assert index.status()["embedded_fraction"] == 1.0
    hits = index.search("greeting a person by name", k=2, mode="vector")
    assert hits[0].path == "web/index.js"
    os.rename(root / "web", root / "frontend")
    third = sync(root, settings)
    assert third.indexed == 1 and third.embedded == 0 and third.cached == third.chunks > 0
    index.refresh()
    assert index.search("greeting a person by name", k=1)[0].path == "frontend/index.js"
