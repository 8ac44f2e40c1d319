"""The LanceDB store: safe quoting, path deletes, upserts, the vector cache, bounded growth."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from lancedb.index import IvfPq

from indexer import store as store_mod
from indexer.store import CHUNKS, FILES, SYMBOLS, FileRow, Store, dir_bytes


def chunk_row(path: str, i: int, text: str = "x") -> dict[str, object]:
    return {
        "id": f"{path}#{i}",
        "path": path,
        "start_line": i,
        "end_line": i,
        "language": "python",
        "kind": "definition",
        "symbols": [f"f{i}"],
        "symbol": f"f{i}",
        "text": text,
        "content_hash": f"h-{text}",
    }


def test_delete_by_path_quotes_safely(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    odd = ["it's.py", "a'); DROP TABLE chunks; --.py", 'q"uote.py', "ünï cødé.py", "ok.py"]
    store.add(CHUNKS, [chunk_row(p, i) for i, p in enumerate(odd)])
    store.delete_paths([CHUNKS], odd[:4])
    assert store.paths_in(CHUNKS) == {"ok.py"}


def test_delete_paths_in_batches(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    paths = [f"f{i}.py" for i in range(1000)]
    store.add(CHUNKS, [chunk_row(p, 1) for p in paths])
    store.delete_paths([CHUNKS, SYMBOLS], paths[:950])
    assert store.paths_in(CHUNKS) == set(paths[950:])


def test_upsert_files_replaces_rows(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    store.upsert_files([FileRow("a.py", 1, 10, "h1", "python", 2)])
    store.upsert_files(
        [FileRow("a.py", 2, 11, "h2", "python", 3), FileRow("b.py", 1, 1, "h", "", 0)]
    )
    files = store.files()
    assert files["a.py"] == FileRow("a.py", 2, 11, "h2", "python", 3)
    assert len(files) == 2


def test_local_index_folder_is_git_ignored(tmp_path: Path) -> None:
    Store(str(tmp_path / ".tandem"))
    assert (tmp_path / ".tandem" / ".gitignore").read_text() == "*\n"


def test_full_text_search_sees_rows_added_after_the_index(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    store.add(CHUNKS, [chunk_row("a.py", 1, "def tokenize_input(): pass")])
    store.optimize()
    store.add(CHUNKS, [chunk_row("b.py", 1, "class InputReader: tokenize everything")])
    table = store.table(CHUNKS)
    assert table is not None
    hits = {r["path"] for r in table.search("tokenize", query_type="fts").limit(5).to_list()}
    assert hits == {"a.py", "b.py"}
    store.delete_paths([CHUNKS], ["a.py"])
    hits = {r["path"] for r in table.search("tokenize", query_type="fts").limit(5).to_list()}
    assert hits == {"b.py"}


def test_vector_cache_round_trip_and_bounded_gc(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    vecs = np.eye(4, dtype=np.float32)
    store.add_vectors("m_4", ["a", "b", "c", "d"], vecs)
    hashes, read = store.read_vectors("m_4")
    assert dict(zip(hashes, map(tuple, read), strict=True))["c"] == (0.0, 0.0, 1.0, 0.0)
    dropped = store.gc_vectors("m_4", referenced={"a", "b"}, keep_unreferenced=1)
    assert dropped == 1
    assert store.vector_hashes("m_4") in ({"a", "b", "c"}, {"a", "b", "d"})


def test_meta_write_is_skipped_when_unchanged(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    store.set_meta({"embedder": "none"})
    before = store.versions()["meta"]
    store.set_meta({"embedder": "none"})
    assert store.versions()["meta"] == before


def test_optimize_keeps_the_folder_bounded_under_repeated_edits(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "db"))
    store.ensure_tables()
    text = "def f():\n    return 1\n" * 200
    sizes = []
    for round_ in range(30):
        store.delete_paths([CHUNKS, FILES], ["a.py"])
        store.add(CHUNKS, [chunk_row("a.py", i, f"{text}{round_}") for i in range(5)])
        store.upsert_files([FileRow("a.py", round_, 1, str(round_), "python", 5)])
        store.optimize(cleanup_after=timedelta(0))
        sizes.append(dir_bytes(tmp_path / "db"))
    assert sizes[-1] < 2 * sizes[5], sizes


def _unit_vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.RandomState(seed).randn(n, dim).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_ann_index_is_dot_and_an_older_cosine_one_keeps_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ANN index is built with the dot metric on the (normalised) vectors; a query
    asks the index's own metric, so an index built with cosine by an older version is
    still used; both find the nearest vector, at distance 1 - a.b (the score search gives)."""
    monkeypatch.setattr(store_mod, "VECTOR_INDEX_MIN_ROWS", 256)
    vecs = _unit_vectors(512, 16)
    query = vecs[7] * 0.9 + vecs[8] * 0.1
    query /= np.linalg.norm(query)
    hashes = [f"h{i}" for i in range(len(vecs))]
    for name, metric in (("new", None), ("old", "cosine")):
        store = Store(str(tmp_path / name))
        store.add_vectors("m_16", hashes, vecs)
        assert store.vector_metric("m_16") == "dot"  # no index yet: what one would use
        table = store.table("vectors_m_16")
        if metric is None:
            store.ensure_vector_index("m_16")
        else:  # what ensure_vector_index built before
            table.create_index("vector", config=IvfPq(distance_type=metric, num_partitions=2))
        assert store.vector_metric("m_16") == (metric or "dot")
        plan = table.search(query.tolist()).distance_type(store.vector_metric("m_16"))
        assert "ANNSubIndex" in plan.explain_plan(True)  # the index answers, not a scan
        # PQ codes are approximate and their k-means is seeded at random: the exact
        # re-rank of the best 64 codes (of 512 rows) makes the nearest one certain.
        top = plan.limit(1).refine_factor(64).to_list()[0]
        assert top["content_hash"] == "h7"
        assert abs((1.0 - top["_distance"]) - float(vecs[7] @ query)) < 1e-4


def test_read_vectors_is_a_view_not_a_copy(tmp_path: Path) -> None:
    """The reader keeps one copy of the vectors, read-only (a view callers share)."""
    store = Store(str(tmp_path / "db"))
    vecs = _unit_vectors(64, 8)
    store.add_vectors("m_8", [f"h{i}" for i in range(64)], vecs)
    hashes, read = store.read_vectors("m_8")
    assert hashes == [f"h{i}" for i in range(64)]
    assert np.array_equal(read, vecs)
    assert not read.flags.owndata and not read.flags.writeable


def test_a_read_leaves_no_garbage_holding_its_tables(tmp_path: Path) -> None:
    """A full read's tables are freed when the caller drops them, not at the next cyclic
    GC: no frame of the store's (which holds what it read) is kept in a reference cycle."""
    import gc

    store = Store(str(tmp_path / "db"))
    store.add_vectors("m_8", [f"h{i}" for i in range(64)], _unit_vectors(64, 8))
    store.ensure_tables()
    store.add(CHUNKS, [chunk_row("a.py", i, f"t{i}") for i in range(8)])
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        store.read_vectors("m_8")
        store.read(CHUNKS, ["path", "text"])
        gc.collect()
        frames = [
            o.f_code.co_filename
            for o in gc.garbage
            if type(o).__name__ == "frame" and o.f_code.co_filename == store_mod.__file__
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert frames == []
