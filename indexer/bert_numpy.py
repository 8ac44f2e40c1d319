"""The BERT sentence encoder of ``indexer.bert`` in numpy: query vectors without torch.

Why: a query (``Index.search``'s vector channel, ``tandem search``) embeds one short text,
and importing torch for it costs ~230 MB of resident memory and a second or two; numpy is
loaded anyway. The same weights and the same computation in float32 (tests assert a cosine
>= 0.9999 with ``indexer.bert`` in float32); bulk embedding (``tandem index``, the
server's embedding jobs) stays in torch, which batches it faster and in bfloat16 where
the CPU has it. GELU is the exact erf form through a rational approximation (error below
1.5e-7, far under float32 rounding of the activations).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.bert import padded, read_shape, read_tokenizer, read_weights


def _float32(tensor: Any) -> np.ndarray | None:
    if not np.issubdtype(tensor.dtype, np.floating):
        return None
    return np.ascontiguousarray(tensor, dtype=np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class NumpyBertEncoder:
    """``encode(ids) -> (n, hidden)`` float32 mean-pooled vectors, as ``BertEncoder``."""

    def __init__(self, folder: str | Path, max_tokens: int) -> None:
        shape = read_shape(folder, max_tokens)
        self.hidden, self.heads, self.layers = shape.hidden, shape.heads, shape.layers
        self.eps, self.max_tokens = shape.eps, shape.max_tokens
        self.w: dict[str, np.ndarray] = read_weights(folder, "np", _float32)
        self.tokenizer = read_tokenizer(folder, self.max_tokens)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def encode(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        batch, keep = padded(ids, self.max_tokens)
        h = self._forward(batch, keep)
        weights = keep[..., None].astype(np.float32)
        return (h * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)

    def _forward(self, ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
        w = self.w
        n = ids.shape[1]
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        h = self._norm(h, "embeddings.LayerNorm")
        # padding is never attended to: a large negative bias on its keys
        bias = np.where(keep, 0.0, -1e30).astype(np.float32)[:, None, None, :]
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            a = self._linear(
                self._attention(h, bias, p + "attention.self."), p + "attention.output.dense"
            )
            h = self._norm(a + h, p + "attention.output.LayerNorm")
            m = self._linear(_gelu(self._linear(h, p + "intermediate.dense")), p + "output.dense")
            h = self._norm(m + h, p + "output.LayerNorm")
        return h

    def _attention(self, h: np.ndarray, bias: np.ndarray, p: str) -> np.ndarray:
        b, n, _ = h.shape
        d = self.hidden // self.heads

        def heads(name: str) -> np.ndarray:
            return self._linear(h, p + name).reshape(b, n, self.heads, d).transpose(0, 2, 1, 3)

        q, k, v = heads("query"), heads("key"), heads("value")
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(d)) + bias
        scores -= scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(-1, keepdims=True)
        return (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)

    def _linear(self, x: np.ndarray, p: str) -> np.ndarray:
        return x @ self.w[p + ".weight"].T + self.w[p + ".bias"]

    def _norm(self, x: np.ndarray, p: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        y = (x - mean) / np.sqrt(var + self.eps)
        return y * self.w[p + ".weight"] + self.w[p + ".bias"]
