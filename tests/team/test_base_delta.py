"""A developer's checkout over CI's base index: only the files that differ are indexed
locally, and search sees base ∪ delta with the delta winning, deletions included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from s3_support import Relay, S3Server, head, tandem

NEW_DEF = "\n\ndef furlongs_to_metres(furlongs: float) -> float:\n    return furlongs * 201.168\n"


def _search(root: Path, query: str, env: dict[str, str]) -> list[dict[str, object]]:
    proc = tandem(["search", query, "--root", str(root), "--mode", "symbol", "--json"], env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_local_delta_over_a_shared_base(
    s3: S3Server, bucket: str, repo: Path, tmp_path: Path
) -> None:
    env = s3.env()
    base = f"s3://{bucket}/main"
    built = tandem(["index", str(repo), "--db", base, "--embedder", "none"], env)
    assert built.returncode == 0, built.stderr

    # A developer's clone: one file edited, one deleted, one added, the rest as on main.
    dev = tmp_path / "dev"
    shutil.copytree(repo, dev)
    units = dev / "geometry" / "units.py"
    original = units.read_text()
    units.write_text(original + NEW_DEF)
    (dev / "obsolete.py").unlink()
    (dev / "geometry" / "local_only.py").write_text("def draft_helper() -> int:\n    return 7\n")

    proc = tandem(["index", str(dev), "--base", base, "--json"], env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["base"] == base
    assert report["indexed"] == 2  # units.py and local_only.py: nothing else is re-indexed
    assert report["base_unchanged"] == 4 and report["base_deleted"] == 1
    assert report["embedder"] == "none"  # the delta adopts the base's embedder

    # Search (with no flag: the local index knows its base) sees base ∪ delta.
    assert [h["path"] for h in _search(dev, "furlongs_to_metres", env)] == ["geometry/units.py"]
    assert [h["path"] for h in _search(dev, "draft_helper", env)] == ["geometry/local_only.py"]
    assert [h["path"] for h in _search(dev, "Circle", env)] == ["geometry/shapes.py"]
    assert _search(dev, "legacy_checksum_marker", env) == []  # deleted locally: gone

    shown = tandem(["status", "--root", str(dev), "--json"], env)
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["base"] == base and status["base_commit"] == head(repo)[:12]
    assert status["base_age"] is not None
    assert (status["delta_files"], status["delta_deleted"]) == (2, 1)
    assert status["files"] == 6  # 6 on main, one deleted, one added
    assert s3.secret not in shown.stdout

    # Reverting the edit shrinks the delta: the file is the base's again.
    units.write_text(original)
    again = json.loads(tandem(["index", str(dev), "--base", base, "--json"], env).stdout)
    assert again["base_unchanged"] == 5
    status = json.loads(tandem(["status", "--root", str(dev), "--json"], env).stdout)
    assert status["delta_files"] == 1
    assert _search(dev, "furlongs_to_metres", env) == []


def test_text_search_over_a_base_is_answered_from_memory(
    s3: S3Server, bucket: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full-text search over base ∪ delta needs no object-store request per query (a base's
    full-text index read from S3 cost ten times a local one): it still answers, delta
    winning and deletions hidden, with the store gone after the index was opened."""
    from indexer.search import open_index
    from indexer.store import Store
    from server.settings import IndexSettings

    relay = Relay(s3.port)
    relay.start()
    env = s3.env(relay.endpoint)
    base = f"s3://{bucket}/main"
    try:
        built = tandem(["index", str(repo), "--db", base, "--embedder", "none"], env)
        assert built.returncode == 0, built.stderr
        dev = tmp_path / "dev"
        shutil.copytree(repo, dev)
        units = dev / "geometry" / "units.py"
        units.write_text(units.read_text() + NEW_DEF)
        (dev / "obsolete.py").unlink()
        synced = tandem(["index", str(dev), "--base", base], env)
        assert synced.returncode == 0, synced.stderr

        for key, value in env.items():
            if key.startswith("AWS_"):
                monkeypatch.setenv(key, value)
        Store.close_all()
        index = open_index(dev, settings=IndexSettings(base=base))
        relay.kill()  # from here on, any request to the store fails

        def paths(query: str) -> list[str]:
            return [h.path for h in index.search(query, k=3, mode="text")]

        assert paths("furlongs metres")[0] == "geometry/units.py"  # only in the delta
        assert "geometry/shapes.py" in paths("circle area")  # only in the base
        assert "obsolete.py" not in paths("legacy checksum marker")  # deleted locally
        assert [h.path for h in index.search("furlongs_to_metres", k=1)] == ["geometry/units.py"]
    finally:
        relay.kill()
        Store.close_all()


def test_a_few_paths_synced_after_a_newer_base_recompute_the_whole_delta(
    s3: S3Server, bucket: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save right after CI rebuilt the base: the delta is computed against the new base
    in full (a file CI changed and the developer did not pull joins it), not just for
    the saved path."""
    import subprocess

    from indexer.search import open_index
    from indexer.sync import sync_paths
    from server.settings import IndexSettings

    env = s3.env()
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    base = f"s3://{bucket}/main"
    assert tandem(["index", str(repo), "--db", base, "--embedder", "none"], env).returncode == 0
    dev = tmp_path / "dev"
    shutil.copytree(repo, dev)
    settings = IndexSettings(base=base, embedder="none")
    assert tandem(["index", str(dev), "--base", base], env).returncode == 0

    shapes = repo / "geometry" / "shapes.py"
    shapes.write_text(shapes.read_text() + "\n\nCI_ONLY_MARKER = 1\n")
    for args in (["add", "-A"], ["commit", "-qm", "CI edit"]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    assert tandem(["index", str(repo), "--db", base, "--embedder", "none"], env).returncode == 0

    units = dev / "geometry" / "units.py"
    units.write_text(units.read_text() + NEW_DEF)
    sync_paths(dev, settings, [units], embed=False)
    status = open_index(dev, settings=settings).status()
    assert status["base_commit"] == head(repo)[:12]
    # units.py (saved) and shapes.py (older than the new base's) are the delta
    assert status["delta_files"] == 2, status
