"""Prompt templates and the token budget, with SmolLM2's real tokenizer and with copies of
it given each family's FIM special tokens."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from server.context.snippet import Snippet
from server.prompt import Budgets, build_prompt, detect_template, keep_head, keep_tail
from server.prompt.budget import PREFIX_LINE_STEP

FAMILY_TOKENS = {
    "starcoder": ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"],
    "qwen": ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|repo_name|>", "<|file_sep|>"],
    "deepseek": ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"],
    "codellama": ["<PRE>", "<SUF>", "<MID>"],
}

SNIPPETS = [
    Snippet("lib/models.py", 3, 5, "class Item:\n    name: str\n", 1.0, "definition", "import"),
    Snippet(
        "web/app.js", 1, 2, "function total(items) {\n  return 0;\n}\n", 0.5, "similar", "bm25"
    ),
]


def with_tokens(tokenizer: Any, tokens: list[str]) -> Any:
    tok = copy.deepcopy(tokenizer)
    tok.add_special_tokens({"additional_special_tokens": tokens})
    return tok


def test_smollm2_is_prefix_only_with_repo_tokens(smollm2_tokenizer: Any) -> None:
    assert detect_template(smollm2_tokenizer) == "prefix"
    # The StarCoder2 repo-level tokens are single tokens in SmolLM2's vocabulary.
    for token in ("<repo_name>", "<file_sep>", "<filename>"):
        assert len(smollm2_tokenizer.encode(token, add_special_tokens=False)) == 1


def test_prefix_form_renders_snippets_as_other_files(smollm2_tokenizer: Any) -> None:
    p = build_prompt(
        smollm2_tokenizer,
        "prefix",
        "def f():\n    return ",
        "\nprint(f())\n",
        SNIPPETS,
        Budgets(),
        path="main.py",
        repo="shop",
    )
    assert p.text == (
        "<repo_name>shop"
        "<file_sep>web/app.js\nfunction total(items) {\n  return 0;\n}\n"
        "<file_sep>lib/models.py\nclass Item:\n    name: str\n"  # the best one last
        "<file_sep>main.py\ndef f():\n    return "
    )
    assert p.suffix == ""  # no FIM tokens: the suffix cannot be shown
    assert p.ids == smollm2_tokenizer.encode(p.text, add_special_tokens=False)
    assert p.counts["special"] == 2  # <repo_name> and the cursor file's <file_sep>
    assert p.total_tokens == sum(p.counts.values())


@pytest.mark.parametrize("family", sorted(FAMILY_TOKENS))
def test_family_detected_from_special_tokens(smollm2_tokenizer: Any, family: str) -> None:
    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS[family])
    assert detect_template(tok) == family


def test_qwen_repo_level_fim(smollm2_tokenizer: Any) -> None:
    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS["qwen"])
    p = build_prompt(
        tok, "qwen", "x = ", "\ny = 2\n", SNIPPETS[:1], Budgets(), path="a.py", repo="r"
    )
    assert p.text == (
        "<|repo_name|>r\n<|file_sep|>lib/models.py\nclass Item:\n    name: str\n"
        "<|file_sep|>a.py\n<|fim_prefix|>x = <|fim_suffix|>\ny = 2\n<|fim_middle|>"
    )


def test_deepseek_snippets_as_path_comments(smollm2_tokenizer: Any) -> None:
    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS["deepseek"])
    p = build_prompt(tok, "deepseek", "x = ", "\n", SNIPPETS, Budgets(), path="a.py")
    assert p.text.startswith("<｜fim▁begin｜>// web/app.js:1-2\nfunction total")
    assert "\n\n# lib/models.py:3-5\nclass Item:" in p.text  # each in its language's comment
    assert p.text.endswith("x = <｜fim▁hole｜>\n<｜fim▁end｜>")
    # Stable part first: snippets come before the prefix.
    assert p.text.index("class Item") < p.text.index("x = ")


def test_codellama_spacing(smollm2_tokenizer: Any) -> None:
    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS["codellama"])
    p = build_prompt(tok, "codellama", "x = ", "\n", [], Budgets(), path="a.py")
    assert p.text == "<PRE> x =  <SUF>\n <MID>"


def test_starcoder_without_repo_tokens_uses_comments(smollm2_tokenizer: Any) -> None:
    # A StarCoder-1 style vocabulary: FIM tokens, <filename>, but no <file_sep>... SmolLM2's
    # has <file_sep>, so the repo-level form is used; the FIM wrapping still applies.
    tok = with_tokens(smollm2_tokenizer, FAMILY_TOKENS["starcoder"])
    p = build_prompt(tok, "starcoder", "a", "b", SNIPPETS[:1], Budgets(), path="m.py")
    assert p.text.endswith("<file_sep>m.py\n<fim_prefix>a<fim_suffix>b<fim_middle>")
    assert "<|endoftext|>" in p.stop


def test_budget_is_counted_in_model_tokens(smollm2_tokenizer: Any) -> None:
    prefix = "".join(f"value_{i} = compute(value_{i - 1}, {i})\n" for i in range(1, 400))
    suffix = "".join(f"print(value_{i})\n" for i in range(200))
    many = [
        Snippet(f"pkg/m{i}.py", 1, 40, "def helper():\n    return 1\n" * 20, 1.0, "similar", "")
        for i in range(6)
    ]
    b = Budgets(prefix_tokens=200, suffix_tokens=50, snippet_tokens=150)
    p = build_prompt(smollm2_tokenizer, "prefix", prefix, suffix, many, b, path="x.py")
    assert 0 < p.counts["prefix"] <= 200
    assert 0 < p.counts["snippets"] <= 150 + 4  # + the current file's header line
    assert p.prefix.endswith("compute(value_398, 399)\n")
    # The kept prefix starts at a line whose number is a multiple of the step (cache reuse).
    start_line = prefix[: len(prefix) - len(p.prefix)].count("\n")
    assert start_line % PREFIX_LINE_STEP == 0
    assert p.prefix.startswith("value_")


def test_keep_head_and_tail_cut_at_lines(smollm2_tokenizer: Any) -> None:
    text = "".join(f"line_number_{i} = {i}\n" for i in range(100))
    head = keep_head(smollm2_tokenizer, text, 30)
    assert head.endswith("\n") and text.startswith(head)
    assert len(smollm2_tokenizer.encode(head, add_special_tokens=False)) <= 30
    tail = keep_tail(smollm2_tokenizer, text, 30)
    assert text.endswith(tail) and tail.startswith("line_number_")
    assert len(smollm2_tokenizer.encode(tail, add_special_tokens=False)) <= 30
    # One overlong line: cut mid-line rather than return nothing.
    long_line = "x" * 5000
    assert 0 < len(keep_tail(smollm2_tokenizer, long_line, 20)) < 5000


def test_typing_forward_keeps_the_token_prefix(smollm2_tokenizer: Any) -> None:
    """Snippets first and a stable prefix start: the ids of a prompt after one more typed
    character share everything up to the cursor's word with the previous prompt."""
    body = "".join(f"total_{i} = total_{i - 1} + {i}\n" for i in range(1, 300))
    b = Budgets(prefix_tokens=256, suffix_tokens=32, snippet_tokens=128)
    p1 = build_prompt(smollm2_tokenizer, "prefix", body + "res", "", SNIPPETS, b, path="a.py")
    p2 = build_prompt(smollm2_tokenizer, "prefix", body + "resu", "", SNIPPETS, b, path="a.py")
    common = 0
    while common < min(len(p1.ids), len(p2.ids)) and p1.ids[common] == p2.ids[common]:
        common += 1
    assert common >= len(p1.ids) - 2


AWS_KEY = "AKIA" + "Z7QW3ERTY5UIOPAS"
GH_TOKEN = "ghp_" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"


@pytest.mark.parametrize("family", sorted(FAMILY_TOKENS))
def test_secrets_in_the_buffer_and_snippets_never_reach_the_prompt(
    smollm2_tokenizer: Any, family: str
) -> None:
    tokenizer = with_tokens(smollm2_tokenizer, FAMILY_TOKENS[family])
    leaky = Snippet("ops/deploy.py", 1, 2, f'TOKEN = "{GH_TOKEN}"\n', 1.0, "similar", "bm25")
    p = build_prompt(
        tokenizer,
        family,
        f'AWS_KEY = "{AWS_KEY}"\n\ndef upload():\n    return ',
        f'\n\nBACKUP_KEY = "{AWS_KEY}"\n',
        [leaky, *SNIPPETS],
        Budgets(),
        path="main.py",
        repo="shop",
    )
    for secret in (AWS_KEY, GH_TOKEN, AWS_KEY[4:12], GH_TOKEN[4:12]):
        assert secret not in p.text
    assert p.text.count("«redacted»") == (3 if p.suffix else 2)
    assert "def upload():\n    return " in p.text  # the code itself is untouched
