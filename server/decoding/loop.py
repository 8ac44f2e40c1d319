"""The one generation loop, shared by every backend that has logits.

Greedy (or sampled) picks over an engine's logits, with the rules every completion needs:
the token-healing constraint (the first tokens must re-type the text the prompt builder
cut off at the cursor, and the answer starts after it), identifier guidance (a bonus for
the tokens that spell names that exist, see ``guide``), stop at end-of-text, at a stop
string, at the first newline in single-line mode, once the answer holds a loop that
post-processing will cut (``has_settled_loop``) and after ``max_tokens``; the cancel
Event is checked before the prompt is read and between tokens.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from server.backends.base import Generation, GenerationParams
from server.decoding.guide import IdentifierGuide
from server.decoding.healing import HealingConstraint
from server.postprocess.repetition import has_settled_loop

if TYPE_CHECKING:
    from server.decoding.engine import TokenEngine
    from server.decoding.vocab import Vocab
    from server.prompt import Prompt

_HEAL_RESERVE = 8  # context positions kept free for the tokens that re-type the cut text
# Tokens between checks for a loop post-processing will cut (a check is ~0.3 ms, a token
# ~10): a small model looping inside a line wrote all 48 tokens it was allowed, then lost
# most of them to ``cut_segment_loops``; typing forward, those were the slowest requests.
LOOP_CHECK_EVERY = 4


def _pick(
    logits: np.ndarray, temperature: float, allowed: np.ndarray | None, rng: np.random.Generator
) -> int:
    if allowed is not None:
        allowed = allowed[allowed < logits.shape[0]]
        if allowed.size == 0:
            allowed = None
    scores = logits if allowed is None else logits[allowed]
    if temperature <= 0:
        k = int(np.argmax(scores))
    else:
        z = scores.astype(np.float64) / temperature
        z = np.exp(z - z.max())
        k = int(rng.choice(len(z), p=z / z.sum()))
    return k if allowed is None else int(allowed[k])


def decode(
    engine: TokenEngine,
    vocab: Vocab,
    prompt: Prompt,
    params: GenerationParams,
    cancel: threading.Event | None = None,
) -> Generation:
    """Continue ``prompt`` with ``engine``; the caller holds the engine for the duration."""
    t0 = time.perf_counter()
    ids = list(prompt.ids)
    heal = HealingConstraint(vocab, prompt.heal, prompt.heal_then_nonspace) if prompt.heal else None
    guide = (
        IdentifierGuide(vocab, prompt.names, prompt.prefix, prompt.heal) if prompt.names else None
    )
    guide_s = heal_s = 0.0  # the constraints' own time (the latency budget's share)
    room = engine.max_context - params.max_tokens - (_HEAL_RESERVE if heal else 0)
    if len(ids) > room:  # the budget should prevent this; never overflow the model
        ids = ids[-room:]
    if not ids:
        return Generation(text="", finish_reason="error", error="empty prompt")
    stop_ids = set(engine.eos_ids)
    for s in params.stop:
        stop_ids |= vocab.ids_of(s)
    rng = np.random.default_rng()
    gen = Generation(text="", prompt_tokens=len(ids))
    new: list[int] = []
    out = bytearray()  # the answer: what the tokens say past the cut text
    try:
        if cancel is not None and cancel.is_set():
            gen.finish_reason = "cancelled"
            return gen
        logits, gen.reused_tokens = engine.prefill(ids)
        while True:
            allowed = None
            if heal is not None and heal.active:
                th = time.perf_counter()
                allowed = heal.allowed()
                heal_s += time.perf_counter() - th
            if guide is not None and guide.target is not None:
                tg = time.perf_counter()
                logits = guide.adjust(logits)
                guide_s += time.perf_counter() - tg
            token = _pick(logits, params.temperature, allowed, rng)
            if not new:
                gen.first_token_ms = (time.perf_counter() - t0) * 1000
            if token in stop_ids:
                gen.finish_reason = "eos"
                break
            new.append(token)
            piece = vocab.piece(token)
            out += heal.consume(piece) if heal is not None and allowed is not None else piece
            if guide is not None:
                tg = time.perf_counter()
                guide.consume(piece)
                guide_s += time.perf_counter() - tg
            text = out.decode("utf-8", errors="replace")
            hit = next((s for s in params.stop if s in text), None)
            if hit is not None:
                gen.text = text[: text.index(hit)]
                gen.finish_reason = "stop"
                break
            gen.text = text
            if not params.multiline and "\n" in text:
                gen.text = text[: text.index("\n")]
                gen.finish_reason = "newline"
                break
            if len(new) % LOOP_CHECK_EVERY == 0 and has_settled_loop(gen.text):
                gen.finish_reason = "loop"
                break
            if len(new) - (heal.tokens if heal else 0) >= params.max_tokens:
                gen.finish_reason = "length"
                break
            if cancel is not None and cancel.is_set():
                gen.finish_reason = "cancelled"
                break
            logits = engine.step(token)
    except Exception as e:  # a broken cache or model must not kill the server
        engine.reset()
        gen.error = f"{type(e).__name__}: {e}"
        gen.finish_reason = "error"
    gen.new_tokens = len(new)
    if heal is not None:
        gen.extra["healed_tokens"] = float(heal.tokens)
        gen.extra["heal_ms"] = heal_s * 1000
    if guide is not None:
        gen.extra["guided_tokens"] = float(guide.steps)
        gen.extra["guide_ms"] = guide_s * 1000
    gen.model_ms = (time.perf_counter() - t0) * 1000
    return gen
