"""Fill-in-the-middle templates of the main code-model families, and how to pick one.

Each template says how to wrap prefix and suffix, how to show retrieved snippets (as other
files of the repository when the model has repo-level tokens, else as code under a comment
naming the path), and which strings end a completion.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    fim_prefix: str = ""  # "" = prefix-only (no fill-in-the-middle)
    fim_suffix: str = ""
    fim_middle: str = ""
    repo_name: str = ""  # repo-level header token, e.g. "<|repo_name|>"
    file_sep: str = ""  # starts another file: "<|file_sep|>path\ncode"
    filename: str = ""  # StarCoder-1 style "<filename>path\ncode" when there is no file_sep
    stop: tuple[str, ...] = ()
    codellama_spacing: bool = False  # "<PRE> prefix <SUF>suffix <MID>"

    @property
    def fim(self) -> bool:
        return bool(self.fim_prefix)


STARCODER = Template(
    "starcoder",
    "<fim_prefix>",
    "<fim_suffix>",
    "<fim_middle>",
    repo_name="<repo_name>",
    file_sep="<file_sep>",
    filename="<filename>",
    stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>"),
)
QWEN = Template(
    "qwen",
    "<|fim_prefix|>",
    "<|fim_suffix|>",
    "<|fim_middle|>",
    repo_name="<|repo_name|>",
    file_sep="<|file_sep|>",
    stop=(
        "<|endoftext|>",
        "<|file_sep|>",
        "<|fim_pad|>",
        "<|repo_name|>",
        "<|im_end|>",
        "<|fim_prefix|>",
    ),
)
DEEPSEEK = Template(
    "deepseek",
    "<｜fim▁begin｜>",
    "<｜fim▁hole｜>",
    "<｜fim▁end｜>",
    stop=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>"),
)
CODELLAMA = Template(
    "codellama",
    "<PRE>",
    "<SUF>",
    "<MID>",
    stop=("<EOT>", "</s>"),
    codellama_spacing=True,
)
PREFIX = Template(
    "prefix",
    repo_name="<repo_name>",
    file_sep="<file_sep>",
    filename="<filename>",
    stop=("<|endoftext|>", "<file_sep>", "<repo_name>", "<filename>", "<|im_end|>"),
)

TEMPLATES: dict[str, Template] = {t.name: t for t in (STARCODER, QWEN, DEEPSEEK, CODELLAMA, PREFIX)}


_vocab_cache: weakref.WeakKeyDictionary[Any, tuple[int, frozenset[str]]] = (
    weakref.WeakKeyDictionary()
)


def _vocab(tokenizer: Any) -> frozenset[str]:
    """The tokenizer's vocabulary (memoised: building it costs ~50 ms for 49k tokens)."""
    size = len(tokenizer) if hasattr(tokenizer, "__len__") else -1
    try:
        cached = _vocab_cache.get(tokenizer)
    except TypeError:  # not weak-referenceable
        cached = None
    if cached is not None and cached[0] == size:
        return cached[1]
    try:
        words = set(tokenizer.get_vocab())
    except Exception:
        words = set()
    for attr in ("all_special_tokens", "additional_special_tokens"):
        words.update(getattr(tokenizer, attr, None) or ())
    vocab = frozenset(words)
    with contextlib.suppress(TypeError):
        _vocab_cache[tokenizer] = (size, vocab)
    return vocab


def detect_template(tokenizer: Any) -> str:
    """The template whose special tokens the tokenizer has; "prefix" when it has none."""
    vocab = _vocab(tokenizer)
    if "<|fim_prefix|>" in vocab:
        return "qwen"
    if "<fim_prefix>" in vocab:
        return "starcoder"
    if "<｜fim▁begin｜>" in vocab:
        return "deepseek"
    if "▁<PRE>" in vocab or "<PRE>" in vocab:
        return "codellama"
    return "prefix"


def template_for_name(model_name: str) -> str:
    """A guess from a model's name, for remote models whose tokenizer we do not have."""
    name = model_name.lower()
    for needle, template in (
        ("qwen", "qwen"),
        ("starcoder", "starcoder"),
        ("deepseek", "deepseek"),
        ("codellama", "codellama"),
        ("code-llama", "codellama"),
    ):
        if needle in name:
            return template
    return "prefix"


def resolve_template(name: str, tokenizer: Any) -> Template:
    """The template named ``name``, with the repo-level tokens this tokenizer lacks
    switched off (so they are never spelled out as plain text)."""
    template = TEMPLATES.get(name)
    if template is None:
        raise ValueError(f"unknown template {name!r}: one of {', '.join(TEMPLATES)}")
    vocab = _vocab(tokenizer)
    if not vocab:  # an approximate tokenizer (remote model): trust the family's tokens
        return template
    from dataclasses import replace

    return replace(
        template,
        repo_name=template.repo_name if template.repo_name in vocab else "",
        file_sep=template.file_sep if template.file_sep in vocab else "",
        filename=template.filename if template.filename in vocab else "",
        stop=tuple(s for s in template.stop if s in vocab) or template.stop,
    )
