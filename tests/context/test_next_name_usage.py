"""Ranking the next name of a package by how it is used: a name after ``x.`` is no use
of the package's own name, an argument goes to a name that gives the parameter's type
(also when the call opened lines above), and a name follows what the line above names
where other code of the workspace does the same."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from test_scope import index_files, top

from server.context.builder import view_for
from server.context.cursor import code_identifier_uses, declared_name, locate
from server.context.relevance import call_at, parameter_at, sequence_votes
from server.context.workspace import Layered

OPTIONS = ("Name", "Description", "UsageOnError", "Writers", "Exit")

# A package with option functions (``func X(...) Option``), helpers that return other
# things, and code that passes options to ``Parse`` one per line.
PKG = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "options.go": (
        "package app\n\n// Option configures a parser.\ntype Option func(*Parser)\n\n"
        + "".join(
            f"// {n} is an option.\nfunc {n}(s string) Option {{\n\treturn nil\n}}\n\n"
            for n in OPTIONS
        )
    ),
    "parser.go": (
        "package app\n\n// Parser parses.\ntype Parser struct {\n\tname string\n}\n\n"
        "// Parse parses with options.\nfunc Parse(cli any, options ...Option) *Parser {\n"
        "\treturn nil\n}\n\n// New makes a parser.\nfunc New() *Parser {\n\treturn nil\n}\n"
    ),
    "helpers.go": (
        "package app\n\n"
        + "".join(
            f"// {n} helps.\nfunc {n}(s string) string {{\n\treturn s\n}}\n\n"
            for n in ("NameOf", "describe", "exitCode", "writersOf")
        )
    ),
    # Elsewhere, a description is followed by the usage option.
    "example_a.go": (
        'package app\n\nfunc exampleA() {\n\t_ = Parse(nil,\n\t\tName("a"),\n'
        '\t\tDescription("a"),\n\t\tUsageOnError(""),\n\t)\n}\n'
    ),
    "example_b.go": (
        'package app\n\nfunc exampleB() {\n\t_ = Parse(nil,\n\t\tWriters("b"),\n'
        '\t\tDescription("b"),\n\t\tUsageOnError(""),\n\t)\n}\n'
    ),
    "names.go": (
        'package app\n\nfunc names() {\n\t_ = NameOf("x") + describe("y")\n'
        '\t_ = exitCode("z") + writersOf("w")\n\t_ = NameOf("v")\n}\n'
    ),
    # Only the type says which of the package's names goes in the argument.
    "main.go": (
        "package app\n\nfunc run() {\n"
        + "\tx := 1\n\tx++\n" * 5
        + '\t_ = Parse(&x,\n\t\t<|>Exit("1"),\n\t)\n}\n'
    ),
    # The line above names Description: elsewhere UsageOnError comes next.
    "second.go": (
        "package app\n\nfunc second() {\n"
        + "\ty := 1\n\ty++\n" * 5
        + '\t_ = Parse(&y,\n\t\tDescription("s"),\n\t\t<|>UsageOnError(""),\n\t)\n}\n'
    ),
    "other_test.go": (
        'package app\n\nimport "testing"\n\nfunc TestOther(t *testing.T) {\n'
        "\tp := New()\n\tt.Log(p)\n}\n"
    ),
    # A field named after its type: the name declared is no use of the type.
    "skip.go": "package app\n\n// Skipper says when to skip.\ntype Skipper func() bool\n",
    "config.go": (
        "package app\n\n// Config configures.\ntype Config struct {\n"
        + "".join(f"\t// {n} is set.\n\t{n} string\n" for n in ("Alpha", "Beta", "Gamma"))
        + "\t// Skipper skips.\n\tSkipper <|>Skipper\n}\n"
    ),
    # errors.New above is no use of the package's New.
    "new_test.go": (
        'package app\n\nimport (\n\t"errors"\n\t"testing"\n)\n\n'
        "func TestNew(t *testing.T) {\n"
        + '\terr := errors.New("x")\n'
        + "\tt.Log(err)\n" * 20
        + "\tp := <|>New()\n\tt.Log(p)\n}\n"
    ),
}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("usage"), PKG)


def _cursor(path: str) -> Any:
    text = PKG[path]
    prefix = text[: text.index("<|>")]
    return locate(prefix, prefix.count("\n"), len(prefix.rsplit("\n", 1)[-1]))


def _rank(snippets: list[tuple[str, str]], path: str, header: str) -> int | None:
    for i, (p, text) in enumerate(snippets):
        if p == path and header in text:
            return i + 1
    return None


def test_a_member_of_something_else_is_no_use_of_a_name_in_scope() -> None:
    names, members = code_identifier_uses('err := errors.New("x")\nf(a...)\np->next\nA::b')
    assert Counter(names)["New"] == 1
    assert members == ["New", "next", "b"]  # not the ``a`` before ``...``


def test_the_package_name_is_offered_after_another_package_s_same_name(pkg: Any) -> None:
    snippets = top(pkg, PKG, "new_test.go", k=10)
    assert _rank(snippets, "parser.go", "func New()") is not None, snippets


def test_a_field_named_after_its_type_ranks_the_type_first(pkg: Any) -> None:
    assert declared_name(_cursor("config.go")) == "Skipper"
    assert declared_name(locate("\tx := ", 0, 6)) is None
    snippets = top(pkg, PKG, "config.go", k=10)
    assert _rank(snippets, "skip.go", "type Skipper") == 1, snippets


def test_a_call_opened_lines_above_still_says_which_argument_comes() -> None:
    assert call_at(_cursor("main.go")) == (None, "Parse", 1)
    assert call_at(locate('\tf("a, b",\n\t\tg(1),\n\t\t', 2, 2)) == (None, "f", 2)
    assert call_at(locate("\tf(x)\n\t", 1, 1)) is None  # the call was closed


def test_an_argument_goes_to_a_name_that_gives_the_parameter_s_type(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    param = parameter_at(layer, "main.go", _cursor("main.go"))
    assert param is not None and param.types == {"Option"}
    snippets = top(pkg, PKG, "main.go", k=10)
    options = [i + 1 for i, (p, t) in enumerate(snippets) if p == "options.go" and "func " in t]
    others = [i + 1 for i, (p, _) in enumerate(snippets) if p in ("helpers.go", "parser.go")]
    assert _rank(snippets, "options.go", "func Exit(") is not None, snippets
    assert len(options) == len(OPTIONS) and max(options) < min(others), snippets


def test_what_follows_the_line_above_elsewhere_comes_first(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    votes = sequence_votes(layer, "second.go", _cursor("second.go"))
    assert votes.get("UsageOnError") == 1.0, votes
    snippets = top(pkg, PKG, "second.go", k=10)
    first = next(t for p, t in snippets if p == "options.go" and "func " in t)
    assert "func UsageOnError" in first, snippets


def test_an_included_file_s_name_is_no_use_of_the_type_named_like_it() -> None:
    """``#include "cJSON.h"`` names a file: the type ``cJSON`` it declares is still unused
    (and so still offered among the header's names), while other directives' names count."""
    text = '#include "cJSON.h"\n#include <widget/list.h>\n#define N cJSON_Max\nint x;\n'
    names, _ = code_identifier_uses(text, "c")
    assert "cJSON" not in names and "list" not in names and "widget" not in names
    assert "cJSON_Max" in names and "N" in names
