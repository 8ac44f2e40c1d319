"""``a, err := ‸`` assigns one call's several results: the functions of the package that
return that many come first (``tag, err := parseTag(…)``), not the one-result helpers."""

from __future__ import annotations

from typing import Any

import pytest
from test_scope import index_files, top

from server.context.builder import view_for
from server.context.cursor import locate
from server.context.relevance import arity_of, results_wanted
from server.context.workspace import Layered

FILLER = "".join(f"\tx{i} := {i}\n\t_ = x{i}\n" for i in range(6))
HELPER_NAMES = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")
HELPERS = "".join(
    f"// help{n} helps.\nfunc help{n}(s string) error {{\n\treturn nil\n}}\n\n"
    for n in HELPER_NAMES
)
PKG = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "helpers.go": "package app\n\n" + HELPERS,
    "words.go": (
        "package app\n\n// splitWords splits.\n"
        "func splitWords(s string) (first string, rest []string, err error) {\n"
        "\treturn s, nil, nil\n}\n\n// readInput reads.\nfunc readInput(n int) (int, bool) {\n"
        "\treturn n, true\n}\n"
    ),
    # Every name used once elsewhere (a name no other code names is not offered).
    "uses.go": "package app\n\n"
    + "".join(
        f"func use{i}() {{ _ = {n} }}\n"
        for i, n in enumerate(["splitWords", "readInput"] + [f"help{w}" for w in HELPER_NAMES])
    ),
    "more.go": "package app\n\n"
    + "".join(f"func more{w}() {{ _ = help{w} }}\n" for w in HELPER_NAMES),
    "main.go": (
        "package app\n\nfunc run(s string) error {\n"
        + FILLER
        + "\tcfg, err := <|>readInput(s)\n\t_ = cfg\n\treturn err\n}\n"
    ),
}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("go_results"), PKG)


def test_the_targets_of_an_assignment_say_how_many_results() -> None:
    assert results_wanted(locate("\tcfg, err := ", 0, 13)) == 2
    assert results_wanted(locate("\ta, b.c, err = pkg.", 0, 19)) == 3
    assert results_wanted(locate("\tv, ok := ", 0, 10)) == 0  # a map index or an assertion
    assert results_wanted(locate("\tcfg := ", 0, 8)) == 0


def test_a_function_returning_as_many_results_comes_first(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    assert arity_of(layer, "splitWords", "words.go") == 3
    assert arity_of(layer, "readInput", "words.go") == 2
    assert arity_of(layer, "helpAlpha", "helpers.go") == 1
    snippets = top(pkg, PKG, "main.go", k=5)
    assert snippets and "func readInput" in snippets[0][1], snippets
