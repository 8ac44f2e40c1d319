"""Base index + local delta with the base in a local folder (the object-store path is
tested against a real S3 server in tests/team): the delta holds only what differs, and the
Index is base ∪ delta with the delta winning, deletions and forgotten paths hidden."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from indexer import delta
from indexer.search import open_index
from indexer.store import Store
from indexer.sync import forget, sync, sync_paths
from server.context import build_context
from server.settings import IndexSettings

FILES = {
    "pkg/units.py": "SCALE = 3\n\n\ndef scaled(x):\n    return x * SCALE\n",
    "pkg/old.py": "def legacy_marker():\n    return 1\n",
    "pkg/keep.py": "def kept_function():\n    return 2\n",
    "secret_notes/plan.py": "def plan_marker():\n    return 3\n",
}


def _names(index, name: str) -> list[str]:
    return [p for p, _ in index.definitions(name)]


def test_the_delta_holds_only_what_differs_and_wins(tmp_path: Path) -> None:
    main = tmp_path / "main"
    for rel, text in FILES.items():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        (main / rel).write_text(text)
    base_db = str(tmp_path / "base-index")
    sync(main, IndexSettings(db=base_db, embedder="none"))

    dev = tmp_path / "dev"
    shutil.copytree(main, dev)
    (dev / "pkg/units.py").write_text(FILES["pkg/units.py"] + "\n\ndef added_here():\n    pass\n")
    (dev / "pkg/old.py").unlink()
    settings = IndexSettings(base=base_db, embedder="minilm")  # the base's (none) wins
    report = sync(dev, settings)
    assert (report.indexed, report.base_unchanged, report.base_deleted) == (1, 2, 1)
    assert report.embedder == "none"
    assert set(Store.open(str(dev / ".tandem")).files()) == {"pkg/units.py"}

    index = open_index(dev, settings=settings)
    assert _names(index, "added_here") == ["pkg/units.py"]
    assert _names(index, "kept_function") == ["pkg/keep.py"]  # from the base
    assert _names(index, "legacy_marker") == []  # deleted locally
    assert "pkg/old.py" not in [h.path for h in index.search("legacy_marker", k=5, mode="text")]
    assert index.known_paths() == {"pkg/units.py", "pkg/keep.py", "secret_notes/plan.py"}
    text = "from pkg.units import scaled\n\n\ndef go(v):\n    return scaled(v)\n"
    snippets = build_context(index, "user.py", text, 4, 17).snippets
    assert [s.path for s in snippets] == ["pkg/units.py"]
    assert "added_here" in snippets[0].text or "SCALE" in snippets[0].text

    # Reverting the edit: the file is the base's again; the delta shrinks to nothing.
    (dev / "pkg/units.py").write_text(FILES["pkg/units.py"])
    sync_paths(dev, settings, ["pkg/units.py"])
    index.refresh()
    assert index.status()["delta_files"] == 0
    assert _names(index, "added_here") == [] and _names(index, "SCALE") == ["pkg/units.py"]

    # Deleting a folder hides every base file in it (one event for the folder).
    shutil.rmtree(dev / "pkg")
    sync_paths(dev, settings, ["pkg"])
    index.refresh()
    assert _names(index, "kept_function") == [] and _names(index, "SCALE") == []
    assert index.status()["delta_deleted"] == 3

    # Forgetting a folder hides the base's rows too.
    forget(dev, ["secret_notes"], settings)
    index.refresh()
    assert _names(index, "plan_marker") == []
    assert index.status()["delta_deleted"] == 4


def test_the_delta_embeds_only_chunks_the_base_has_no_vector_for(tmp_path: Path) -> None:
    main = tmp_path / "main"
    for rel, text in {**FILES, "pkg/units.py": BIG_UNITS}.items():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        (main / rel).write_text(text)
    base_db = str(tmp_path / "base-index")
    built = sync(main, IndexSettings(db=base_db, embedder="minilm"))
    assert built.embedded > 0 and built.pending == 0

    dev = tmp_path / "dev"
    shutil.copytree(main, dev)
    added = "\n\ndef convert_fahrenheit_to_celsius(f):\n    return (f - 32) * 5 / 9\n"
    (dev / "pkg/units.py").write_text(BIG_UNITS + added)
    settings = IndexSettings(base=base_db, embedder="none")  # the base's (minilm) wins
    report = sync(dev, settings)
    new_chunks = {c.content_hash for c in open_index(dev, settings=settings).chunks("pkg/units.py")}
    base_vectors = Store.open(base_db).vector_hashes(report_slug(base_db))
    assert report.embedded == len(new_chunks - base_vectors) >= 1
    assert report.embedded < len(new_chunks)  # the unchanged chunks reuse the base's
    assert report.pending == 0

    index = open_index(dev, settings=settings)
    assert index.has_vectors()
    hits = index.search("temperature conversion", k=1, mode="vector")
    assert hits[0].path == "pkg/units.py" and "fahrenheit" in hits[0].text


BIG_UNITS = "\n\n".join(
    f"def unit_{i}(x):\n"
    + "".join(f"    x = x * {j} + {i}  # step {j}\n" for j in range(30))
    + "    return x\n"
    for i in range(3)
)


def report_slug(db: str) -> str:
    return Store.open(db).meta()["embedder_slug"]


def _git(root: Path, *args: str) -> None:
    ident = ["-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run(["git", "-C", str(root), *ident, *args], check=True, capture_output=True)


def test_git_says_which_files_differ_from_the_base_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = tmp_path / "main"
    for rel, text in FILES.items():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        (main / rel).write_text(text)
    _git(main, "init", "-q")
    _git(main, "add", "-A")
    _git(main, "commit", "-qm", "main")
    base_db = str(tmp_path / "base-index")
    sync(main, IndexSettings(db=base_db, embedder="none"))

    dev = tmp_path / "dev"
    shutil.copytree(main, dev)
    (dev / "pkg/units.py").write_text(FILES["pkg/units.py"] + "\n\ndef added_here():\n    pass\n")
    (dev / "pkg/old.py").unlink()
    (dev / "pkg/new.py").write_text("def brand_new():\n    return 4\n")  # untracked
    read: list[str] = []
    real = delta.read_source

    def reading(path: Path, max_bytes: int, rel: str | None = None) -> object:
        read.append(str(rel))
        return real(path, max_bytes, rel=rel)

    monkeypatch.setattr(delta, "read_source", reading)
    settings = IndexSettings(base=base_db, embedder="none")
    report = sync(dev, settings)
    assert (report.indexed, report.base_unchanged, report.base_deleted) == (2, 2, 1)
    assert read == ["pkg/units.py"]  # git vouched for the rest: nothing else was read
    index = open_index(dev, settings=settings)
    assert _names(index, "added_here") == ["pkg/units.py"]
    assert _names(index, "brand_new") == ["pkg/new.py"]
    assert _names(index, "kept_function") == ["pkg/keep.py"]
    assert _names(index, "legacy_marker") == []

    # Committing locally moves HEAD, not the base: the delta is still against its commit.
    _git(dev, "add", "-A")
    _git(dev, "commit", "-qm", "local work")
    read.clear()
    again = sync(dev, settings)
    assert (again.indexed, again.base_unchanged, again.base_deleted) == (0, 2, 1)
    assert read == []  # the delta's own rows still match their stat
