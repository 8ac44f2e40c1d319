"""The GGUF file llama.cpp serves, made once per model and quantization and cached.

Sources: the bundled SmolLM2 GGUF, any ``.gguf`` file, or a local Hugging Face folder
(converted with llama.cpp's own ``convert_hf_to_gguf.py`` when ``make setup`` put it in
``<venv>/share/tandem/llama.cpp/``). The result is quantized with llama.cpp's quantizer and
cached under ``$XDG_CACHE_HOME/tandem/models/`` beside the transformers copies.
"""

from __future__ import annotations

import ctypes
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

from server.backends.base import BackendError
from server.backends.loader import SMOLLM2, _file_hash, cache_root, smollm2_gguf

log = logging.getLogger(__name__)

# name -> llama.cpp's LLAMA_FTYPE_* constant; "source" serves the file as it is.
QUANTIZATIONS = {
    "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
    "q6_k": "LLAMA_FTYPE_MOSTLY_Q6_K",
    "q5_k_m": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0",
    "q4_1": "LLAMA_FTYPE_MOSTLY_Q4_1",
    "bf16": "LLAMA_FTYPE_MOSTLY_BF16",
    "f16": "LLAMA_FTYPE_MOSTLY_F16",
    "f32": "LLAMA_FTYPE_ALL_F32",
    "source": "",
}
CONVERTER_ENV = "TANDEM_LLAMA_CPP_DIR"  # a llama.cpp checkout holding convert_hf_to_gguf.py


def source_gguf(model: str) -> tuple[Path, str]:
    """(the GGUF to start from, a short name) for a model setting; a Hugging Face folder
    is converted to an F16 GGUF first (cached)."""
    if model == SMOLLM2:
        return smollm2_gguf(), SMOLLM2
    path = Path(model).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise BackendError(f"the GGUF model {path} does not exist. Fix: set model.model")
        return path.resolve(), path.stem
    if path.is_dir() and (path / "config.json").is_file():
        return convert_hf_folder(path.resolve()), path.name
    raise BackendError(
        f"llama.cpp needs a GGUF file or a local Hugging Face folder; {model!r} is neither "
        "(a Hugging Face id is not converted). Fix: set model.model to a folder or a .gguf "
        "file, or use model.backend = transformers"
    )


def served_gguf(model: str, quantization: str) -> Path:
    """The GGUF llama.cpp loads for ``model`` at ``quantization``, made on first use."""
    if quantization not in QUANTIZATIONS:
        raise BackendError(
            f"unknown quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    source, name = source_gguf(model)
    if quantization == "source":
        return source
    target = cache_root() / f"{name}-{_file_hash(source)}-{quantization}.gguf"
    if not target.is_file():
        quantize(source, target, quantization)
    return target


def quantize(source: Path, target: Path, quantization: str) -> None:
    """llama.cpp's quantizer (re-quantizing a quantized source is allowed), written to a
    temporary name and renamed, so a crash never leaves a half file under the real name."""
    from server.backends.llamacpp_engine import llama_cpp_module

    lc = llama_cpp_module()
    params = lc.llama_model_quantize_default_params()
    params.ftype = getattr(lc, QUANTIZATIONS[quantization])
    params.allow_requantize = True
    params.nthread = max(1, len(os.sched_getaffinity(0)))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    t0 = time.perf_counter()
    try:
        code = lc.llama_model_quantize(
            str(source).encode(), str(tmp).encode(), ctypes.byref(params)
        )
        if code != 0 or not tmp.is_file():
            raise BackendError(
                f"llama.cpp could not quantize {source} to {quantization} (code {code}): the "
                "file may be corrupt. Fix: use model.quantization = source, or another model"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("quantized %s to %s in %.1f s", source.name, target, time.perf_counter() - t0)


def converter_script() -> Path | None:
    """llama.cpp's convert_hf_to_gguf.py, from $TANDEM_LLAMA_CPP_DIR or the venv's share/."""
    candidates = [
        os.environ.get(CONVERTER_ENV, ""),
        str(Path(sys.prefix) / "share/tandem/llama.cpp"),
    ]
    for folder in candidates:
        script = Path(folder) / "convert_hf_to_gguf.py" if folder else None
        if script is not None and script.is_file():
            return script
    return None


def convert_hf_folder(folder: Path) -> Path:
    """An F16 GGUF of a Hugging Face model folder, made once with llama.cpp's converter."""
    from server.backends.loader import weights_hash

    target = cache_root() / f"{folder.name}-{weights_hash(folder)}-f16-source.gguf"
    if target.is_file():
        return target
    script = converter_script()
    if script is None:
        raise BackendError(
            f"{folder} is a Hugging Face model and llama.cpp needs it as GGUF, but llama.cpp's "
            f"converter (convert_hf_to_gguf.py) was not found in ${CONVERTER_ENV} or "
            f"{Path(sys.prefix) / 'share/tandem/llama.cpp'}. Fix: `make setup`, or use "
            "model.backend = transformers"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        proc = subprocess.run(
            [sys.executable, str(script), str(folder), "--outfile", str(tmp), "--outtype", "f16"],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not tmp.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BackendError(
                f"llama.cpp's converter could not convert {folder}: {last}. Fix: use "
                "model.backend = transformers for this model"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
