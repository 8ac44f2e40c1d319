"""Token healing: golden cuts per cursor position (tests/golden/healing, SmolLM2's real
tokenizer), the first-token constraint they imply, every template, the text-only check,
and SmolLM2 completing at each position of a small indexed workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from completion_support import WORKSPACE

from server.decoding import vocab_for
from server.decoding.healing import HealingConstraint, heal_answer
from server.prompt import TEMPLATES, ApproxTokenizer, Budgets, build_prompt

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "healing"
CASES = sorted(GOLDEN.glob("*.json"))
POSITIONS = {
    "indented_line_start",
    "after_assign",
    "inside_identifier",
    "after_dot",
    "after_open_bracket",
    "in_string",
    "end_of_comment",
}


def load(case: Path) -> dict[str, Any]:
    return dict(json.loads(case.read_text(encoding="utf-8")))


def test_every_listed_cursor_position_has_a_golden_case() -> None:
    assert {c.stem for c in CASES} >= POSITIONS


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_cut(case: Path, smollm2_tokenizer: Any) -> None:
    c = load(case)
    p = build_prompt(
        smollm2_tokenizer,
        "prefix",
        c["prefix"],
        c["suffix"],
        [],
        Budgets(),
        path=c["file"],
        heal=True,
    )
    assert p.heal == c["expected_heal"], c["why"]
    assert p.heal_then_nonspace is c["expected_then_nonspace"], c["why"]
    assert p.text.endswith(c["expected_prompt_line_end"]), c["why"]
    # The prompt and the cut together are exactly the text before the cursor.
    assert p.text.endswith(c["prefix"][: len(c["prefix"]) - len(p.heal)])
    unhealed = build_prompt(
        smollm2_tokenizer, "prefix", c["prefix"], c["suffix"], [], Budgets(), path=c["file"]
    )
    assert unhealed.heal == "" and unhealed.text == p.text + p.heal


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden_first_token_constraint(case: Path, smollm2_tokenizer: Any) -> None:
    c = load(case)
    vocab = vocab_for(smollm2_tokenizer)
    allowed = {
        vocab.piece(i).decode("utf-8", "replace")
        for i in HealingConstraint(vocab, c["expected_heal"], c["expected_then_nonspace"])
        .allowed()
        .tolist()
    }
    for text in c["first_token_may_be"] + c["first_token_may_not_be"]:
        assert vocab.ids_of(text), f"{text!r} is not one token: the case tests nothing"
    assert set(c["first_token_may_be"]) <= allowed, c["why"]
    assert not set(c["first_token_may_not_be"]) & allowed, c["why"]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_cuts_the_prefix_before_its_markers(
    template: str, smollm2_tokenizer: Any
) -> None:
    from test_prompt import FAMILY_TOKENS, with_tokens

    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS.get(template, []))
    p = build_prompt(tok, template, "def f(x):\n    ", "\n", [], Budgets(), path="a.py", heal=True)
    tpl = TEMPLATES[template]
    assert p.heal == "\n    " and p.prefix == "def f(x):\n    "
    if tpl.fim:  # the prefix ends at the cut, then the template's suffix marker
        spacing = " " if tpl.codellama_spacing else ""
        assert f"def f(x):{spacing}{tpl.fim_suffix}" in p.text
    else:
        assert p.text.endswith("def f(x):")


def test_text_only_backends_cut_the_prompt_too() -> None:
    p = build_prompt(
        ApproxTokenizer(), "qwen", "    total = sum(it", ")\n", [], Budgets(), path="a.py"
    )
    assert p.heal == ""
    p = build_prompt(
        ApproxTokenizer(),
        "qwen",
        "    total = sum(it",
        ")\n",
        [],
        Budgets(),
        path="a.py",
        heal=True,
    )
    assert p.heal == "it" and "sum(<|fim_suffix|>" in p.text


@pytest.mark.parametrize(
    ("answer", "heal", "then_nonspace", "expected"),
    [
        ("items)", "it", False, "ems)"),  # re-types the cut: the rest is the answer
        ("\n        lines.append(x)", "\n        ", True, "lines.append(x)"),
        ("  sum(x)", " ", True, "sum(x)"),  # no more whitespace than the user typed
        ("i", "it", False, ""),  # stopped inside the cut
        ("sum(x)", " ", True, "sum(x)"),  # skipped the typed space: keep the word
        ("other", "it", False, None),  # contradicts what was typed
    ],
)
def test_heal_answer(answer: str, heal: str, then_nonspace: bool, expected: str | None) -> None:
    assert heal_answer(answer, heal, then_nonspace) == expected


def test_decode_answers_past_the_cut(tiny_lm: Any) -> None:
    from server.backends.base import GenerationParams
    from server.backends.transformers_backend import TransformersBackend

    backend = TransformersBackend(tiny_lm)
    prefix = "def step(x):\n    return x.val"
    p = build_prompt(tiny_lm.tokenizer, "prefix", prefix, "", [], Budgets(), path="s.py", heal=True)
    assert p.heal
    g = backend.generate(p, GenerationParams(max_tokens=4))
    assert g.extra["healed_tokens"] >= 1 and g.new_tokens == g.extra["healed_tokens"] + 4
    # The tokens re-typed the cut: together they spell it, then the answer.
    vocab = vocab_for(tiny_lm.tokenizer)
    fed = backend.engine.snapshot()[0]
    generated = vocab.text(fed[len(p.ids) :])
    assert (p.heal + g.text).startswith(generated) or generated.startswith(p.heal)


def cursor_request(case: dict[str, Any]) -> Any:
    from server.completion import CompletionRequest

    before = WORKSPACE[case["file"]] + case["prefix"]
    line = before.count("\n")
    return CompletionRequest(
        case["file"], before + case["suffix"], line, len(before.split("\n")[-1])
    )


@pytest.fixture(scope="module")
def smollm2_completer(indexed_workspace: Path) -> Any:
    from indexer.search import open_index
    from server.completion import Completer
    from server.settings import Settings

    settings = Settings()  # the defaults: token healing on
    settings.completion.max_tokens = 16  # enough to judge the join; quick on a busy machine
    completer = Completer(indexed_workspace, open_index(indexed_workspace), settings)
    assert completer.wait_until_loaded(600), completer.status()["fallback_reason"]
    return completer


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_smollm2_completes_each_cursor_position(case: Path, smollm2_completer: Any) -> None:
    c = load(case)
    r = smollm2_completer.complete(cursor_request(c))
    assert r.backend in ("llamacpp", "transformers") and r.error is None, r.error
    assert r.text.strip(), f"empty completion: {c['why']}"
    line = c["prefix"].split("\n")[-1] + r.text.split("\n")[0]
    assert re.search(c["joined_line_matches"], line), f"{line!r}: {c['why']}"
