"""llama.cpp as a token engine: token ids in, next-token logits out, one KV cache kept.

The prompt is built and tokenised with the model's Hugging Face tokenizer, and only ids
cross into llama.cpp, so both backends read exactly the same tokens; ``check_vocab`` makes
sure the GGUF's vocabulary agrees with that tokenizer before any request is served.
llama.cpp (through llama-cpp-python) is imported only here, when the engine is built.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from server.backends.base import BackendError
from server.backends.free_cores import FreeCores, cores
from server.backends.hugepages import collapse_new_memory
from server.decoding.engine import common_prefix_length

log = logging.getLogger(__name__)

# The engine's context when no budgets are given (``contexts`` sizes it to them: the
# default budgets' prompt of at most 864 tokens plus the answer take 1,280 positions). Its
# F16 KV cache is cleared (so resident) whole: SmolLM2 keeps 23 KB a position (1,280
# positions instead of 4,096: ~65 MB fewer).
DEFAULT_CONTEXT = 2048
# New prompt tokens from which the prompt reader (when there is one) reads them: below it,
# copying the KV cache over (~17 MB for 730 tokens) costs more than the faster read saves.
READER_MIN_TOKENS = 64
# The reader's context at most: it only reads prompts, never the answer, and is sized to
# the configured budgets (``contexts``); a longer prompt is read by the engine itself.
READER_CONTEXT = 2048
# Template tokens and token healing's re-typed text beyond the budgets, generously.
PROMPT_SLACK = 256
# Tokens per llama_decode call (a longer prompt is read in several); the compute buffer
# touched grows with it. 730-token prompt, 1 thread, CPU per token, alternated (load 4-7):
# the BF16 reader 2.20-2.55 ms at 256 beside 2.42-2.71 at 512, 8 MB fewer resident after
# use; Q8_0 3.00-3.42 at 128 beside 3.04-3.11 at 512, 13 MB fewer: so 128 only for a Q8_0
# engine beside a reader (it then reads a few new tokens, or a prompt too long for the
# reader), 512 where it reads every prompt itself.
BATCH = 512
DECODER_BATCH = 128
READER_BATCH = 256
FREE_CORES = FreeCores()  # threads per batch when not fixed: shared by every engine


def contexts(prompt_budget: int, max_tokens: int) -> tuple[int, int]:
    """(engine, reader) context lengths for prompts of ``prompt_budget`` tokens (the
    completion settings' prefix + suffix + snippet budgets) and answers of ``max_tokens``,
    in whole 256-position steps, the reader's at most ``READER_CONTEXT``. Each position is
    KV cache kept resident; the server loads the engines again when the budgets change."""

    def steps(n: int) -> int:
        return -(-n // 256) * 256

    need = max(0, prompt_budget) + PROMPT_SLACK
    return steps(need + max(0, max_tokens)), min(READER_CONTEXT, steps(need))


def llama_cpp_module() -> Any:
    """The llama_cpp module, or BackendError saying how to install it."""
    try:
        import llama_cpp
    except ImportError as e:
        raise BackendError(
            "llama.cpp is not installed (the Python package llama-cpp-python). Fix: "
            "`make setup`, or `pip install llama-cpp-python==0.3.36`; meanwhile use "
            f"model.backend = transformers ({e})"
        ) from e
    from llama_cpp import _logger

    _logger.set_verbose(False)  # llama.cpp's own log: errors only, to stderr
    return llama_cpp


class LlamaCppEngine:
    """A GGUF model in llama.cpp with the ids its KV cache holds (a TokenEngine).

    An optional ``reader``, a second engine on another copy of the same weights (BF16),
    reads long prompts: its matrix products are faster than Q8_0's on a CPU with
    AVX512-BF16, while Q8_0 decodes faster (fewer bytes per token). Its KV cache is then
    copied into this engine's, which decodes from it."""

    name = "llamacpp"

    def __init__(
        self,
        gguf: Path,
        eos_ids: frozenset[int],
        *,
        n_ctx: int = DEFAULT_CONTEXT,
        n_threads: int | None = None,
        n_batch: int = BATCH,
    ) -> None:
        lc = llama_cpp_module()
        if not gguf.is_file():
            raise BackendError(f"the GGUF model {gguf} does not exist")
        with gguf.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise BackendError(
                    f"{gguf} is not a GGUF file (its first bytes are not 'GGUF'): it may be "
                    "truncated or corrupt. Fix: delete it so it is made again, or point "
                    "model.model at a valid model"
                )
        threads = n_threads or cores()
        try:
            with collapse_new_memory() as huge:
                self.llm = self._load(lc, gguf, n_ctx, n_batch, threads)
        except Exception as e:  # llama.cpp says only "Failed to load model from file"
            raise BackendError(
                f"llama.cpp could not load {gguf}: {e}. The file may be truncated or "
                "corrupt, or of an architecture this llama.cpp does not know. Fix: delete "
                "it so it is made again, or use model.backend = transformers"
            ) from e
        self.huge_pages = huge  # what went on 2 MB pages; a refusal is logged below
        if huge.error:
            log.info("%s stays on 4 KB pages (%s): decoding is ~20%% slower", gguf, huge.error)
        n_ctx_train = lc.llama_model_n_ctx_train(self.llm.model)
        self.max_context = min(n_ctx, n_ctx_train) if n_ctx_train > 0 else n_ctx
        self.path = gguf
        self.n_vocab = int(self.llm.n_vocab())
        self.eos_ids = frozenset(eos_ids) | {int(self.llm.token_eos())}
        self._lc = lc
        self._ids: list[int] = []
        self._lora: Any = None  # the llama_adapter_lora pointer in use, if any
        self.lora_path: Path | None = None
        self.lock = threading.RLock()  # the KV cache is shared state: one caller at a time
        self.reader: LlamaCppEngine | None = None  # reads long prompts (see the class doc)
        self._state: Any = None  # the buffer the KV cache is copied through
        self.tokens_fed = 0  # every token ever fed: tests and benches read it
        self.fed_by_threads: dict[int, int] = {}  # tokens fed per thread count (the bench)
        self.fixed_threads = n_threads  # None: chosen per batch (free_cores.py)
        self.threads = threads

    @staticmethod
    def _load(lc: Any, gguf: Path, n_ctx: int, n_batch: int, threads: int) -> Any:
        return lc.Llama(
            model_path=str(gguf),
            n_ctx=n_ctx,
            n_batch=n_batch,
            n_ubatch=n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            # Flash attention reads a 730-token prompt 1.3x faster on this CPU (524 ->
            # 678 tokens/s, best of 3, 2 threads), F16 keys and values 1.7x faster than
            # BF16 ones and 2x than Q8_0 ones (CPU time); see BATCH for its size.
            flash_attn=True,
            # The weights in llama.cpp's own memory, not mmap'd: only anonymous memory
            # can be put on huge pages (see hugepages.py).
            use_mmap=False,
            logits_all=False,
            verbose=False,
        )

    # -- the TokenEngine protocol -------------------------------------------------------

    def prefill(self, ids: Sequence[int]) -> tuple[np.ndarray, int]:
        """Make the cache hold exactly ``ids``, reusing the longest common prefix with what
        it held (at least the last token is fed again, for fresh logits)."""
        if not ids:
            raise ValueError("prefill needs at least one token")
        if len(ids) > self.max_context:
            raise ValueError(f"{len(ids)} tokens do not fit a context of {self.max_context}")
        with self.lock:
            reused = min(common_prefix_length(self._ids, ids), len(ids) - 1)
            reader = self.reader
            if (
                reader is not None
                and len(ids) - reused >= READER_MIN_TOKENS
                and len(ids) <= reader.max_context
            ):
                return self._read_with_reader(ids)
            self._feed(ids[reused:], keep=reused)
            self._ids = list(ids)
            return self._logits(), reused

    def _read_with_reader(self, ids: Sequence[int]) -> tuple[np.ndarray, int]:
        """The reader reads ``ids`` (reusing its own cache), then its KV cache is copied
        into this engine's: the same positions, as if this engine had read them."""
        reader = self.reader
        assert reader is not None
        fed = reader.tokens_fed
        logits, reused = reader.prefill(ids)
        self.tokens_fed += reader.tokens_fed - fed
        lc = self._lc
        size = lc.llama_state_seq_get_size(reader.llm.ctx, 0)
        if self._state is None or len(self._state) < size:
            self._state = (ctypes.c_uint8 * size)()
        got = lc.llama_state_seq_get_data(reader.llm.ctx, self._state, size, 0)
        self._ids = []  # until the copy is complete
        if got == 0 or lc.llama_state_seq_set_data(self.llm.ctx, self._state, got, 0) == 0:
            self.reset()
            raise BackendError("llama.cpp could not copy the prompt reader's KV cache")
        self.llm.n_tokens = len(ids)
        self.llm.input_ids[: len(ids)] = ids
        self._ids = list(ids)
        return logits, reused

    def step(self, token: int) -> np.ndarray:
        with self.lock:
            if len(self._ids) >= self.max_context:
                raise ValueError(f"the context of {self.max_context} tokens is full")
            self._feed([token], keep=len(self._ids))
            self._ids.append(int(token))
            return self._logits()

    def reset(self) -> None:
        with self.lock:
            self._ids = []
            self.llm.reset()
            self.llm._ctx.kv_cache_clear()
            if self.reader is not None:
                self.reader.reset()

    @property
    def cached_ids(self) -> list[int]:
        return list(self._ids)

    # -- adapters ---------------------------------------------------------------------------

    def set_lora(self, path: Path | None, scale: float = 1.0) -> None:
        """Use the llama.cpp LoRA adapter at ``path`` (None: none). The KV cache was made
        with the old weights, so it is dropped."""
        lc = self._lc
        with self.lock:
            if path is None:
                if self._lora is not None:
                    lc.llama_set_adapters_lora(self.llm.ctx, None, 0, None)
                    lc.llama_adapter_lora_free(self._lora)
                self._lora, self.lora_path = None, None
                if self.reader is not None:
                    self.reader.set_lora(None)
                self.reset()
                return
            adapter = lc.llama_adapter_lora_init(self.llm.model, str(path).encode())
            if not adapter:
                raise BackendError(
                    f"llama.cpp could not load the LoRA adapter {path}: it may be corrupt or "
                    "made for another base model"
                )
            adapters = (lc.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(scale)
            if lc.llama_set_adapters_lora(self.llm.ctx, adapters, 1, scales) != 0:
                lc.llama_adapter_lora_free(adapter)
                raise BackendError(f"llama.cpp refused the LoRA adapter {path}")
            if self._lora is not None:
                lc.llama_adapter_lora_free(self._lora)
            self._lora, self.lora_path = adapter, path
            if self.reader is not None:
                self.reader.set_lora(path, scale)
            self.reset()

    # -- checks ---------------------------------------------------------------------------

    def check_vocab(self, tokenizer: Any, sample: int = 512) -> None:
        """Raise BackendError unless the GGUF's tokens are the tokenizer's: same size and
        the same text for a spread of ids (special tokens included)."""
        size = len(tokenizer)
        if size > self.n_vocab:
            raise BackendError(
                f"the GGUF vocabulary has {self.n_vocab} tokens but the tokenizer {size}: "
                "they belong to different models"
            )
        lc = self._lc
        vocab = lc.llama_model_get_vocab(self.llm.model)
        ids = sorted(set(range(0, size, max(1, size // sample))) | set(_special_ids(tokenizer)))
        hf = tokenizer.convert_ids_to_tokens(ids)
        for i, expected in zip(ids, hf, strict=True):
            got = lc.llama_vocab_get_text(vocab, i)
            got = got.decode("utf-8", errors="replace") if got is not None else None
            if expected is not None and got != expected:
                raise BackendError(
                    f"the GGUF's token {i} is {got!r} but the tokenizer's is {expected!r}: "
                    "the GGUF was made from another model or tokenizer"
                )

    # -- internals --------------------------------------------------------------------------

    def _feed(self, ids: Sequence[int], keep: int) -> None:
        threads = self.fixed_threads or FREE_CORES()
        if threads != self.threads:
            self._lc.llama_set_n_threads(self.llm.ctx, threads, threads)
            self.threads = threads
        self.llm.n_tokens = keep  # eval() drops the KV cache from here on
        self.llm.eval(list(ids))
        self.tokens_fed += len(ids)
        self.fed_by_threads[threads] = self.fed_by_threads.get(threads, 0) + len(ids)

    def _logits(self) -> np.ndarray:
        ptr = self._lc.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def close(self) -> None:
        with self.lock:
            if self.reader is not None:
                self.reader.close()
                self.reader = None
            if self._lora is not None:
                self._lc.llama_adapter_lora_free(self._lora)
                self._lora = None
            self.llm.close()


def _special_ids(tokenizer: Any) -> list[int]:
    ids = getattr(tokenizer, "all_special_ids", None) or []
    return [int(i) for i in ids]
