"""A peft LoRA adapter merged into a copy of the base model's GGUF.

Each adapted matrix becomes ``W + alpha / r * B @ A`` on F32 weights (the adapter taken
from its llama.cpp LoRA GGUF, so names and the rotary row order are ``lora_gguf``'s), then
the copy is quantized like any served model. Decoding then costs what the base costs,
where a hot-loaded adapter adds two small products per adapted matrix per token (~20 % of
decode at r = 16); the merge is paid once per adapter and quantization (cached by the
adapter files' hash; the F32 step is not kept).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from server.backends.base import BackendError
from server.backends.loader import cache_root

log = logging.getLogger(__name__)


def merged_gguf(adapter: Path, model: str, quantization: str) -> Path:
    """The GGUF of ``model`` with the peft adapter folder ``adapter`` merged in, at
    ``quantization`` (made once)."""
    from server.backends.gguf_models import QUANTIZATIONS, quantize, served_gguf
    from server.backends.lora_gguf import lora_gguf

    if quantization not in QUANTIZATIONS:
        raise BackendError(
            f"unknown quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    base = served_gguf(model, "f32")
    lora = lora_gguf(adapter, base)
    folder = cache_root() / "merged"
    label = "f32" if quantization == "source" else quantization
    target = folder / f"{base.stem}-{lora.stem}-{label}.gguf"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    if label == "f32":
        _atomic(target, lambda tmp: merge(base, lora, tmp))
        return target
    # The F32 merge is only a step (540 MB for SmolLM2): not kept.
    merged = folder / f"{target.stem}.f32-{os.getpid()}.gguf"
    try:
        merge(base, lora, merged)
        quantize(merged, target, quantization)
    finally:
        merged.unlink(missing_ok=True)
    return target


def merge(base: Path, lora: Path, out: Path) -> None:
    """Write ``base`` (an F32 GGUF) with the LoRA GGUF ``lora`` added into its weights."""
    import gguf

    t0 = time.perf_counter()
    model = gguf.GGUFReader(str(base))
    adapter = gguf.GGUFReader(str(lora))
    alpha_field = adapter.fields.get(gguf.Keys.Adapter.LORA_ALPHA)
    if alpha_field is None:
        raise BackendError(f"{lora} is not a llama.cpp LoRA adapter (no alpha)")
    alpha = float(alpha_field.contents())
    parts = {t.name: t.data for t in adapter.tensors}
    deltas: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in parts:
        if name.endswith(".lora_a"):
            stem = name.removesuffix(".lora_a")
            deltas[stem] = (parts[name], parts[f"{stem}.lora_b"])
    arch = str(model.fields["general.architecture"].contents())
    writer = gguf.GGUFWriter(str(out), arch)
    for field in model.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    for tensor in model.tensors:
        if tensor.tensor_type != gguf.GGMLQuantizationType.F32:
            raise BackendError(f"{base} is not an F32 GGUF ({tensor.name})")
        writer.add_tensor_info(
            tensor.name,
            tensor.data.shape,
            tensor.data.dtype,
            tensor.data.nbytes,
            tensor.tensor_type,
        )
    unused = set(deltas) - {t.name for t in model.tensors}
    if unused:
        raise BackendError(f"the adapter {lora} adapts tensors the model lacks: {sorted(unused)}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in model.tensors:
        data = tensor.data
        if tensor.name in deltas:
            a, b = deltas[tensor.name]  # A: (r, in), B: (out, r); W: (out, in)
            delta = (alpha / a.shape[0]) * (b.astype(np.float32) @ a.astype(np.float32))
            data = (np.asarray(data, dtype=np.float32) + delta.reshape(data.shape)).astype(
                np.float32
            )
        writer.write_tensor_data(data)
    writer.close()
    log.info("merged %s into %s in %.1f s", lora.name, base.name, time.perf_counter() - t0)


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    """``write`` to a temporary name, then rename: a crash never leaves a half file."""
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
