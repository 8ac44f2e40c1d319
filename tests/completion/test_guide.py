"""Identifiers that exist: the names found at a cursor of the indexed shop workspace, and
the guide's logit bonus over SmolLM2's real tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from completion_support import WORKSPACE

from indexer.search import open_index
from server.context import build_context
from server.decoding import vocab_for
from server.decoding.guide import MEMBER_BIAS, IdentifierGuide, NameSets, receiver_before

NAMES = NameSets({"models": frozenset({"Item", "dataclass"})}, frozenset({"grand_total", "Cart"}))


def spelled(vocab: Any, logits: np.ndarray) -> set[str]:
    """The token pieces that got a bonus."""
    return {vocab.piece(int(i)).decode() for i in np.flatnonzero(logits)}


def test_after_a_module_dot_the_members_get_the_bonus(smollm2_tokenizer: Any) -> None:
    vocab = vocab_for(smollm2_tokenizer)
    guide = IdentifierGuide(vocab, NAMES, "item = models.")
    bonus = guide.adjust(np.zeros(len(vocab), dtype=np.float32))
    got = spelled(vocab, bonus)
    assert {"Item", "It", "data"} <= got and "name" not in got
    assert set(np.unique(bonus)) == {0.0, MEMBER_BIAS}
    guide.consume(b"Item")
    guide.consume(b"(")  # the identifier ended: no more bonus
    assert guide.target is None


def test_healed_dot_is_passed_before_the_member(smollm2_tokenizer: Any) -> None:
    vocab = vocab_for(smollm2_tokenizer)
    guide = IdentifierGuide(vocab, NAMES, "item = models.", heal=".")
    got = spelled(vocab, guide.adjust(np.zeros(len(vocab), dtype=np.float32)))
    assert ".It" in got or ".Item" in got or not vocab.plain_ids(b".It")
    guide.consume(b".")
    assert "Item" in spelled(vocab, guide.adjust(np.zeros(len(vocab), dtype=np.float32)))


def test_a_receiver_the_model_writes_arms_the_guide(smollm2_tokenizer: Any) -> None:
    vocab = vocab_for(smollm2_tokenizer)
    guide = IdentifierGuide(vocab, NAMES, "    return ")
    assert guide.target is None
    for piece in (b"models", b"."):
        guide.consume(piece)
    assert "Item" in spelled(vocab, guide.adjust(np.zeros(len(vocab), dtype=np.float32)))


def test_a_name_being_typed_leans_to_names_in_scope(smollm2_tokenizer: Any) -> None:
    vocab = vocab_for(smollm2_tokenizer)
    guide = IdentifierGuide(vocab, NAMES, "    return gra", heal="gra")
    got = spelled(vocab, guide.adjust(np.zeros(len(vocab), dtype=np.float32)))
    assert "grand" in got and "graph" not in got
    # A word that is already a whole name, or matches nothing, is left alone.
    assert IdentifierGuide(vocab, NAMES, "x = Cart").target is None
    assert IdentifierGuide(vocab, NAMES, "x = zz").target is None


def test_receiver_before() -> None:
    assert receiver_before(b"x = os.path.") == b"os.path"
    assert receiver_before(b"x = 1.") is None and receiver_before(b"x = f(") is None


def test_names_at_a_cursor_of_the_workspace(indexed_workspace: Path) -> None:
    added = "\nfrom shop import models\n\n\ndef f(cart: Cart):\n    cart."
    text = WORKSPACE["shop/report.py"] + added
    lines = text.split("\n")
    result = build_context(
        open_index(indexed_workspace),
        "shop/report.py",
        text,
        len(lines) - 1,
        len(lines[-1]),
        names=True,
    )
    names = result.names
    assert names is not None
    assert {"Item", "dataclass"} <= names.members["models"]  # a workspace module
    assert {"add", "total_cents", "items"} <= names.members["cart"]  # its type's members
    assert {"Cart", "Item", "receipt", "grand_total", "models"} <= names.scope
