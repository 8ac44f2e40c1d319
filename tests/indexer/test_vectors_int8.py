"""The int8 vectors a reader holds score within ~0.002 of the floats and rank alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.store import Store
from indexer.vectors import Int8Rows


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    m = rng.standard_normal((n, dim)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_scores_and_rows_stay_within_a_quantization_step() -> None:
    rng = np.random.default_rng(7)
    m = _unit(rng, 5000, 384)
    rows = Int8Rows.quantize(m)
    assert rows.codes.dtype == np.int8 and rows.nbytes == 5000 * 384 + 5000 * 4
    for _ in range(5):
        q = m[rng.integers(5000)] + 0.5 * _unit(rng, 1, 384)[0]
        q /= np.linalg.norm(q)
        exact, got = m @ q, rows.scores(q)
        assert np.abs(exact - got).max() < 0.002
        top = set(np.argsort(-exact)[:10].tolist())
        assert len(top & set(np.argsort(-got)[:10].tolist())) >= 9
    assert np.abs(rows[3] - m[3]).max() <= float(np.abs(m[3]).max()) / 254 + 1e-7
    zero = Int8Rows.quantize(np.zeros((2, 4), dtype=np.float32))
    assert np.array_equal(zero.scores(np.ones(4, dtype=np.float32)), [0.0, 0.0])
    both = Int8Rows.stack([rows, Int8Rows.empty(384), rows])
    assert len(both) == 10000 and np.array_equal(both.codes[5000:], rows.codes)


def test_the_store_reads_vectors_as_int8(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    store = Store(str(tmp_path / "db"))
    m = _unit(rng, 300, 16)
    hashes = [f"h{i}" for i in range(300)]
    store.add_vectors("m_16", hashes[:200], m[:200])
    store.add_vectors("m_16", hashes[200:], m[200:])
    got_hashes, floats = store.read_vectors("m_16")
    same_hashes, rows = store.read_vectors_int8("m_16")
    assert got_hashes == same_hashes and sorted(got_hashes) == sorted(hashes)
    assert rows.codes.shape == (300, 16) and not rows.codes.flags.writeable
    q = m[0]
    assert np.abs(rows.scores(q) - floats @ q).max() < 0.01
    absent_hashes, absent = store.read_vectors_int8("absent_4")
    assert absent_hashes == [] and len(absent) == 0
