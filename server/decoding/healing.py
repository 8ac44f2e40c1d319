"""The decode loop's side of token healing: the first tokens must re-type the text the
prompt builder cut off (``Prompt.heal``); only what comes after it is the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from server.decoding.vocab import Vocab


class HealingConstraint:
    """What the first tokens must still re-type (``pending``), and whether the first byte
    after it must be non-whitespace (the cut ended in the whitespace the user typed)."""

    def __init__(self, vocab: Vocab, heal: str, then_nonspace: bool) -> None:
        self.vocab = vocab
        self.pending = heal.encode("utf-8")
        self.then_nonspace = then_nonspace
        self.need_nonspace = False
        self.tokens = 0

    @property
    def active(self) -> bool:
        return bool(self.pending) or self.need_nonspace

    def allowed(self) -> np.ndarray:
        if self.pending:
            return self.vocab.extending(self.pending, self.then_nonspace)
        return self.vocab.nonspace()

    def consume(self, piece: bytes) -> bytes:
        """Take ``piece`` against the pending text; returns the part of it past the cut."""
        if not self.pending:  # the non-whitespace step: already part of the answer
            self.need_nonspace = False
            return piece
        self.tokens += 1
        if piece.startswith(self.pending):
            rest = piece[len(self.pending) :]
            self.pending = b""
            self.need_nonspace = self.then_nonspace and not rest
            return rest
        self.pending = self.pending[len(piece) :]  # a prefix of it (the constraint said so)
        return b""


def heal_answer(text: str, heal: str, then_nonspace: bool) -> str | None:
    """A text-only backend's answer to a healed prompt, without the re-typed cut: the same
    rule as the constraint, checked afterwards. None when the answer contradicts what the
    user typed (it neither re-types the cut nor, for a whitespace cut, starts a word)."""
    if text.startswith(heal):
        rest = text[len(heal) :]
        return rest.lstrip(" \t") if then_nonspace else rest
    if heal.startswith(text):  # stopped before re-typing it all
        return ""
    if not heal.strip() and text[:1] and not text[:1].isspace():
        return text  # the model skipped the whitespace the user typed: keep its word
    return None
