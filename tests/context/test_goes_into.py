"""What the cursor's value goes into says its type: the field it is compared with or
switched on (``node.Type == ‸``, ``case ‸`` under ``switch tok.Kind {``), the result of
the function it is returned from (``return ‸``); the names of that type (constants of
an ``iota`` block, which repeat the first one's type) come first."""

from __future__ import annotations

from typing import Any

import pytest
from test_scope import index_files, top

from server.context.builder import view_for
from server.context.cursor import locate
from server.context.fieldtypes import (
    asserted_error,
    error_types,
    field_types,
    implementers,
    switched_error_types,
    target_field,
)
from server.context.relevance import _results, declared_type, result_at
from server.context.workspace import Layered

FILLER = "".join(f"\tx{i} := {i}\n\t_ = x{i}\n" for i in range(6))
# Helpers the cursor's lines say nothing about, to fill the package.
HELPERS = "".join(
    f"// help{n} helps.\nfunc help{n}(s string) string {{\n\treturn s\n}}\n\n"
    for n in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")
)

PKG = {
    "go.mod": "module example.com/app\n\ngo 1.22\n",
    "nodes.go": (
        "package app\n\n// NodeType says what a node is.\ntype NodeType int\n\n"
        "const (\n\tAppNode NodeType = iota\n\tCmdNode\n\tArgNode\n)\n\n"
        "// Node is a node.\ntype Node struct {\n\tType NodeType\n\tName string\n}\n"
    ),
    "tokens.go": (
        "package app\n\n// TokenKind says what a token is.\ntype TokenKind int\n\n"
        "const (\n\tFlagTok TokenKind = iota\n\tValueTok\n\tEndTok\n)\n\n"
        "// Token is a token.\ntype Token struct {\n\tKind TokenKind\n\tText string\n}\n"
    ),
    "colors.go": (
        "package app\n\n// Color is a color.\ntype Color int\n\n"
        "const (\n\tRedColor = Color(1)\n\tBlueColor = Color(2)\n\tGreenColor = Color(3)\n)\n"
    ),
    "helpers.go": "package app\n\n" + HELPERS,
    "options.go": (
        "package app\n\n// Option configures.\n"
        "type Option interface {\n\tApply(n *Node) error\n}\n\n"
        "// Vars are variables.\ntype Vars map[string]string\n\n"
        "// Apply sets them.\nfunc (v Vars) Apply(n *Node) error { return nil }\n\n"
        "// Names are names.\ntype Names []string\n\n"
        "// Len counts them.\nfunc (v Names) Len() int { return len(v) }\n"
    ),
    "compare.go": (
        "package app\n\nfunc isArg(n *Node) bool {\n"
        + FILLER
        + "\treturn n.Type == <|>ArgNode\n}\n"
    ),
    "switch.go": (
        "package app\n\nfunc kindOf(tok Token) string {\n"
        + FILLER
        + '\tswitch tok.Kind {\n\tcase <|>ValueTok:\n\t\treturn "v"\n\t}\n\treturn ""\n}\n'
    ),
    "errs.go": (
        "package app\n\n// ParseError says where parsing failed.\n"
        "type ParseError struct {\n\terror\n\tLine int\n}\n\n"
        "// ExitCode is a process's status.\ntype ExitCode struct {\n\tCode int\n}\n\n"
        'func (e ExitCode) Error() string { return "exit" }\n'
    ),
    "assert.go": (
        "package app\n\nfunc lineOf(err error) int {\n"
        + FILLER
        + "\tif pe, ok := err.(*<|>ParseError); ok {\n\t\treturn pe.Line\n\t}\n"
        "\t_ = ExitCode{}\n\treturn 0\n}\n"
    ),
    "result.go": (
        "package app\n\nfunc (n *Node) first() Color {\n" + FILLER + "\treturn <|>BlueColor\n}\n"
    ),
}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("goes_into"), PKG)


def _cursor(path: str) -> Any:
    text = PKG[path]
    prefix = text[: text.index("<|>")]
    return locate(prefix, prefix.count("\n"), len(prefix.rsplit("\n", 1)[-1]))


def _first_const_file(snippets: list[tuple[str, str]]) -> str:
    return next(p for p, t in snippets if "const (" in t or "Tok\n" in t or "Node\n" in t)


def test_the_field_compared_or_switched_on_is_found() -> None:
    assert target_field(_cursor("compare.go")) == "Type"
    assert target_field(_cursor("switch.go")) == "Kind"
    assert target_field(locate("\tx.Len >= ", 0, 10)) is None
    assert target_field(locate("\tswitch x {\n\tcase ", 1, 6)) is None


def test_a_field_s_declared_type_ranks_that_type_s_constants_first(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    assert field_types(layer, "compare.go", "Type") == {"NodeType"}
    assert field_types(layer, "switch.go", "Kind") == {"TokenKind"}
    # ``CmdNode`` repeats ``AppNode``'s type, as Go's constant blocks do.
    assert declared_type(layer, "CmdNode", "nodes.go") == {"NodeType"}
    assert _first_const_file(top(pkg, PKG, "compare.go", k=10)) == "nodes.go"
    assert _first_const_file(top(pkg, PKG, "switch.go", k=10)) == "tokens.go"


def test_a_returned_value_fills_the_function_s_result(pkg: Any) -> None:
    assert _results("func (n *Node) first() Color {", "first") == ["Color"]
    assert _results("func F(a int) (*Buf, error) {", "F") == ["*Buf", "error"]
    assert _results("def f(x) -> Foo[int]:\n    pass", "f") == ["Foo[int]"]
    layer = Layered(view_for(pkg), None)
    param = result_at(layer, "result.go", _cursor("result.go"))
    assert param is not None and param.types == {"Color"}
    # ``Color(2)`` says its type too.
    assert declared_type(layer, "BlueColor", "colors.go") == {"Color"}
    snippets = top(pkg, PKG, "result.go", k=10)
    assert snippets and snippets[0][0] == "colors.go", snippets


def test_an_interface_is_filled_by_the_types_with_its_methods(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    assert implementers(layer, "result.go", frozenset({"Option"})) == {"Vars"}
    assert implementers(layer, "result.go", frozenset({"Color"})) == frozenset()


def test_an_error_asserted_is_one_of_the_types_an_error_may_hold(pkg: Any) -> None:
    assert asserted_error(_cursor("assert.go"))
    assert asserted_error(locate("\tbErr := err.(*echo.", 0, 20))
    assert not asserted_error(locate("\tv, ok := x.(", 0, 14))
    layer = Layered(view_for(pkg), None)
    # ``ExitCode`` has ``Error``; ``ParseError`` embeds ``error``.
    assert error_types(layer, "assert.go") == {"ExitCode", "ParseError"}
    snippets = top(pkg, PKG, "assert.go", k=5)
    assert snippets and snippets[0][0] == "errs.go", snippets


def test_a_case_of_a_type_switch_over_an_error_is_an_error_type(pkg: Any) -> None:
    layer = Layered(view_for(pkg), None)
    over_err = locate("\tswitch e := err.(type) {\n\tcase *", 1, 7)
    assert switched_error_types(layer, "assert.go", over_err) == {"ExitCode", "ParseError"}
    over_other = locate("\tswitch f := flag.(type) {\n\tcase *", 1, 7)
    assert switched_error_types(layer, "assert.go", over_other) == frozenset()
