"""A base in object storage carries its full-text postings (``indexer.lexicon``), built
once by CI: an editor's BM25 over base ∪ delta, built from them as they are, ranks
exactly like one built by tokenizing every visible chunk, the delta winning and deleted
files gone; postings that do not describe the rows read are never used."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import S3Server, git_workspace

from indexer import lexicon
from indexer.search import Index, open_index, prefetch_base
from indexer.store import Store
from indexer.sync import sync
from server.context import build_context
from server.context.bm25 import BM25, term_counts
from server.settings import IndexSettings

QUERIES = ["shape area", "furlongs metres", "legacy checksum marker", "helper value", "x"]
NEW_DEF = "\n\ndef furlongs_to_metres(furlongs: float) -> float:\n    return furlongs * 201.168\n"


@pytest.fixture
def s3_env(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in s3.env().items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    Store.close_all()
    yield
    Store.close_all()


def _dev(repo: Path, tmp_path: Path) -> Path:
    """A clone with one file edited, one deleted and one added."""
    dev = tmp_path / "dev"
    shutil.copytree(repo, dev)
    units = dev / "geometry" / "units.py"
    units.write_text(units.read_text() + NEW_DEF)
    (dev / "obsolete.py").unlink()
    (dev / "geometry" / "draft.py").write_text(
        "def draft_area(side: float) -> float:\n    return 1\n"
    )
    return dev


def _tokenized(index: Index) -> BM25[tuple[str, int]]:
    bm: BM25[tuple[str, int]] = BM25()
    for path in sorted(index.known_paths()):
        for i, c in enumerate(index.chunks(path)):
            bm.add((path, i), term_counts(c.text))
    return bm


def _open(dev: Path, base: str) -> Index:
    Store.close_all()
    return open_index(dev, settings=IndexSettings(base=base))


def test_an_editor_ranks_from_the_bases_postings_as_from_every_chunk(
    s3_env: None, bucket: str, tmp_path: Path
) -> None:
    repo = git_workspace(tmp_path / "main", extra_modules=3)
    base = f"s3://{bucket}/main"
    sync(repo, IndexSettings(db=base, embedder="none"))
    assert Store.open(base).meta()[lexicon.META_KEY]
    dev = _dev(repo, tmp_path)
    settings = IndexSettings(base=base)
    Store.close_all()
    prefetch_base(settings)  # what `tandem serve` does before computing its delta
    sync(dev, settings, embed=False)
    index = open_index(dev, settings=settings)

    postings = index.chunk_postings()
    assert postings is not None and index.chunk_terms() is None
    loaded = BM25.from_layered(postings)
    tokenized = _tokenized(index)
    assert len(loaded) == len(tokenized) > 10
    for q in QUERIES:
        a, b = dict(loaded.top(term_counts(q), 1000)), dict(tokenized.top(term_counts(q), 1000))
        assert a.keys() == b.keys(), q
        assert all(a[k] == pytest.approx(b[k]) for k in a), q
    for term in ("return", "furlongs", "legacy", "nothing_like_this"):
        assert loaded.df(term) == tokenized.df(term), term

    def text(query: str) -> list[str]:
        return [h.path for h in index.search(query, k=3, mode="text")]

    assert text("furlongs metres")[0] == "geometry/units.py"  # only in the delta
    assert text("draft area")[0] == "geometry/draft.py"  # a file only the delta has
    assert "geometry/shapes.py" in text("circle area")  # only in the base
    assert "obsolete.py" not in text("legacy checksum marker")  # deleted locally

    # The context builder's view is built from the same postings; it still finds the
    # delta's new definition for a buffer that uses it.
    buffer = "from geometry.units import furlongs_to_metres\n\nfurlongs_to_metres("
    ctx = build_context(index, "app.py", buffer, 2, len("furlongs_to_metres("))
    assert "201.168" in str(ctx)


def test_postings_that_do_not_describe_the_rows_read_are_not_used(
    s3_env: None, bucket: str, tmp_path: Path
) -> None:
    repo = git_workspace(tmp_path / "main")
    base = f"s3://{bucket}/main"
    sync(repo, IndexSettings(db=base, embedder="none"))
    store = Store.open(base)
    recorded = store.meta()[lexicon.META_KEY]
    version, _, print_ = recorded.partition(":")
    dev = _dev(repo, tmp_path)
    sync(dev, IndexSettings(base=base), embed=False)
    assert _open(dev, base).chunk_postings() is not None

    # Built from other rows (same version, another fingerprint), or from another version
    # of the chunks table: the editor reads the per-chunk term columns instead.
    for stale in (f"{version}:1:00000000", f"{int(version) + 1}:{print_}"):
        Store.open(base).set_meta({lexicon.META_KEY: stale})
        index = _open(dev, base)
        assert index.chunk_postings() is None
        assert index.chunk_terms() is not None
        assert [h.path for h in index.search("furlongs metres", k=1, mode="text")] == [
            "geometry/units.py"
        ]
        assert "geometry/shapes.py" in [h.path for h in index.search("circle area", mode="text")]
