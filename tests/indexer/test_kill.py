"""``tandem index`` killed with SIGKILL at any point: the next run completes the index to
exactly what a fresh run gives. Kill points are exact (``TANDEM_KILL_AT`` makes the process
SIGKILL itself at a named step) and timed (killed from outside after a delay)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from index_helpers import TANDEM, canonical, cli_env, lexical, write

from indexer.sync import sync
from server.settings import IndexSettings


def tree_a(root: Path) -> None:
    write(
        root,
        {
            f"pkg/mod{i}.py": "".join(
                f"def f{i}_{j}(x):\n    return x * {j}\n\n\nclass C{i}_{j}:\n    pass\n\n\n"
                for j in range(3)
            )
            for i in range(10)
        },
    )
    write(root, {"notes.md": "# Notes\n\nhello\n", "web/app.js": "export const a = 1;\n"})


def to_tree_b(root: Path) -> None:
    """Edits, deletes, creates and a rename: every kind of write the sync does."""
    for i in (0, 3, 6):
        (root / f"pkg/mod{i}.py").write_text(f"def edited{i}():\n    return {i}\n")
    (root / "pkg/mod1.py").unlink()
    shutil.rmtree(root / "web")
    os.rename(root / "pkg/mod2.py", root / "pkg/renamed.py")
    write(root, {f"new/n{i}.py": f"def new{i}():\n    return {i}\n" for i in range(4)})


def run_index(root: Path, kill_at: str, embedder: str = "none", **env: str) -> int:
    proc = subprocess.run(
        [*TANDEM, "index", str(root), "--embedder", embedder, "--json"],
        env=cli_env(TANDEM_KILL_AT=kill_at, TANDEM_SYNC_BATCH="2", **env),
        capture_output=True,
        timeout=300,
    )
    return proc.returncode


POINTS = [
    "walked",
    "files-deleted",
    "batch-files-deleted:2",
    "chunks-added:3",
    "rows-added:2",
    "files-added:4",
    "lexical-done",
]


@pytest.mark.slow
def test_killed_at_each_step_then_rerun_equals_fresh(tmp_path: Path) -> None:
    for n, point in enumerate(POINTS):
        root = tmp_path / f"ws{n}"
        tree_a(root)
        sync(root, lexical())
        to_tree_b(root)
        assert run_index(root, point) == -signal.SIGKILL, point
        sync(root, lexical())
        sync(root, lexical(tmp_path / f"fresh{n}"))
        assert canonical(root / ".tandem") == canonical(tmp_path / f"fresh{n}"), point


@pytest.mark.slow
def test_first_index_killed_mid_write(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    tree_a(root)
    assert run_index(root, "rows-added:3") == -signal.SIGKILL
    sync(root, lexical())
    sync(root, lexical(tmp_path / "fresh"))
    assert canonical(root / ".tandem") == canonical(tmp_path / "fresh")


@pytest.mark.slow
def test_killed_while_embedding_keeps_committed_vectors(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    tree_a(root)
    assert run_index(root, "vectors-added:2", "minilm", TANDEM_EMBED_COMMIT="3") == -9
    settings = IndexSettings(embedder="minilm")
    report = sync(root, settings)
    assert report.indexed == 0  # the lexical part was complete
    assert 0 < report.embedded < report.total_chunks  # the first batches were kept
    sync(root, IndexSettings(db=str(tmp_path / "fresh"), embedder="minilm"))
    assert canonical(root / ".tandem") == canonical(tmp_path / "fresh")


@pytest.mark.slow
def test_killed_from_outside_at_timed_points(tmp_path: Path) -> None:
    for n, delay in enumerate((1.0, 2.0, 3.5)):
        root = tmp_path / f"ws{n}"
        tree_a(root)
        sync(root, lexical())
        to_tree_b(root)
        proc = subprocess.Popen(
            [*TANDEM, "index", str(root), "--embedder", "none"],
            env=cli_env(TANDEM_SYNC_BATCH="1"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        sync(root, lexical())
        sync(root, lexical(tmp_path / f"fresh{n}"))
        assert canonical(root / ".tandem") == canonical(tmp_path / f"fresh{n}"), delay
