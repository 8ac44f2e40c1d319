"""A model's tokenizer read straight from its ``tokenizer.json`` with ``tokenizers``.

Why: ``transformers.AutoTokenizer`` gives the same tokens but imports transformers and
builds Python-side copies of the vocabulary, about 100 MB more resident in a server that
only needs to encode, decode and look up tokens (llama.cpp serves the model). This class
offers the part of the Hugging Face tokenizer API the prompt and decoding layers use
(``encode``, ``__call__`` with offsets, ``decode``, ``convert_ids_to_tokens``, ``len``,
``get_vocab``, the special tokens and ``added_tokens_decoder``), with the same results:
a test compares it with AutoTokenizer token by token. ``supports(folder)`` says when a
folder can be read this way; otherwise the caller uses AutoTokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_SPECIAL_ATTRIBUTES = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")  # transformers' order


def _config(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _content(value: Any) -> str | None:
    """A special token as a config writes it: a string or ``{"content": ...}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def supports(folder: str | Path) -> bool:
    """A folder with ``tokenizer.json`` whose config asks for nothing this class does not
    do (a chat or slow-only tokenizer class, decoding clean-up, extra special tokens)."""
    root = Path(folder)
    config = _config(root)
    if config is None or not (root / "tokenizer.json").is_file():
        return False
    return (
        not config.get("clean_up_tokenization_spaces", False)
        and not config.get("additional_special_tokens")
        and not config.get("extra_special_tokens")
        and config.get("tokenizer_class")
        in ("TokenizersBackend", "PreTrainedTokenizerFast", "GPT2Tokenizer", "GPT2TokenizerFast")
    )


class FastTokenizer:
    """The Hugging Face tokenizer API subset Tandem uses, over ``tokenizers.Tokenizer``."""

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        root = Path(folder)
        config = _config(root) or {}
        self.backend_tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.backend_tokenizer.no_padding()
        self.backend_tokenizer.no_truncation()
        self.name_or_path = str(root)
        self.add_bos_token = bool(config.get("add_bos_token", False))
        self.add_eos_token = bool(config.get("add_eos_token", False))
        self.added_tokens_decoder = dict(self.backend_tokenizer.get_added_tokens_decoder())
        specials: list[str] = []
        for attribute in _SPECIAL_ATTRIBUTES:
            token = _content(config.get(f"{attribute}_token"))
            setattr(self, f"{attribute}_token", token)
            token_id = self.backend_tokenizer.token_to_id(token) if token is not None else None
            setattr(self, f"{attribute}_token_id", token_id)
            if token is not None and token not in specials:
                specials.append(token)
        self.all_special_tokens = specials
        self.all_special_ids = [self.backend_tokenizer.token_to_id(t) for t in specials]

    # transformers' special-token attributes, set in __init__ (typed here for mypy)
    bos_token: str | None
    eos_token: str | None
    unk_token: str | None
    pad_token: str | None
    bos_token_id: int | None
    eos_token_id: int | None
    unk_token_id: int | None
    pad_token_id: int | None

    def __len__(self) -> int:
        return int(self.backend_tokenizer.get_vocab_size(with_added_tokens=True))

    def get_vocab(self) -> dict[str, int]:
        return dict(self.backend_tokenizer.get_vocab(with_added_tokens=True))

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return list(self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def __call__(
        self, text: str, add_special_tokens: bool = True, return_offsets_mapping: bool = False
    ) -> dict[str, Any]:
        enc = self.backend_tokenizer.encode(text, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": list(enc.ids)}
        if return_offsets_mapping:
            out["offset_mapping"] = list(enc.offsets)
        return out

    def decode(self, ids: Sequence[int] | int, skip_special_tokens: bool = False) -> str:
        ids = [ids] if isinstance(ids, int) else [int(i) for i in ids]
        return str(self.backend_tokenizer.decode(ids, skip_special_tokens=skip_special_tokens))

    def convert_ids_to_tokens(self, ids: Sequence[int] | int) -> Any:
        if isinstance(ids, int):
            return self.backend_tokenizer.id_to_token(ids)
        return [self.backend_tokenizer.id_to_token(int(i)) for i in ids]

    def convert_tokens_to_ids(self, tokens: Sequence[str] | str) -> Any:
        if isinstance(tokens, str):
            return self.backend_tokenizer.token_to_id(tokens)
        return [self.backend_tokenizer.token_to_id(t) for t in tokens]
