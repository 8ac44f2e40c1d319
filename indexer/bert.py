"""A BERT sentence encoder (mean pooling) in plain torch: MiniLM without sentence-transformers.

Why: importing sentence-transformers (or transformers' modeling code) pulls scikit-learn,
scipy, sympy, accelerate, torch's dynamo and distributed packages and more, about 300 MB of
resident memory before any text is embedded; this module needs torch, ``tokenizers`` and
``safetensors`` only. It computes what sentence-transformers computes for a model folder made
of a BERT ``Transformer`` module and mean ``Pooling`` (tests assert a cosine >= 0.9999 with
sentence-transformers' vectors); ``supports(folder)`` says whether a folder is one.

Batches are padded to a multiple of ``LENGTH_STEP`` tokens, so the few shapes the model sees
keep torch's and oneDNN's per-shape caches small.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

LENGTH_STEP = 32


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def supports(folder: str | Path) -> bool:
    """True for a sentence-transformers folder this encoder computes exactly: a BERT model
    in safetensors with a fast tokenizer, mean pooling, optionally normalised."""
    root = Path(folder)
    modules = _read_json(root / "modules.json")
    config = _read_json(root / "config.json")
    if not isinstance(modules, list) or not isinstance(config, dict):
        return False
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    if modules[0].get("path", "") != "":
        return False
    pooling = _read_json(root / str(modules[1].get("path", "")) / "config.json")
    if not isinstance(pooling, dict):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modes != {"pooling_mode_mean_tokens"}:
        return False
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (root / "model.safetensors").is_file()
        and (root / "tokenizer.json").is_file()
    )


def max_seq_length(folder: str | Path, default: int) -> int:
    """sentence-transformers' cap on tokens per text for this folder."""
    cfg = _read_json(Path(folder) / "sentence_bert_config.json")
    value = cfg.get("max_seq_length") if isinstance(cfg, dict) else None
    return int(value) if isinstance(value, int) and value > 0 else default


@dataclass(frozen=True, slots=True)
class BertShape:
    """A BERT folder's sizes, as its ``config.json`` gives them."""

    hidden: int
    heads: int
    layers: int
    eps: float
    max_tokens: int  # the caller's cap, within the model's positions


def read_shape(folder: str | Path, max_tokens: int) -> BertShape:
    config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    return BertShape(
        hidden=int(config["hidden_size"]),
        heads=int(config["num_attention_heads"]),
        layers=int(config["num_hidden_layers"]),
        eps=float(config.get("layer_norm_eps", 1e-12)),
        max_tokens=min(max_tokens, int(config["max_position_embeddings"])),
    )


def read_weights(
    folder: str | Path, framework: str, convert: Callable[[Any], Any]
) -> dict[str, Any]:
    """The embeddings' and encoder's floating-point tensors of ``model.safetensors``, named
    without the optional ``bert.`` prefix, each passed through ``convert`` as it is read
    (one tensor at a time: never the whole file twice). ``framework``: safetensors' "pt"
    (torch tensors) or "np" (numpy arrays)."""
    from safetensors import safe_open

    weights: dict[str, Any] = {}
    with safe_open(str(Path(folder) / "model.safetensors"), framework) as f:
        keys = list(f.keys())
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in keys else ""
        for key in keys:
            name = key[len(prefix) :]
            if key.startswith(prefix) and name.split(".")[0] in ("embeddings", "encoder"):
                tensor = f.get_tensor(key)
                converted = convert(tensor)
                if converted is not None:
                    weights[name] = converted
    return weights


def read_tokenizer(folder: str | Path, max_tokens: int) -> Any:
    """The folder's fast tokenizer, unpadded, truncating at ``max_tokens``."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_tokens)
    return tokenizer


def padded(ids: Sequence[Sequence[int]], max_tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch's token ids padded to a multiple of ``LENGTH_STEP`` (int64) and the mask
    of real tokens (bool)."""
    longest = max(len(x) for x in ids)
    length = min(max_tokens, math.ceil(longest / LENGTH_STEP) * LENGTH_STEP)
    batch = np.zeros((len(ids), length), dtype=np.int64)
    mask = np.zeros((len(ids), length), dtype=bool)
    for row, x in enumerate(ids):
        batch[row, : len(x)] = x
        mask[row, : len(x)] = True
    return batch, mask


class BertEncoder:
    """``encode(ids) -> (n, hidden)`` float32 mean-pooled (not normalised) vectors."""

    def __init__(self, folder: str | Path, dtype: Any, max_tokens: int) -> None:
        import torch

        shape = read_shape(folder, max_tokens)
        self.hidden, self.heads, self.layers = shape.hidden, shape.heads, shape.layers
        self.eps, self.max_tokens = shape.eps, shape.max_tokens
        self.dtype = dtype
        self.w: dict[str, Any] = read_weights(
            folder, "pt", lambda t: t.to(dtype).contiguous() if t.is_floating_point() else None
        )
        self.tokenizer = read_tokenizer(folder, self.max_tokens)
        self._torch = torch

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text ([CLS] … [SEP], truncated to ``max_tokens``)."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def encode(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Mean-pooled last hidden states of one batch, as float32."""
        torch = self._torch
        batch, mask = padded(ids, self.max_tokens)
        with torch.inference_mode():
            keep = torch.from_numpy(mask)
            h = self._forward(torch.from_numpy(batch), keep)
            weights = keep.unsqueeze(-1).to(torch.float32)
            pooled = (h.to(torch.float32) * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return pooled.numpy()

    def _forward(self, ids: Any, keep: Any) -> Any:
        F = self._torch.nn.functional
        w = self.w
        n = ids.shape[1]
        h = (
            F.embedding(ids, w["embeddings.word_embeddings.weight"])
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        h = self._norm(h, "embeddings.LayerNorm")
        attend = keep[:, None, None, :]  # (batch, 1, 1, keys): padding is never attended to
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            a = self._attention(h, attend, p + "attention.self.")
            a = self._linear(a, p + "attention.output.dense")
            h = self._norm(a + h, p + "attention.output.LayerNorm")
            m = self._linear(F.gelu(self._linear(h, p + "intermediate.dense")), p + "output.dense")
            h = self._norm(m + h, p + "output.LayerNorm")
        return h

    def _attention(self, h: Any, attend: Any, p: str) -> Any:
        F = self._torch.nn.functional
        b, n, _ = h.shape
        d = self.hidden // self.heads

        def heads(name: str) -> Any:
            return self._linear(h, p + name).view(b, n, self.heads, d).transpose(1, 2)

        out = F.scaled_dot_product_attention(heads("query"), heads("key"), heads("value"), attend)
        return out.transpose(1, 2).reshape(b, n, self.hidden)

    def _linear(self, x: Any, p: str) -> Any:
        return self._torch.nn.functional.linear(x, self.w[p + ".weight"], self.w[p + ".bias"])

    def _norm(self, x: Any, p: str) -> Any:
        F = self._torch.nn.functional
        return F.layer_norm(x, (self.hidden,), self.w[p + ".weight"], self.w[p + ".bias"], self.eps)
