"""Post-processing: golden cases (one small case per file) and the multi-line decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.postprocess import decide_multiline, postprocess
from server.postprocess.brackets import balance_by_counting

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "postprocess"
CASES = sorted(GOLDEN.glob("*.json"))


def test_there_are_enough_golden_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    c = json.loads(case.read_text(encoding="utf-8"))
    got = postprocess(c["completion"], c["prefix"], c["suffix"], c["language"], c["multiline"])
    assert got == c["expected"], c["why"]


@pytest.mark.parametrize(
    ("prefix", "suffix", "language", "expected"),
    [
        ("def f(x):", "\n", "python", True),  # right after a block opener
        ("def f(x):\n    ", "\n", "python", True),  # on the empty line below it
        ("x = foo(", "\n", "python", True),  # an open call at the end of a line
        ("x = foo(", ")\n", "python", False),  # mid-line: text after the cursor
        ("    return se", "\n", "python", False),  # mid-statement
        ("int main() {", "\n}", "c", True),
        ("int x = 1;\n", "\n", "c", False),
        ("", "", "python", False),
    ],
)
def test_multiline_decision(prefix: str, suffix: str, language: str, expected: bool) -> None:
    assert decide_multiline(prefix, suffix, language) is expected


def test_counter_reserves_the_closers_the_suffix_owns() -> None:
    # The suffix closes foo( itself: the completion must not.
    assert balance_by_counting("a, b)", "x = foo(", ")\n", "python") == "a, b"
    # Nothing after the cursor: closing foo( is the completion's job.
    assert balance_by_counting("a, b)", "x = foo(", "\n", "python") == "a, b)"


def test_loop_of_multi_line_blocks_keeps_one_copy() -> None:
    loop = "x += 1\nprint(x)\n" * 4
    assert postprocess(loop, "def f(x):\n", "", "python", True) == "x += 1\nprint(x)"


def test_a_loop_is_settled_only_once_its_third_copy_is_whole() -> None:
    from server.postprocess.repetition import has_settled_loop

    assert has_settled_loop("self.get(self.get(self.get(")
    assert not has_settled_loop("self.get(self.get(self.g")  # the third may still part
    assert not has_settled_loop("[0, 0, 0, 0, 0, 0")  # data, not a loop
    assert has_settled_loop("x = 1\ny = a.get(a.get(a.get(")
