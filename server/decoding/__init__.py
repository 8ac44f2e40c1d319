"""The decoding layer every logits backend shares: an engine turns token ids into logits,
``decode`` is the one generation loop (greedy or sampled pick, token-healing constraint,
identifier guidance, stop rules, cancellation, timings), ``Vocab`` is the token-text table
both constraints are built on.

Kept import-light (numpy only): torch or llama.cpp load in the engines.
"""

from server.decoding.engine import TokenEngine
from server.decoding.loop import decode
from server.decoding.vocab import Vocab, vocab_for

__all__ = ["TokenEngine", "Vocab", "decode", "vocab_for"]
