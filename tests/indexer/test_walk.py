"""The walk honours ignore rules and skips what must not be indexed, with a reason and no
crash (all on a real file system)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from index_helpers import write

from indexer.types import Skipped
from indexer.walk import read_source, walk
from server.settings import IndexSettings


def run_walk(root: Path, **settings: object) -> tuple[set[str], dict[str, str]]:
    entries: set[str] = set()
    skipped: dict[str, str] = {}
    for item in walk(root, IndexSettings(**settings)):  # type: ignore[arg-type]
        if isinstance(item, Skipped):
            skipped[item.path] = item.reason
        else:
            entries.add(item.path)
    return entries, skipped


def test_gitignore_nested_and_negation(workspace: Callable[..., Path]) -> None:
    root = workspace(
        {
            ".gitignore": "*.log\n!keep.log\nsecret_dir/\n/rootonly.txt\n",
            "a.log": "x",
            "keep.log": "kept",
            "rootonly.txt": "x",
            "sub/rootonly.txt": "anchored pattern does not apply here",
            "secret_dir/x.py": "x = 1",
            "sub/.gitignore": "!b.log\n*.py\n!wanted.py\n",
            "sub/b.log": "re-included by the nested file",
            "sub/c.log": "still ignored by the root file",
            "sub/drop.py": "x = 1",
            "sub/wanted.py": "x = 2",
            "sub/deeper/drop.py": "x = 3",
        }
    )
    entries, skipped = run_walk(root)
    assert entries == {
        ".gitignore",
        "keep.log",
        "sub/.gitignore",
        "sub/rootonly.txt",
        "sub/b.log",
        "sub/wanted.py",
    }
    assert skipped["a.log"] == "ignored (.gitignore)"
    assert skipped["sub/c.log"] == "ignored (.gitignore)"
    assert skipped["sub/drop.py"] == "ignored (sub/.gitignore)"
    assert skipped["sub/deeper/drop.py"] == "ignored (sub/.gitignore)"
    assert skipped["secret_dir/"] == "ignored (.gitignore)"
    assert "secret_dir/x.py" not in skipped  # pruned folders are reported once


def test_tandemignore_and_settings_exclude(workspace: Callable[..., Path]) -> None:
    root = workspace(
        {
            ".tandemignore": "docs/\n",
            "docs/a.md": "x",
            "src/a.py": "x = 1",
            "src/gen/b.py": "x = 1",
            "src/c.py": "x = 1",
        }
    )
    entries, skipped = run_walk(root, exclude=["src/gen/", "c.py"])
    assert entries == {"src/a.py"}  # .tandemignore is config, not indexed
    assert skipped["docs/"] == "ignored (.tandemignore)"
    assert skipped["src/gen/"] == "ignored (settings.exclude)"
    assert skipped["src/c.py"] == "ignored (settings.exclude)"


def test_an_unreadable_gitignore_pattern_is_passed_over_like_git_does(
    workspace: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    # psf/black's test data has a .gitignore holding a bare "!": git ignores that line,
    # and the walk must not fail on it (it used to raise GitIgnorePatternError).
    root = workspace(
        {
            "data/.gitignore": "!\n*.out\n",
            "data/keep.py": "x = 1",
            "data/run.out": "x",
            "src/a.py": "x = 1",
        }
    )
    entries, skipped = run_walk(root, exclude=["!", "src/gen/"])
    assert entries == {"data/.gitignore", "data/keep.py", "src/a.py"}
    assert skipped["data/run.out"] == "ignored (data/.gitignore)"
    assert any("data/.gitignore:1: pattern ignored" in r.getMessage() for r in caplog.records)
    assert any("index.exclude:1: pattern ignored" in r.getMessage() for r in caplog.records)


def test_defaults_skip_dependencies_builds_locks_and_minified(
    workspace: Callable[..., Path],
) -> None:
    root = workspace(
        {
            "node_modules/lib/index.js": "x",
            "myenv/pyvenv.cfg": "home = /usr",
            "myenv/lib/site.py": "x",
            "__pycache__/a.cpython-311.pyc": b"\x00",
            "dist/bundle.js": "x",
            "build/out.py": "x",
            "package-lock.json": "{}",
            "poetry.lock": "x",
            "Cargo.lock": "x",
            "static/app.min.js": "x",
            ".git/config": "x",
            "src/build/keep.py": "x = 1  # only the root build/ is output",
            "src/main.py": "x = 1",
        }
    )
    entries, skipped = run_walk(root)
    assert entries == {"src/build/keep.py", "src/main.py"}
    assert skipped["node_modules/"] == "ignored (default)"
    assert skipped["myenv/"] == "ignored (virtualenv)"
    assert skipped["dist/"] == "ignored (default)"
    assert skipped["package-lock.json"] == "lock file"
    assert skipped["Cargo.lock"] == "lock file"
    assert skipped["static/app.min.js"] == "minified"
    assert not any(p.startswith(".git") for p in skipped)


def test_user_negation_can_re_include_a_default(workspace: Callable[..., Path]) -> None:
    root = workspace({".gitignore": "!vendor/\n", "vendor/lib.go": "package lib\n"})
    entries, _ = run_walk(root)
    assert "vendor/lib.go" in entries


def test_binary_huge_and_secret_files_are_skipped_by_name_and_size(
    workspace: Callable[..., Path],
) -> None:
    root = workspace(
        {
            "logo.png": b"\x89PNG\r\n",
            "big.py": "x = 1\n" * 400,
            ".env": "TOKEN=abc",
            "certs/tls.pem": "x",
            "ok.py": "x = 1\n",
        }
    )
    entries, skipped = run_walk(root, max_file_kb=1)
    assert entries == {"ok.py"}
    assert skipped["logo.png"] == "binary"
    assert skipped["big.py"].startswith("too large")
    assert skipped[".env"] == "secret file"
    assert skipped["certs/tls.pem"] == "secret file"


def test_read_source_rejects_binary_invalid_utf8_generated_and_minified(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "nul.txt": b"abc\x00def",
            "latin1.py": "caf\xe9 = 1\n".encode("latin-1"),
            "gen.go": "// Code generated by protoc. DO NOT EDIT.\npackage x\n",
            "bundle.js": "var a=1;" * 2000,
            "bom.py": "\ufeffx = 1\r\ny = 2\r\n",
        },
    )
    assert read_source(tmp_path / "nul.txt", 10_000, "nul.txt") == Skipped("nul.txt", "binary")
    assert read_source(tmp_path / "latin1.py", 10_000) == Skipped(
        str(tmp_path / "latin1.py"), "invalid UTF-8"
    )
    assert read_source(tmp_path / "gen.go", 10_000, "gen.go") == Skipped("gen.go", "generated")
    minified = read_source(tmp_path / "bundle.js", 100_000, "bundle.js")
    assert isinstance(minified, Skipped) and minified.reason.startswith("minified")
    assert read_source(tmp_path / "bom.py", 10_000) == "x = 1\ny = 2\n"
    big = read_source(tmp_path / "bundle.js", 1000, "bundle.js")
    assert isinstance(big, Skipped) and big.reason.startswith("too large")


def test_unreadable_paths_are_skipped_not_raised(tmp_path: Path) -> None:
    # Tests run as root, so permissions cannot make a file unreadable; these are real
    # paths that cannot be read as files: a directory, a FIFO, a vanished file.
    (tmp_path / "dir.py").mkdir()
    os.mkfifo(tmp_path / "pipe.py")
    r1 = read_source(tmp_path / "dir.py", 1000, "dir.py")
    r2 = read_source(tmp_path / "pipe.py", 1000, "pipe.py")  # must not block on open
    r3 = read_source(tmp_path / "gone.py", 1000, "gone.py")
    assert r1 == Skipped("dir.py", "not a regular file")
    assert r2 == Skipped("pipe.py", "not a regular file")
    assert isinstance(r3, Skipped) and r3.reason.startswith("unreadable")


def test_symlink_loops_outside_links_fifos_and_dangling_links(
    workspace: Callable[..., Path], tmp_path: Path
) -> None:
    root = workspace({"a/real.py": "x = 1\n"})
    outside = tmp_path / "outside"
    write(outside, {"leak.py": "SECRET = 1\n"})
    os.symlink(root / "a", root / "a" / "loop")  # a folder that contains itself
    os.symlink(root, root / "a" / "up")
    os.symlink(outside, root / "out")
    os.symlink(outside / "leak.py", root / "leak.py")
    os.symlink(root / "missing.py", root / "dangling.py")
    os.mkfifo(root / "fifo")
    entries, skipped = run_walk(root)
    assert entries == {"a/real.py"}
    for link in ("a/loop", "a/up", "out", "leak.py", "dangling.py"):
        assert skipped[link] == "symlink (not followed)"
    assert skipped["fifo"] == "not a regular file"


def test_deeply_nested_tree_does_not_crash(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    # build 150 levels with relative paths (the absolute path would exceed PATH_MAX calls)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(150):
            os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        with open(os.open("leaf.py", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as f:
            f.write("x = 1\n")
    finally:
        os.close(fd)
    write(root, {"d/shallow.py": "y = 2\n"})
    entries, skipped = run_walk(root)
    assert entries == {"d/shallow.py"}
    assert any(r.startswith("too deeply nested") for r in skipped.values())


def test_the_combined_prefilter_gives_every_verdict_the_spec_gives() -> None:
    """The walk asks one combined regex first and the spec only when it matches: the
    verdicts (ignored, re-included, neither) are the spec's own, for every kind of pattern."""
    from pathspec import GitIgnoreSpec

    from indexer.walk import DEFAULT_IGNORES, _Spec

    lines = [*DEFAULT_IGNORES, "!keep.pyc", "foo/**/bar", "*.log", "/x/y/", "doc?/", "[ab]c"]
    lines += ["!dist/keep/", "logs/**", "\\#hash", "a/*/b.txt", "", "# comment"]
    spec = GitIgnoreSpec.from_lines(lines)
    fast = _Spec(spec)
    paths = ["a/node_modules/x.js", "node_modules/", "src/build/x", "build/x", "build/"]
    paths += ["keep.pyc", "x.pyc", "a/b/c.py", "foo/a/b/bar", "foo/bar", "x/y/", "x/y/z"]
    paths += ["docs/", "doc1/", "ac", "q/bc", "dist/", "dist/keep/", "a/dist/", "x.map"]
    paths += [".DS_Store", "a/.DS_Store", "logs/a/b", "#hash", "a/q/b.txt", "a/q/r/b.txt"]
    for path in paths:
        assert fast.include(path) == spec.check_file(path).include, path
    assert _Spec(GitIgnoreSpec.from_lines([])).include("anything") is None
