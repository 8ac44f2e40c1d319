"""Typed settings, read from LSP ``initializationOptions`` / ``workspace/configuration``
and from CLI flags. A bad value never fails: it is reported and replaced by its default.

The same names are the VS Code extension's ``tandem.*`` settings, e.g.
``{"model": {"backend": "retrieval"}, "completion": {"multiline": "never"}}``.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import cattrs


@dataclass
class IndexSettings:
    db: str | None = None  # any LanceDB URI (a folder, s3://, gs://, az://); default .tandem
    # A shared read-only base index (e.g. s3://bucket/repo, built by CI); the workspace's
    # own index then holds only the files that differ from it (the local delta).
    base: str | None = None
    # Object store options (endpoint, region, allow_http, credentials), over the standard
    # environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Never logged or stored.
    storage_options: dict[str, str] = field(default_factory=dict)
    consistency_s: float = 5.0  # a reader of a remote index sees new versions this late
    base_poll_s: float = 30.0  # how often the server looks for a newer base
    embedder: str = "minilm"  # minilm | none | a sentence-transformers name or path
    exclude: list[str] = field(default_factory=list)  # extra gitignore-style globs
    max_file_kb: int = 1024


@dataclass
class ModelSettings:
    # llamacpp (when installed; else transformers, said once) | transformers | openai | retrieval
    backend: str = "llamacpp"
    model: str = "smollm2"  # "smollm2" (bundled GGUF), a Hugging Face id, or a local path
    adapter: str | None = None  # a LoRA adapter folder (peft)
    template: str = "auto"  # auto | starcoder | qwen | deepseek | codellama | prefix
    device: str = "auto"  # auto | cpu | cuda
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = ""
    openai_api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable
    timeout_s: float = 10.0
    quantization: str = "q8_0"  # llamacpp: q8_0 | q6_k | q4_k_m | q4_0 | bf16 | f16 | source ...
    # llamacpp: the weights that read long prompts (then the KV cache is handed to the
    # quantization above for decoding): auto = bf16 where llama.cpp has AVX512-BF16 (a
    # 730-token prompt ~1.35x faster than q8_0, bits per token equal to f32), else none.
    prompt_quantization: str = "auto"
    # llamacpp with an adapter: merge = merged into a copy of the weights (made once per
    # adapter; decodes at the base model's speed) | hot = loaded beside them at run time
    lora: str = "merge"
    threads: int = 0  # llamacpp: 0 = one per core
    dtype: str = "auto"  # transformers: auto (bf16 where the CPU has it) | float32 | bfloat16


@dataclass
class CompletionSettings:
    enabled: bool = True
    multiline: str = "auto"  # auto | always | never
    max_tokens: int = 48
    snippet_tokens: int = 384  # budget for retrieved snippets, in the model's tokens
    prefix_tokens: int = 384
    suffix_tokens: int = 96
    snippets: int = 6
    debounce_ms: int = 60
    # Cut the prompt back to a token boundary before the cursor and make the first
    # generated tokens re-type what was cut (a partial word, indentation, a space).
    token_healing: bool = True
    # Bias an identifier the model starts towards the names that exist there (the
    # module's members after ``module.``, the names in scope while one is typed).
    guided_identifiers: bool = True


@dataclass
class Settings:
    index: IndexSettings = field(default_factory=IndexSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)


_converter = cattrs.Converter(forbid_extra_keys=True)

# llama.cpp weight formats a GGUF can be made in; "source" keeps the bundled file as it is.
QUANTIZATIONS = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q4_1", "bf16", "f16", "f32", "source")

_ALLOWED: dict[tuple[str, str], tuple[str, ...]] = {
    ("model", "backend"): ("llamacpp", "transformers", "openai", "retrieval"),
    ("model", "dtype"): ("auto", "float32", "bfloat16"),
    ("model", "quantization"): QUANTIZATIONS,
    ("model", "prompt_quantization"): ("auto", "none", *QUANTIZATIONS),
    ("model", "lora"): ("merge", "hot"),
    ("model", "template"): ("auto", "starcoder", "qwen", "deepseek", "codellama", "prefix"),
    ("model", "device"): ("auto", "cpu", "cuda"),
    ("completion", "multiline"): ("auto", "always", "never"),
}


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from untrusted JSON, field by field: each bad value is named in an error
    message and left at its default, so one typo never discards the rest."""
    settings = Settings()
    errors: list[str] = []
    if raw is None:
        return settings, errors
    if not isinstance(raw, dict):
        return settings, [f"settings must be an object, got {type(raw).__name__}"]
    for section_field in dataclasses.fields(Settings):
        section_name = section_field.name
        section_raw = raw.get(section_name)
        if section_raw is None:
            continue
        section = getattr(settings, section_name)
        if not isinstance(section_raw, dict):
            errors.append(f"{section_name}: expected an object")
            continue
        known = {f.name: f for f in dataclasses.fields(section)}
        for key, value in section_raw.items():
            f = known.get(key)
            if f is None:
                errors.append(f"{section_name}.{key}: unknown setting (ignored)")
                continue
            try:
                converted = _converter.structure(value, f.type)  # type: ignore[arg-type]
            except Exception:
                default = getattr(section, key)
                errors.append(
                    f"{section_name}.{key}: {value!r} is not a valid {f.type}; "
                    f"using the default {default!r}"
                )
                continue
            allowed = _ALLOWED.get((section_name, key))
            if allowed and converted not in allowed:
                default = getattr(section, key)
                errors.append(
                    f"{section_name}.{key}: {value!r} is not one of {', '.join(allowed)}; "
                    f"using the default {default!r}"
                )
                continue
            setattr(section, key, converted)
    for key in raw:
        if key not in {f.name for f in dataclasses.fields(Settings)}:
            errors.append(f"{key}: unknown settings section (ignored)")
    return settings, errors
