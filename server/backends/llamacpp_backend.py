"""Local generation with llama.cpp: a GGUF engine decoded by the shared loop.

Templates, token healing, identifier guidance and stop rules are the decoding layer's
(``server.decoding.decode``), exactly as for transformers; this module only loads the
model (quantized GGUF, the Hugging Face tokenizer, an optional LoRA adapter converted to
llama.cpp's format) and owns the engine.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.backends.base import BackendError
from server.backends.engine_backend import EngineBackend
from server.backends.llamacpp_engine import LlamaCppEngine

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


class LlamaCppBackend(EngineBackend):
    """Greedy (or sampled) generation on llama.cpp with KV-cache reuse across requests."""

    name = "llamacpp"

    def __init__(self, engine: LlamaCppEngine, tokenizer: Any, model_id: str) -> None:
        super().__init__(engine, tokenizer, model_id)
        self.engine: LlamaCppEngine = engine

    def warm_up(self) -> None:
        """Also one pass through the prompt reader, so the first long prompt does not pay
        for touching its weights."""
        super().warm_up()
        reader = self.engine.reader
        if reader is not None:
            ids = self.tokenizer.encode("def main():\n    return 0\n", add_special_tokens=False)
            with self._lock:
                reader.prefill(ids or [0])
                reader.reset()
                reader.tokens_fed = 0


def load_llamacpp(
    model: str,
    quantization: str,
    adapter: str | None,
    n_threads: int | None = None,
    n_ctx: int | None = None,
    reader: str = "none",
    lora: str = "hot",
    reader_ctx: int | None = None,
) -> tuple[LlamaCppBackend, float]:
    """The backend for a model setting (made and cached on first use: GGUF, quantization,
    converted adapter); returns it and the load time in ms. ``reader``: the quantization
    that reads long prompts (``auto``: see ``prompt_reader_quantization``; ``none``: the
    served one does). ``lora``: an adapter ``merge``d into a copy of the weights (see
    ``lora_merge``) or loaded ``hot`` beside them. ``n_ctx`` / ``reader_ctx``: the
    engines' contexts (``llamacpp_engine.contexts`` sizes them to the prompt budgets).
    Raises BackendError."""
    from server.backends.llamacpp_engine import (
        BATCH,
        DECODER_BATCH,
        DEFAULT_CONTEXT,
        READER_BATCH,
        READER_CONTEXT,
        llama_cpp_module,
    )
    from server.backends.lora_gguf import lora_gguf

    t0 = time.perf_counter()
    llama_cpp_module()  # fail first, and clearly, when llama.cpp is not installed
    context = n_ctx or DEFAULT_CONTEXT
    merged = Path(adapter).expanduser() if adapter and lora == "merge" else None
    reader_quantization = prompt_reader_quantization(reader, quantization)
    batch = BATCH if reader_quantization is None else DECODER_BATCH
    engine = engine_for(model, quantization, context, n_threads, merged, batch)
    try:
        if reader_quantization is not None:
            reader_context = min(context, reader_ctx or READER_CONTEXT)
            engine.reader = engine_for(
                model, reader_quantization, reader_context, n_threads, merged, READER_BATCH
            )
        tokenizer = tokenizer_for(model)
        eos = tokenizer.eos_token_id
        engine.eos_ids |= frozenset(
            eos if isinstance(eos, list) else [eos] if eos is not None else []
        )
        engine.check_vocab(tokenizer)
        if adapter and merged is None:
            engine.set_lora(lora_gguf(Path(adapter).expanduser(), engine.path))
    except BaseException:
        engine.close()
        raise
    backend = LlamaCppBackend(engine, tokenizer, model)
    backend.warm_up()
    return backend, (time.perf_counter() - t0) * 1000


def engine_for(
    model: str,
    quantization: str,
    context: int,
    n_threads: int | None,
    merged: Path | None = None,
    n_batch: int | None = None,
) -> LlamaCppEngine:
    """The engine on ``model`` at ``quantization`` (with the adapter folder ``merged``
    merged in); a damaged cached GGUF is made again."""
    from server.backends.loader import cache_root

    def gguf_file() -> Path:
        from server.backends.gguf_models import served_gguf
        from server.backends.lora_merge import merged_gguf

        if merged is not None:
            return merged_gguf(merged, model, quantization)
        return served_gguf(model, quantization)

    from server.backends.llamacpp_engine import BATCH

    batch = n_batch or BATCH
    gguf = gguf_file()
    try:
        return LlamaCppEngine(gguf, frozenset(), n_ctx=context, n_threads=n_threads, n_batch=batch)
    except BackendError:
        if not gguf.is_relative_to(cache_root()):
            raise
        # Our own cached copy is damaged (a full disk, a killed write): make it again.
        log.warning("the cached %s did not load; making it again", gguf)
        gguf.unlink(missing_ok=True)
        gguf = gguf_file()
        return LlamaCppEngine(gguf, frozenset(), n_ctx=context, n_threads=n_threads, n_batch=batch)


def prompt_reader_quantization(setting: str, served: str) -> str | None:
    """The quantization of the second copy of the weights that reads long prompts, or None
    for one copy. ``auto``: bf16 where llama.cpp's CPU backend has AVX512-BF16, whose
    matrix products read a prompt ~1.35x faster than q8_0's while q8_0 decodes ~1.35x
    faster (bench/complete.py); elsewhere bf16 has no fast kernel, so none."""
    if setting == "auto":
        from server.backends.llamacpp_engine import llama_cpp_module

        info = llama_cpp_module().llama_print_system_info().decode(errors="replace")
        setting = "bf16" if "AVX512_BF16 = 1" in info else "none"
    return None if setting in ("none", served) else setting


def tokenizer_for(model: str) -> Any:
    """The model's tokenizer: prompts are built and tokenised with it. Read straight
    from ``tokenizer.json`` where the folder allows it (``fast_tokenizer``: the same
    tokens without transformers' ~100 MB), else through transformers' AutoTokenizer."""
    from server.backends import fast_tokenizer
    from server.backends.loader import SMOLLM2, smollm2_tokenizer_dir

    try:
        path = smollm2_tokenizer_dir() if model == SMOLLM2 else Path(model).expanduser()
        if path.is_dir() and fast_tokenizer.supports(path):
            return fast_tokenizer.FastTokenizer(path)
        return _auto_tokenizer(path)
    except BackendError:
        raise
    except Exception as e:
        raise BackendError(
            f"could not load the tokenizer of {model!r}: {type(e).__name__}: {e}"
        ) from e


def _auto_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    from server.backends.loader import quiet_transformers

    quiet_transformers()
    if path.suffix == ".gguf":
        return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
