"""A peft LoRA adapter (as ``tandem train`` writes it) in llama.cpp's LoRA GGUF format.

Each ``lora_A`` / ``lora_B`` pair becomes ``<gguf tensor>.weight.lora_a`` / ``.lora_b``
under llama.cpp's tensor names (the ``gguf`` package's name map for the base model's
architecture). llama.cpp stores the query and key projections of LLaMA-family models with
their rows permuted for its rotary layout, so ``lora_B`` of those is permuted the same way.
llama.cpp scales by alpha / rank like peft; rsLoRA's alpha / sqrt(rank) is folded into
alpha. The result is cached by the adapter files' hash, outside the adapter folder (whose
files tell the server when an adapter was retrained).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from server.backends.base import BackendError
from server.backends.loader import _file_hash, cache_root

_PERMUTED_ARCHS = {"llama"}  # whose q/k rows llama.cpp's converter permutes


def lora_gguf(adapter: Path, base_gguf: Path) -> Path:
    """The llama.cpp LoRA GGUF for the peft adapter folder ``adapter`` (made once)."""
    config_file = adapter / "adapter_config.json"
    weights = adapter / "adapter_model.safetensors"
    if not config_file.is_file() or not weights.is_file():
        raise BackendError(
            f"LoRA adapter {adapter} not found: expected adapter_config.json and "
            "adapter_model.safetensors (as written by `tandem train`)"
        )
    digest = _file_hash(weights) + _file_hash(config_file)[:8]
    target = cache_root() / "lora" / f"{adapter.name}-{digest}.gguf"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
        try:
            convert(adapter, base_gguf, tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def base_shape(base_gguf: Path) -> tuple[str, int, int, int]:
    """(architecture, blocks, heads, key/value heads) read from the base model's GGUF."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))

    def field(key: str) -> Any:
        f = reader.fields.get(key)
        if f is None:
            raise BackendError(f"{base_gguf} has no {key}: not a model GGUF")
        return f.contents()

    arch = str(field("general.architecture"))
    heads = int(field(f"{arch}.attention.head_count"))
    kv_field = reader.fields.get(f"{arch}.attention.head_count_kv")
    kv_heads = int(kv_field.contents()) if kv_field is not None else heads
    return arch, int(field(f"{arch}.block_count")), heads, kv_heads


def convert(adapter: Path, base_gguf: Path, out: Path) -> None:
    import gguf
    from safetensors.numpy import load_file

    config = json.loads((adapter / "adapter_config.json").read_text())
    rank, alpha = int(config["r"]), float(config["lora_alpha"])
    if config.get("use_rslora"):
        alpha *= math.sqrt(rank)
    arch, blocks, heads, kv_heads = base_shape(base_gguf)
    arch_ids = {name: key for key, name in gguf.MODEL_ARCH_NAMES.items()}
    if arch not in arch_ids:
        raise BackendError(f"the gguf package does not know the architecture {arch!r}")
    names = gguf.get_tensor_name_map(arch_ids[arch], blocks)
    tensors = load_file(str(adapter / "adapter_model.safetensors"))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, value in tensors.items():
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in key:
                module = key.split(marker)[0].removeprefix("base_model.model.")
                pairs.setdefault(module, {})[part] = value.astype(np.float32)
    if not pairs:
        raise BackendError(f"{adapter} holds no LoRA weights (lora_A / lora_B)")
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for module, pair in sorted(pairs.items()):
        name = names.get_name(module)
        if name is None or len(pair) != 2:
            raise BackendError(
                f"cannot convert the LoRA weights of {module!r} for llama.cpp ({arch}): "
                "use model.backend = transformers for this adapter"
            )
        lora_b = pair["lora_B"]
        if arch in _PERMUTED_ARCHS and name.endswith(("attn_q", "attn_k")):
            lora_b = _rope_permute(lora_b, heads if name.endswith("attn_q") else kv_heads)
        writer.add_tensor(f"{name}.weight.lora_a", np.ascontiguousarray(pair["lora_A"]))
        writer.add_tensor(f"{name}.weight.lora_b", np.ascontiguousarray(lora_b))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _rope_permute(rows: np.ndarray, heads: int) -> np.ndarray:
    """Reorder each head's rows from Hugging Face's rotary halves to llama.cpp's
    interleaved pairs (what its converter does to the q/k weights themselves)."""
    out_dim = rows.shape[0]
    return (
        rows.reshape(heads, 2, out_dim // heads // 2, *rows.shape[1:])
        .swapaxes(1, 2)
        .reshape(rows.shape)
    )
