"""Ranking the next name among hundreds in scope (a Go package): what the cursor's line
says about its kind and its meaning, and one snippet for a run of sibling definitions."""

from __future__ import annotations

from typing import Any

import pytest
from test_scope import CURSOR, index_files, top

from indexer.grammars import scope
from server.context.builder import view_for
from server.context.cursor import locate
from server.context.relevance import (
    _parameters,
    co_usage_votes,
    open_call,
    parameter_terms,
    target_match,
    target_terms,
)
from server.context.workspace import Layered

GO_TYPES = frozenset({"struct", "interface", "type"})


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        ("\tx := &", frozenset({"struct", "type"})),  # &T{...}: never an interface
        ("\tf(a, &", frozenset({"struct", "type"})),
        ("var _ context.Context = (*", GO_TYPES),
        ("\tif cf, ok := fl.(", GO_TYPES),
        ("\tcategories ", GO_TYPES),  # a struct field
        ("var localVersionFlag ", GO_TYPES),
        ("func runRequest(b *testing.B, r *", GO_TYPES),
        ("func Handle(path string, handlers ...", GO_TYPES),
        ("func (c *Command) check() ", GO_TYPES),  # the result
        ("\tArguments: []", GO_TYPES),
        ("\tm := map[string]", GO_TYPES),
        ("type Alias = ", GO_TYPES),
        ("\treturn ", frozenset()),
        ("\tx := ", frozenset()),
        ("\tSetMode(", frozenset()),
        ("\tok := a && ", frozenset()),
        ("\tn := a * ", frozenset()),
        ("\tv := <-", frozenset()),
        ("\tCreat: flags&", frozenset({"const", "variable"})),  # a bit mask, not &T{
        ("\tif (p.Flags & ", frozenset({"const", "variable"})),
        ("\tmode |= ", frozenset({"const", "variable"})),
        ("", frozenset()),
    ],
)
def test_go_line_says_what_kind_of_name_comes(line: str, kinds: frozenset[str]) -> None:
    assert scope("go").expected_kinds([line]) == kinds


def test_go_empty_line_in_a_struct_is_an_embedded_type() -> None:
    rule = scope("go").expected_kinds
    assert rule(["type Engine struct {", "\tname string", "\t"]) == GO_TYPES
    assert rule(["const (", "\t"]) == frozenset()
    assert rule(["\tflags := []Flag{", "\t\t"]) == frozenset()  # a literal's element


def test_go_address_after_a_variable_s_address_is_a_variable_s() -> None:
    rule = scope("go").expected_kinds
    values = frozenset({"const", "variable"})
    assert rule(["\ttmpls := []*string{", "\t\t&helpTemplate,", "\t\t&"]) == values
    assert rule(["\tflags := []Flag{", "\t\t&IntFlag{},", "\t\t&"]) == {"struct", "type"}


def test_go_statement_start_is_a_call_or_an_assignment() -> None:
    rule = scope("go").expected_kinds
    statement = frozenset({"function", "variable"})
    assert rule(["func f() {", "\tx := 1", "\t"]) == statement
    assert rule(["\tif ok {", "\t\t"]) == statement
    assert rule(["\t} else {", "\t\t"]) == statement
    assert rule(["\tr.Use(func(c *Context) {", "\t\t"]) == statement


def test_go_case_of_a_type_switch_is_a_type() -> None:
    rule = scope("go").expected_kinds
    assert rule(["\tswitch p := p.(type) {", "\tcase *"]) == GO_TYPES
    assert rule(["\tswitch p := p.(type) {", "\tcase *A:", "\t\tf()", "\tcase "]) == GO_TYPES
    assert rule(["\tswitch p.Kind {", "\tcase "]) == frozenset()  # a value


C_TYPES = frozenset({"type", "struct", "enum", "class"})
C_MACROS = frozenset({"const"})


@pytest.mark.parametrize(
    ("line", "kinds"),
    [
        ("#ifdef ", C_MACROS),
        ("#if !defined(CURL_DISABLE_HTTP) && !defined(", C_MACROS),
        ("  struct ", frozenset({"struct"})),
        ("static enum ", frozenset({"enum"})),
        ("    case ", C_MACROS),
        ("static ", C_TYPES),  # a declaration's start: its type
        ("extern const ", C_TYPES),
        ("  result = ", frozenset()),
        ("  if(x & ", frozenset()),
        ("static int ", frozenset()),  # the declared name itself
        ("", frozenset()),
    ],
)
def test_c_line_says_what_kind_of_name_comes(line: str, kinds: frozenset[str]) -> None:
    assert scope("c").expected_kinds([line]) == kinds


def test_languages_without_rules_expect_nothing() -> None:
    assert scope("python").expected_kinds(["x = "]) == frozenset()


def test_target_is_what_the_line_assigns_declares_or_compares() -> None:
    def terms(line: str) -> frozenset[str]:
        return target_terms(locate(line, 0, len(line)))

    assert terms("\tcategories ") == {"categorie"}
    assert terms("\tcmd.trustedCIDRs = ") == {"trusted", "cid"}
    assert terms("\tif c.Name == ") == {"name"}
    assert terms("\tArguments: []") == {"argument"}
    assert terms("\treturn ") == frozenset()  # a keyword is no target
    assert terms("\tf(a, ") == frozenset()
    assert target_match(terms("\tvalue "), "Value") == 1.0
    assert target_match(terms("\tvalue "), "ValueCreator") == 0.75  # says more than asked
    assert target_match(terms("\tcategories "), "CommandFlags") == 0.0


def test_an_argument_is_aimed_at_its_parameter() -> None:
    assert open_call("\treturn ErrorLoggerT(") == (None, "ErrorLoggerT", 0)
    assert open_call("\tpkg.F(a, g(b), ") == ("pkg", "F", 2)
    assert open_call("\tx := []T{") is None  # a literal's element, not an argument
    assert open_call('\tfmt.Println("a, b", ') is None  # commas in strings: no count
    header = "func mapping(value reflect.Value, field reflect.StructField, tag string) error {"
    assert _parameters(header, "mapping")[1].split() == ["field", "reflect.StructField"]
    assert _parameters("def f(self, mode: Mode = Mode.A):", "f")[1].strip() == "mode: Mode = Mode.A"


# A package of many names: popular functions, rarely named types. The line says which
# kind comes next.
GO_PKG = {
    "go.mod": "module example.com/cli\n\ngo 1.22\n",
    "flags.go": (
        "package cli\n\n// Flag is any flag.\ntype Flag interface {\n\tName() string\n}\n\n"
        "// BoolFlag is a flag of a bool.\ntype BoolFlag struct {\n\tName string\n}\n\n"
        "// Categories groups commands.\ntype CommandCategories struct {\n\tnames []string\n}\n"
    ),
    "help.go": (
        "package cli\n\n"
        + "".join(
            f'// {n} does a thing.\nfunc {n}(flags []string) string {{\n\treturn ""\n}}\n\n'
            for n in ("ShowHelp", "ShowVersion", "printFlags", "checkFlags", "flagNames")
        )
    ),
    "const.go": (
        'package cli\n\nconst (\n\tLevelDebug = "debug"\n\tLevelRelease = "release"\n'
        '\tLevelInfo = "info"\n\tLevelQuiet = "quiet"\n)\n'
    ),
    "uses.go": (
        "package cli\n\nfunc uses(flags []string) {\n"
        + "".join(
            f"\t_ = {n}(flags)\n\t_ = {n}(nil)\n"
            for n in ("ShowHelp", "ShowVersion", "printFlags", "checkFlags", "flagNames")
        )
        + "\t_ = BoolFlag{}\n\t_ = CommandCategories{}\n\tvar _ Flag\n"
        "\t_ = LevelDebug + LevelRelease + LevelInfo + LevelQuiet\n}\n"
    ),
    "command.go": (
        "package cli\n\n// Command is a command.\ntype Command struct {\n\tName string\n"
        "\tUsage string\n\tHidden bool\n\tAliases []string\n\tFlags []string\n"
        "\tcategories <|>CommandCategories\n}\n"
    ),
    "errors.go": (
        "package cli\n\n// ErrorType says what failed.\ntype ErrorType int\n\n"
        "// ErrorLogger logs errors of one type.\nfunc ErrorLogger(typ ErrorType) string {\n"
        '\treturn ""\n}\n\nconst (\n\tErrorTypeAny ErrorType = 1\n)\n'
    ),
    "log.go": (
        "package cli\n\nfunc logAll() string {\n\tn := 0\n"
        + "\tn++\n" * 10
        + "\treturn ErrorLogger(<|>ErrorTypeAny)\n}\n"
    ),
    "run_test.go": (
        'package cli\n\nimport "testing"\n\nfunc TestRun(t *testing.T) {\n'
        "\tr := 1\n\tr++\n\tr++\n\tr++\n\tr++\n\tr++\n\tr++\n\tt.Log(r)\n\tt.Log(r)\n"
        '\tx := &<|>BoolFlag{Name: "b"}\n\t_ = x\n}\n'
    ),
    "level_test.go": (
        'package cli\n\nimport "testing"\n\nfunc TestLevel(t *testing.T) {\n'
        "\tt.Log(1)\n\tt.Log(2)\n\tt.Log(3)\n\tt.Log(4)\n\tt.Log(5)\n\tt.Log(6)\n"
        "\tt.Log(7)\n\tt.Log(8)\n\tt.Log(9)\n\tt.Log(<|>LevelInfo)\n}\n"
    ),
}


@pytest.fixture(scope="module")
def go_pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("gopkg"), GO_PKG)


def _rank(snippets: list[tuple[str, str]], path: str, header: str) -> int | None:
    for i, (p, text) in enumerate(snippets):
        if p == path and header in text:
            return i + 1
    return None


def test_a_composite_literal_ranks_structs_above_interfaces_and_functions(go_pkg: Any) -> None:
    snippets = top(go_pkg, GO_PKG, "run_test.go", k=10)
    struct = _rank(snippets, "flags.go", "type BoolFlag struct")
    assert struct is not None, snippets
    assert struct < (_rank(snippets, "flags.go", "type Flag interface") or 99), snippets
    functions = [i + 1 for i, (p, _) in enumerate(snippets) if p == "help.go"]
    assert functions and struct < min(functions), snippets


def test_a_field_named_like_a_type_ranks_that_type_first(go_pkg: Any) -> None:
    snippets = top(go_pkg, GO_PKG, "command.go", k=10)
    assert _rank(snippets, "flags.go", "type CommandCategories struct") == 1, snippets


def test_a_constant_is_shown_with_its_block(go_pkg: Any) -> None:
    snippets = top(go_pkg, GO_PKG, "level_test.go", k=10)
    blocks = [text for p, text in snippets if p == "const.go"]
    assert len(blocks) == 1, snippets  # one snippet for the run of siblings
    assert all(f"Level{m} =" in blocks[0] for m in ("Debug", "Release", "Info", "Quiet"))


def test_a_long_definition_is_not_widened(go_pkg: Any) -> None:
    snippets = top(go_pkg, GO_PKG, "run_test.go", k=10)
    for p, text in snippets:
        if p == "help.go":
            assert text.count("func ") == 1, text


def test_an_argument_is_aimed_at_the_parameter_of_the_function_in_scope(go_pkg: Any) -> None:
    layer = Layered(view_for(go_pkg), None)
    text = GO_PKG["log.go"]
    prefix = text[: text.index(CURSOR)]
    cursor = locate(prefix, prefix.count("\n"), len(prefix.rsplit("\n", 1)[-1]))
    assert parameter_terms(layer, "log.go", cursor) == {"typ", "error", "type"}
    snippets = top(go_pkg, GO_PKG, "log.go", k=10)
    assert _rank(snippets, "errors.go", "ErrorTypeAny ErrorType") == 1, snippets


def _families_header() -> str:
    """Two families of calls, each used together elsewhere, and unrelated names between."""
    names = [f"kv_{w}" for w in ("open", "put", "get", "close")]
    names += [f"log_{w}" for w in ("start", "line", "flush", "stop")]
    names += [f"misc_{i}" for i in range(30)]
    return "".join(f"int {n}(int x);\n" for n in names)


KV = {
    "api.h": _families_header(),
    "store.c": '#include "api.h"\n\nint store(void)\n{\n    int h = kv_open(1);\n'
    "    kv_put(h);\n    kv_get(h);\n    return kv_close(h);\n}\n",
    "trace.c": '#include "api.h"\n\nint trace(void)\n{\n    log_start(1);\n    log_line(2);\n'
    "    log_flush(3);\n    return log_stop(4);\n}\n",
    "main.c": '#include "api.h"\n\nint main(void)\n{\n    int h = kv_open(1);\n    <|>kv_put(h);\n'
    "    return 0;\n}\n",
    # The rest of a workspace: files that use the other names.
    **{
        f"misc{i}.c": f'#include "api.h"\n\nint use{i}(void)\n{{\n    return misc_{i}(0);\n}}\n'
        for i in range(30)
    },
}


def test_co_usage_votes_for_what_is_used_with_the_names_so_far(tmp_path: Any) -> None:
    index = index_files(tmp_path, KV)
    text = KV["main.c"]
    prefix = text[: text.index(CURSOR)]
    cursor = locate(prefix, prefix.count("\n"), len(prefix) - (prefix.rfind("\n") + 1))
    votes = co_usage_votes(Layered(view_for(index), None), "main.c", cursor)
    # store.c uses kv_open with the rest of its family; trace.c shares no name with main.c
    # (the header, which names them all, votes for every name alike).
    assert votes["kv_put"] > votes["log_flush"] and votes["kv_close"] > votes["log_flush"]
    assert votes.get("use3", 0.0) == 0.0
    digest = next(t for p, t in top(index, KV, "main.c") if p == "api.h")
    assert "int kv_put(int x);" in digest and "int kv_close(int x);" in digest
