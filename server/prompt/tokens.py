"""Counting and cutting text in a model's own tokens."""

from __future__ import annotations

import re
import weakref
import zlib
from collections import OrderedDict
from typing import Any

_PIECE = re.compile(r"[A-Za-z]{1,5}|\d{1,3}| ?[^\sA-Za-z\d]|\n|[ \t]+")


class ApproxTokenizer:
    """Stands in for a remote model's tokenizer, which we do not have: splits text into
    word pieces of at most five letters, close to what code BPEs produce."""

    def get_vocab(self) -> dict[str, int]:
        return {}

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [zlib.crc32(m.group().encode()) % 50000 for m in _PIECE.finditer(text)]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _PIECE.finditer(text)]


def encode(tokenizer: Any, text: str) -> list[int]:
    if not text:
        return []
    return list(tokenizer.encode(text, add_special_tokens=False))


def offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """Character span of each token of ``text``."""
    if isinstance(tokenizer, ApproxTokenizer):
        return tokenizer.offsets(text)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    return [(int(a), int(b)) for a, b in enc["offset_mapping"]]


_CACHE_SIZE = 512
_caches: weakref.WeakKeyDictionary[Any, OrderedDict[str, list[int]]] = weakref.WeakKeyDictionary()


def encode_cached(tokenizer: Any, text: str) -> list[int]:
    """``encode`` memoised per tokenizer for texts that recur request after request
    (rendered snippets while the user types)."""
    try:
        cache = _caches.setdefault(tokenizer, OrderedDict())
    except TypeError:  # not weak-referenceable
        return encode(tokenizer, text)
    ids = cache.get(text)
    if ids is None:
        ids = encode(tokenizer, text)
        cache[text] = ids
        if len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(text)
    return list(ids)


def count(tokenizer: Any, text: str) -> int:
    return len(encode(tokenizer, text))
