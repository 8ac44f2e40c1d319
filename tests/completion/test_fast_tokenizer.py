"""The served model's tokenizer read with ``tokenizers`` alone gives exactly what
transformers' AutoTokenizer gives: tokens, offsets, text, vocabulary, special tokens, and
so the same prompts, token healing and byte pieces (``vocab_for``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.backends.fast_tokenizer import FastTokenizer, supports
from server.backends.loader import smollm2_tokenizer_dir
from server.context import Snippet
from server.decoding.vocab import vocab_for
from server.prompt import Budgets, build_prompt
from server.prompt.tokens import offsets

TEXTS = [
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return ",
    "  x = {'a': [1, 2.5e-3]}  # naïve café ✓ 😀\r\n\tpass",
    "<|endoftext|>class A:<|im_start|> pass<file_sep>",
    "",
    "    \n\n\n",
]


@pytest.fixture(scope="module")
def both(smollm2_tokenizer: Any) -> tuple[FastTokenizer, Any]:
    folder = smollm2_tokenizer_dir()
    assert supports(folder)
    return FastTokenizer(folder), smollm2_tokenizer


def test_tokens_offsets_and_text_are_transformers(both: tuple[FastTokenizer, Any]) -> None:
    fast, hf = both
    for text in TEXTS:
        for special in (False, True):
            assert fast.encode(text, add_special_tokens=special) == hf.encode(
                text, add_special_tokens=special
            )
        assert offsets(fast, text) == offsets(hf, text)
        ids = hf.encode(text, add_special_tokens=False)
        for skip in (False, True):
            assert fast.decode(ids, skip_special_tokens=skip) == hf.decode(
                ids, skip_special_tokens=skip
            )


def test_vocabulary_and_special_tokens_are_transformers(both: tuple[FastTokenizer, Any]) -> None:
    fast, hf = both
    assert len(fast) == len(hf)
    assert fast.get_vocab() == hf.get_vocab()
    every = list(range(len(hf)))
    assert fast.convert_ids_to_tokens(every) == hf.convert_ids_to_tokens(every)
    for name in ("bos", "eos", "unk", "pad"):
        assert getattr(fast, f"{name}_token") == getattr(hf, f"{name}_token")
        assert getattr(fast, f"{name}_token_id") == getattr(hf, f"{name}_token_id")
    assert sorted(fast.all_special_ids) == sorted(hf.all_special_ids)
    assert fast.add_bos_token == bool(getattr(hf, "add_bos_token", False))
    assert {i: t.special for i, t in fast.added_tokens_decoder.items()} == {
        i: t.special for i, t in hf.added_tokens_decoder.items()
    }
    assert vocab_for(fast).pieces == vocab_for(hf).pieces
    assert vocab_for(fast).special == vocab_for(hf).special


def test_prompts_and_healing_are_transformers(both: tuple[FastTokenizer, Any]) -> None:
    fast, hf = both
    prefix = "import os\n\n\ndef read_lines(path):\n    with open(path) as f:\n        return f.rea"
    budgets = Budgets(prefix_tokens=64, suffix_tokens=16, snippet_tokens=48)
    snippet = Snippet(
        "util.py", 1, 2, "def read_all(p):\n    return open(p).read()\n", 1.0, "bm25", "similar"
    )
    for template in ("starcoder", "prefix"):
        a = build_prompt(fast, template, prefix, "\n", [snippet], budgets, heal=True, repo="r")
        b = build_prompt(hf, template, prefix, "\n", [snippet], budgets, heal=True, repo="r")
        assert (a.ids, a.heal, a.text) == (b.ids, b.heal, b.text)
        assert a.snippets_used == 1


def test_a_folder_it_cannot_read_is_left_to_transformers(tmp_path: Path) -> None:
    assert not supports(tmp_path)  # no tokenizer.json
    (tmp_path / "tokenizer.json").write_text(
        (smollm2_tokenizer_dir() / "tokenizer.json").read_text()
    )
    (tmp_path / "tokenizer_config.json").write_text(
        '{"tokenizer_class": "LlamaTokenizer", "clean_up_tokenization_spaces": true}'
    )
    assert not supports(tmp_path)
