"""Token healing: end the prompt at a token boundary the model has seen in training.

A prompt that ends where the cursor is usually ends mid-token: in the line's indentation
(``"\n    "`` is one token that, in training, was followed by a newline rather than code),
after a space (code tokens carry their leading space: `` x``), or inside a word (``sett``
then ``ings``). The model then continues as if the token had ended. The cure: cut the last
token(s) off the prompt, and make the first generated tokens re-type the cut text (the
decode loop's prefix constraint, or the check of a text-only backend's answer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_CUT_TOKENS = 3  # each cut token costs one generation step
_WORD_TAIL = re.compile(r"\w+$")
_HSPACE = (" ", "\t")


@dataclass(frozen=True, slots=True)
class HealCut:
    tokens: int  # how many tokens come off the end of the prefix's ids
    text: str  # the text they stood for: the answer must start with it
    then_nonspace: bool  # the cut ended in typed whitespace: no more whitespace after it


NO_CUT = HealCut(0, "", False)


def _token_lengths(tokenizer: Any, text: str, ids: list[int], k: int) -> list[int] | None:
    """Byte lengths of the last ``k`` tokens of ``text`` (encoded as ``ids``), last first."""
    if hasattr(tokenizer, "offsets"):  # the approximate tokenizer of remote models
        spans = tokenizer.offsets(text)[-k:]
        return [len(text[a:b].encode("utf-8")) for a, b in reversed(spans)]
    from server.decoding.vocab import vocab_for

    vocab = vocab_for(tokenizer)
    return [len(vocab.piece(i)) for i in reversed(ids[-k:])]


def heal_cut(tokenizer: Any, prefix: str, ids: list[int]) -> HealCut:
    """The tokens to cut off the end of ``prefix`` (tokenised alone as ``ids``): the last
    one, and back to the start of the word being typed (at most ``MAX_CUT_TOKENS``)."""
    if not prefix or not ids:
        return NO_CUT
    k_max = min(MAX_CUT_TOKENS, len(ids))
    lengths = _token_lengths(tokenizer, prefix, ids, k_max)
    if not lengths:
        return NO_CUT
    raw = prefix.encode("utf-8")
    word = _WORD_TAIL.search(prefix)
    word_bytes = len(word.group().encode("utf-8")) if word else 0
    cut = 0
    for k, n in enumerate(lengths, start=1):
        cut += n
        if cut > len(raw):
            return NO_CUT
        if k == len(lengths) or cut >= word_bytes:
            try:
                text = raw[len(raw) - cut :].decode("utf-8")
            except UnicodeDecodeError:  # a token boundary inside a character: cut more
                continue
            return HealCut(k, text, text.endswith(_HSPACE))
    return NO_CUT
