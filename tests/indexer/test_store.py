"""The LanceDB store: safe quoting, path deletes, upserts, the vector cache, bounded growth."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

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
