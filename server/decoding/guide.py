"""Identifiers that exist: monitor-guided decoding over the model's own tokens.

Where the context says which names can follow (after ``module.`` of a workspace module,
``self.`` in a class, ``Class.``; a name being typed that starts like names in scope),
the tokens that spell one of those names get a logit bonus while the identifier is being
written (Agrawal et al., "Guiding Language Models of Code with Global Context using
Monitors", NeurIPS 2023). A bonus rather than a hard mask: a name the index does not know
(a new local, an attribute set elsewhere) stays possible when the model is sure of it.

The names are plain data (``NameSets``) made by the context builder; the guide follows the
text as it is generated and costs a few dictionary lookups per token while it is active.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from server.decoding.vocab import Vocab

MEMBER_BIAS = 6.0  # after `receiver.`: the names are what the receiver has
SCOPE_BIAS = 3.0  # a name being typed: likely one in scope, but it may be a new one
_TAIL_BYTES = 256


def _is_ident(b: int) -> bool:
    return b >= 0x80 or b == 0x5F or 0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A


def _ident_run(data: bytes) -> int:
    """Length of the identifier bytes ``data`` starts with."""
    n = 0
    while n < len(data) and _is_ident(data[n]):
        n += 1
    return n


def _trailing_ident(data: bytes) -> bytes:
    n = len(data)
    while n and _is_ident(data[n - 1]):
        n -= 1
    return data[n:]


def receiver_before(data: bytes) -> bytes | None:
    """The dotted chain before a final ``.`` (``b"models"`` for ``x = models.``)."""
    if not data.endswith(b"."):
        return None
    end = len(data) - 1
    start = end
    while start and (_is_ident(data[start - 1]) or data[start - 1] == 0x2E):
        start -= 1
    chain = data[start:end].strip(b".")
    return chain if chain and not chain[:1].isdigit() else None


@dataclass(frozen=True, slots=True)
class NameSets:
    """Which names can follow where, for one cursor: ``members`` maps a receiver as
    written (``"models"``, ``"self"``, ``"Item"``) to the names after ``receiver.``;
    ``scope`` holds the names in scope (imports, the file's definitions, the snippets')."""

    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scope: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.members) or bool(self.scope)


@dataclass(slots=True)
class _Target:
    names: list[bytes]  # sorted
    bias: float
    ident: bytes = b""  # the identifier written so far
    skip: bytes = b""  # healed text to pass before the identifier starts


class IdentifierGuide:
    """Follows one generation; ``adjust`` raises the logits of the tokens that continue
    a known name, ``consume`` advances over the chosen token."""

    def __init__(self, vocab: Vocab, names: NameSets, prefix: str, heal: str = "") -> None:
        self.vocab = vocab
        self._members = {
            k.encode(): sorted(n.encode() for n in v) for k, v in names.members.items()
        }
        self._scope = sorted(n.encode() for n in names.scope)
        before = prefix.encode("utf-8")[-_TAIL_BYTES:]
        cut = heal.encode("utf-8")
        self.tail = before[: len(before) - len(cut)] if cut else before
        self.target = self._at_cursor(before, cut)
        self.steps = 0  # tokens generated while a target was active
        self._cache: dict[tuple[int, bytes, bytes], np.ndarray] = {}

    def _at_cursor(self, before: bytes, cut: bytes) -> _Target | None:
        word = _trailing_ident(before)
        head = before[: len(before) - len(word)]
        chain = receiver_before(head)
        if chain is not None and chain in self._members:
            names, bias = self._members[chain], MEMBER_BIAS
        elif word:
            names, bias = self._scope, SCOPE_BIAS
        else:
            return None
        names = _with_prefix(names, word)
        if not names or word in names:  # nothing known, or the word is already a name
            return None
        if len(cut) >= len(word):  # the healed tokens re-type the whole word
            return _Target(names, bias, b"", cut[: len(cut) - len(word)])
        return _Target(names, bias, word[: len(word) - len(cut)])

    def adjust(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with the bonus for the tokens that continue a known name."""
        t = self.target
        if t is None:
            return logits
        self.steps += 1
        ids = self._candidates(t)
        ids = ids[ids < logits.shape[0]]
        if ids.size == 0:
            return logits
        out = logits.copy()
        out[ids] += t.bias
        return out

    def _candidates(self, t: _Target) -> np.ndarray:
        key = (id(t.names), t.ident, t.skip)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        found: set[int] = set()
        for name in _with_prefix(t.names, t.ident):
            rest = name[len(t.ident) :]
            for k in range(1, len(rest) + 1):
                found.update(self.vocab.plain_ids(t.skip + rest[:k]))
        ids = np.fromiter(found, dtype=np.int64, count=len(found))
        self._cache[key] = ids
        return ids

    def consume(self, piece: bytes) -> None:
        """Advance over the chosen token: the identifier grows, or it ended (then a new
        ``receiver.`` may start another)."""
        t = self.target
        if t is not None:
            rest = piece
            if t.skip:
                if rest.startswith(t.skip):
                    rest, t.skip = rest[len(t.skip) :], b""
                elif t.skip.startswith(rest):
                    rest, t.skip = b"", t.skip[len(rest) :]
                else:
                    self.target = t = None
            if t is not None and rest:
                n = _ident_run(rest)
                t.ident += rest[:n]
                if n < len(rest) or not _with_prefix(t.names, t.ident):
                    self.target = None
        self.tail = (self.tail + piece)[-_TAIL_BYTES:]
        if self.target is None:
            chain = receiver_before(self.tail)
            if chain is not None and chain in self._members:
                self.target = _Target(self._members[chain], MEMBER_BIAS)


def _with_prefix(names: list[bytes], prefix: bytes) -> list[bytes]:
    """The names (sorted) that start with ``prefix``."""
    if not prefix:
        return names
    lo = bisect.bisect_left(names, prefix)
    hi = lo
    while hi < len(names) and names[hi].startswith(prefix):
        hi += 1
    return names[lo:hi]
