"""Token id -> the bytes it stands for, and the id sets the decoding constraints ask for.

Built once per tokenizer (about 0.1 s for 49k tokens) and cached. Pieces are bytes, not
text: a byte-level BPE token may hold half of a UTF-8 character, and healing compares
byte strings. Special tokens (end-of-text, FIM markers) are never allowed by a constraint.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

_WHITESPACE = frozenset(b" \t\r\n\x0b\x0c")
_CONSTRAINT_CACHE = 256


class Vocab:
    """The bytes of every token id, with sorted views for prefix queries."""

    def __init__(self, pieces: Sequence[bytes], special: Iterable[int] = ()) -> None:
        self.pieces: list[bytes] = list(pieces)
        self.special: frozenset[int] = frozenset(special)
        plain = [
            (piece, i) for i, piece in enumerate(self.pieces) if piece and i not in self.special
        ]
        plain.sort()
        self._sorted = [p for p, _ in plain]
        self._sorted_ids = np.array([i for _, i in plain], dtype=np.int64)
        self._by_piece: dict[bytes, list[int]] = {}
        for piece, i in plain:
            self._by_piece.setdefault(piece, []).append(i)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[bytes, bool], np.ndarray] = OrderedDict()
        self._nonspace: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.pieces)

    def piece(self, token: int) -> bytes:
        return self.pieces[token] if 0 <= token < len(self.pieces) else b""

    def text(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (an incomplete UTF-8 character shows as U+FFFD)."""
        return b"".join(self.piece(i) for i in ids).decode("utf-8", errors="replace")

    def ids_of(self, text: str) -> set[int]:
        """Every id whose piece is exactly ``text``, special tokens included (stop tokens)."""
        raw = text.encode("utf-8")
        found = set(self._by_piece.get(raw, ()))
        found.update(i for i in self.special if self.pieces[i] == raw)
        return found

    def plain_ids(self, piece: bytes) -> list[int]:
        """The plain (not special) token ids whose piece is exactly ``piece``."""
        return self._by_piece.get(piece, [])

    def with_prefix(self, prefix: bytes) -> np.ndarray:
        """Ids of the plain tokens whose piece starts with ``prefix`` (a sorted range)."""
        lo = bisect.bisect_left(self._sorted, prefix)
        hi = lo
        upper = _successor(prefix)
        hi = len(self._sorted) if upper is None else bisect.bisect_left(self._sorted, upper)
        return self._sorted_ids[lo:hi]

    def extending(self, pending: bytes, then_nonspace: bool = False) -> np.ndarray:
        """Ids of the plain tokens that agree with ``pending``: a piece that is a prefix of
        it (consumes part of it) or starts with it (consumes it all). With
        ``then_nonspace``, a piece running past ``pending`` must continue with a
        non-whitespace byte. Memoised: the same pending text recurs keystroke after
        keystroke."""
        key = (pending, then_nonspace)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        longer = self.with_prefix(pending)
        if then_nonspace:
            n = len(pending)
            longer = np.array(
                [
                    i
                    for i in longer.tolist()
                    if len(self.pieces[i]) == n or self.pieces[i][n] not in _WHITESPACE
                ],
                dtype=np.int64,
            )
        shorter = [i for k in range(1, len(pending)) for i in self._by_piece.get(pending[:k], ())]
        ids = np.concatenate([longer, np.array(shorter, dtype=np.int64)]) if shorter else longer
        with self._lock:
            self._cache[key] = ids
            if len(self._cache) > _CONSTRAINT_CACHE:
                self._cache.popitem(last=False)
        return ids

    def nonspace(self) -> np.ndarray:
        """Ids of the plain tokens that start with a non-whitespace byte."""
        if self._nonspace is None:
            self._nonspace = np.array(
                [i for i in self._sorted_ids.tolist() if self.pieces[i][0] not in _WHITESPACE],
                dtype=np.int64,
            )
        return self._nonspace


def _successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with ``prefix``."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


# -- building one from a Hugging Face tokenizer ----------------------------------------

_cache_lock = threading.Lock()
_vocabs: weakref.WeakKeyDictionary[Any, Vocab] = weakref.WeakKeyDictionary()


def vocab_for(tokenizer: Any) -> Vocab:
    """The ``Vocab`` of a Hugging Face tokenizer, built once and cached per tokenizer."""
    with _cache_lock, contextlib.suppress(TypeError):
        cached = _vocabs.get(tokenizer)
        if cached is not None and len(cached) == len(tokenizer):
            return cached
    pieces, special = _hf_pieces(tokenizer)
    vocab = Vocab(pieces, special)
    with _cache_lock, contextlib.suppress(TypeError):
        _vocabs[tokenizer] = vocab
    return vocab


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, inverted: printable stand-in character -> byte."""
    keep = list(range(ord("!"), ord("~") + 1))
    keep += list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars = list(keep)
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(keep, chars, strict=True)}


def _hf_pieces(tokenizer: Any) -> tuple[list[bytes], set[int]]:
    size = len(tokenizer)
    tokens: list[str | None] = list(tokenizer.convert_ids_to_tokens(list(range(size))))
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    special = {int(i) for i, tok in added.items() if getattr(tok, "special", False)}
    special.update(int(i) for i in getattr(tokenizer, "all_special_ids", []) or [])
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = repr(getattr(backend, "decoder", None)) if backend is not None else ""
    pieces: list[bytes] = []
    if "ByteLevel" in decoder:
        table = _byte_decoder()
        for i, tok in enumerate(tokens):
            if tok is None:
                pieces.append(b"")
            elif i in added:
                pieces.append(tok.encode("utf-8"))
            else:
                try:
                    pieces.append(bytes(table[c] for c in tok))
                except KeyError:  # not a byte-level spelling: take the tokenizer's word
                    pieces.append(tokenizer.decode([i]).encode("utf-8"))
    elif "Metaspace" in decoder or "▁" in decoder:  # SentencePiece with byte fallback
        for i, tok in enumerate(tokens):
            if tok is None:
                pieces.append(b"")
            elif i in added:
                pieces.append(tok.encode("utf-8"))
            elif len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">"):
                pieces.append(bytes([int(tok[3:5], 16)]))
            else:
                pieces.append(tok.replace("▁", " ").encode("utf-8"))
    else:  # unknown scheme: ask the tokenizer, token by token (slow, but exact)
        pieces = [tokenizer.decode([i]).encode("utf-8") for i in range(size)]
    return pieces, special
