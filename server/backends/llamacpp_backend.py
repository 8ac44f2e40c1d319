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


def load_llamacpp(
    model: str,
    quantization: str,
    adapter: str | None,
    n_threads: int | None = None,
    n_ctx: int | None = None,
) -> tuple[LlamaCppBackend, float]:
    """The backend for a model setting (made and cached on first use: GGUF, quantization,
    converted adapter); returns it and the load time in ms. Raises BackendError."""
    from server.backends.gguf_models import served_gguf
    from server.backends.llamacpp_engine import DEFAULT_CONTEXT, llama_cpp_module
    from server.backends.loader import cache_root
    from server.backends.lora_gguf import lora_gguf

    t0 = time.perf_counter()
    llama_cpp_module()  # fail first, and clearly, when llama.cpp is not installed
    gguf = served_gguf(model, quantization)
    context = n_ctx or DEFAULT_CONTEXT
    try:
        engine = LlamaCppEngine(gguf, frozenset(), n_ctx=context, n_threads=n_threads)
    except BackendError:
        if not gguf.is_relative_to(cache_root()):
            raise
        # Our own cached copy is damaged (a full disk, a killed write): make it again.
        log.warning("the cached %s did not load; making it again", gguf)
        gguf.unlink(missing_ok=True)
        gguf = served_gguf(model, quantization)
        engine = LlamaCppEngine(gguf, frozenset(), n_ctx=context, n_threads=n_threads)
    try:
        tokenizer = tokenizer_for(model)
        eos = tokenizer.eos_token_id
        engine.eos_ids |= frozenset(
            eos if isinstance(eos, list) else [eos] if eos is not None else []
        )
        engine.check_vocab(tokenizer)
        if adapter:
            engine.set_lora(lora_gguf(Path(adapter).expanduser(), gguf))
    except BaseException:
        engine.close()
        raise
    backend = LlamaCppBackend(engine, tokenizer, model)
    backend.warm_up()
    return backend, (time.perf_counter() - t0) * 1000


def tokenizer_for(model: str) -> Any:
    """The model's Hugging Face tokenizer: prompts are built and tokenised with it."""
    from transformers import AutoTokenizer

    from server.backends.loader import SMOLLM2, quiet_transformers, smollm2_tokenizer_dir

    quiet_transformers()
    try:
        if model == SMOLLM2:
            return AutoTokenizer.from_pretrained(str(smollm2_tokenizer_dir()))
        path = Path(model).expanduser()
        if path.suffix == ".gguf":
            return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        return AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except BackendError:
        raise
    except Exception as e:
        raise BackendError(
            f"could not load the tokenizer of {model!r}: {type(e).__name__}: {e}"
        ) from e
