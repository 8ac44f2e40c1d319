"""Scope resolution per language: small real workspaces (indexed with the real indexer),
a cursor, and the definition the language's own rules bring into scope there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from indexer.scope import Resolver
from server.context import build_context
from server.context.builder import view_for
from server.context.workspace import Layered

CURSOR = "<|>"


def index_files(root: Path, files: dict[str, str]) -> Any:
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text.replace(CURSOR, ""))
    sync(root, IndexSettings(embedder="none"))
    return open_index(root)


def top(index: Any, files: dict[str, str], path: str, k: int = 5) -> list[tuple[str, str]]:
    """(path, first line) of the top ``k`` snippets for the cursor marked in ``path``,
    the buffer cut at the cursor as a user typing it has it."""
    text = files[path]
    at = text.index(CURSOR)
    prefix = text[:at]
    line = prefix.count("\n")
    col = at - (prefix.rfind("\n") + 1)
    result = build_context(index, path, prefix, line, col, k=k, budget_tokens=10**6)
    for s in result.snippets:
        assert not (s.path == path and s.end_line >= line + 1), "own region returned"
    return [(s.path, s.text) for s in result.snippets]


def meaning(index: Any, path: str, name: str, qualifier: str | None = None) -> list[str]:
    found = Resolver(Layered(view_for(index), None)).lookup(path, name, qualifier)
    return [f"{m.path}:{m.definition.qualified if m.definition else '<module>'}" for m in found]


def shown(snippets: list[tuple[str, str]], path: str, header: str) -> bool:
    return any(p == path and header in text for p, text in snippets)


# --- Go --------------------------------------------------------------------------------

GO = {
    "go.mod": "module example.com/shop\n\ngo 1.22\n",
    "cart.go": (
        "package shop\n\n// Cart holds items.\n// It is not safe for concurrent use.\n"
        "type Cart struct {\n\titems []Item\n}\n\n"
        "// Add puts an item in the cart.\n// It never fails.\n"
        "func (c *Cart) Add(it Item) {\n\tc.items = append(c.items, it)\n}\n"
    ),
    "item.go": "package shop\n\n// Item is one line.\ntype Item struct {\n\tSKU string\n}\n",
    "checkout.go": (
        "package shop\n\nfunc Checkout() int {\n\tc := &Cart{}\n\tc.Add(<|>Item{})\n\treturn 0\n}\n"
    ),
    "tax/tax.go": "package tax\n\n// Rate is the VAT rate.\nfunc Rate(country string) float64 {\n"
    "\treturn 0.2\n}\n",
    "tax/other.go": "package tax\n\nfunc Round(x float64) float64 { return x }\n",
    "api/api.go": (
        'package api\n\nimport (\n\t"fmt"\n\n\t"example.com/shop"\n\t"example.com/shop/tax"\n)\n\n'
        "func Total() {\n\tfmt.Println(shop.Checkout())\n\tr := tax.<|>\n}\n"
    ),
}


@pytest.fixture(scope="module")
def go_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("go"), GO)


def test_go_package_is_a_folder(go_ws: Any) -> None:
    assert meaning(go_ws, "checkout.go", "Item") == ["item.go:Item"]
    assert meaning(go_ws, "checkout.go", "Rate") == []  # another package, not imported
    assert shown(top(go_ws, GO, "checkout.go"), "item.go", "type Item struct")


def test_go_import_reaches_packages_through_the_module_path(go_ws: Any) -> None:
    assert meaning(go_ws, "api/api.go", "Checkout", "shop") == ["checkout.go:Checkout"]
    assert meaning(go_ws, "api/api.go", "Round", "tax") == ["tax/other.go:Round"]
    assert shown(top(go_ws, GO, "api/api.go"), "tax/tax.go", "func Rate(")


def test_go_methods_are_keyed_by_their_type(go_ws: Any) -> None:
    assert meaning(go_ws, "checkout.go", "Add") == []  # a bare name is no method
    assert meaning(go_ws, "checkout.go", "Add", "Cart") == ["cart.go:Cart.Add"]


# --- Java ------------------------------------------------------------------------------

JAVA = {
    "src/main/java/org/acme/text/Strings.java": (
        "package org.acme.text;\n\npublic final class Strings {\n"
        "    /** Trims. */\n    public static String trim(String s) { return s.trim(); }\n}\n"
    ),
    "src/main/java/org/acme/text/Joiner.java": (
        "package org.acme.text;\n\npublic class Joiner {\n    String join() {\n"
        '        return Strings.<|>trim("");\n    }\n}\n'
    ),
    "src/main/java/org/acme/app/Main.java": (
        "package org.acme.app;\n\nimport static org.acme.text.Strings.trim;\n"
        "import org.acme.text.*;\n\npublic class Main {\n    void run() {\n"
        '        Joiner j = new Joiner();\n        String s = <|>trim(" x ");\n    }\n}\n'
    ),
}


@pytest.fixture(scope="module")
def java_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("java"), JAVA)


def test_java_same_package_static_and_wildcard_imports(java_ws: Any) -> None:
    text = "src/main/java/org/acme/text/"
    main = "src/main/java/org/acme/app/Main.java"
    assert meaning(java_ws, f"{text}Joiner.java", "trim", "Strings") == [
        f"{text}Strings.java:Strings.trim"
    ]
    assert meaning(java_ws, main, "trim") == [f"{text}Strings.java:Strings.trim"]  # static
    assert meaning(java_ws, main, "Joiner") == [f"{text}Joiner.java:Joiner"]  # wildcard
    assert shown(top(java_ws, JAVA, f"{text}Joiner.java"), f"{text}Strings.java", "trim(")


# --- C ---------------------------------------------------------------------------------

C = {
    "include/list.h": "#ifndef LIST_H\n#define LIST_H\nstruct list;\n"
    "int list_push(struct list *l, int v);\n#endif\n",
    "src/list.c": '#include "list.h"\n\n/* Push v. */\nint list_push(struct list *l, int v)\n'
    "{\n    return v;\n}\n",
    "src/main.c": '#include <stdio.h>\n#include "../include/list.h"\n\nint main(void)\n{\n'
    "    struct list *l = 0;\n    return <|>list_push(l, 1);\n}\n",
}


@pytest.fixture(scope="module")
def c_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("c"), C)


def test_c_include_leads_to_the_implementation_then_the_declaration(c_ws: Any) -> None:
    assert meaning(c_ws, "src/main.c", "list_push") == [
        "src/list.c:list_push",
        "include/list.h:list_push",
    ]
    # A name not used yet is offered as the header declares it: the signature a call needs.
    snippets = top(c_ws, C, "src/main.c")
    assert shown(snippets, "include/list.h", "int list_push(")


C_API = {  # a header's prototypes, each implemented in a source file
    "q.h": "/* Push v. */\nint q_push(int v);\n\n/* Pop one. */\nint q_pop(void);\n\n"
    "/* How many. */\nint q_len(void);\n",
    "q.c": '#include "q.h"\n\nint q_push(int v)\n{\n    return v;\n}\n\n'
    "int q_pop(void)\n{\n    return 0;\n}\n\nint q_len(void)\n{\n    return 0;\n}\n",
    "main.c": '#include "q.h"\n\nint main(void)\n{\n    return <|>q_len();\n}\n',
}


def test_c_header_declarations_not_used_yet_show_as_one_snippet(tmp_path: Path) -> None:
    index = index_files(tmp_path, C_API)
    snippets = top(index, C_API, "main.c")
    path, text = snippets[0]
    # The prototypes alone, in the header's order: its comments cost tokens, not names.
    assert path == "q.h" and text == "int q_push(int v);\nint q_pop(void);\nint q_len(void);"
    assert not any(p == "q.c" for p, _ in snippets), snippets  # not the bodies besides


def _api_header(n: int) -> str:
    """A header of ``n`` documented prototypes and a documented struct typedef."""
    parts = ["#ifndef API_H\n#define API_H\n"]
    for i in range(n):
        parts.append(f"/* Does thing {i}.\n * At length. */\nint api_call_{i}(int a, int b);\n\n")
    parts.append("/* A pair. */\ntypedef struct {\n    int a;\n    int b;\n    int c;\n")
    parts.append("    int d;\n    int e;\n} api_pair;\n#endif\n")
    return "".join(parts)


C_WIDE = {
    "api.h": _api_header(40),
    "api.c": '#include "api.h"\n\n'
    + "".join(f"int api_call_{i}(int a, int b)\n{{\n    return a + b;\n}}\n\n" for i in range(40))
    + "api_pair api_zero(void);\n",
    "main.c": '#include "api.h"\n\nint main(void)\n{\n    api_pair p;\n    <|>api_call_7(1, 2);\n'
    "    return 0;\n}\n",
}


def test_c_header_digest_shows_many_prototypes_within_its_budget(tmp_path: Path) -> None:
    from server.context.digest import DIGEST_CHARS

    index = index_files(tmp_path, C_WIDE)
    text = C_WIDE["main.c"]
    prefix = text[: text.index(CURSOR)]
    line, col = prefix.count("\n"), len(prefix) - (prefix.rfind("\n") + 1)
    result = build_context(index, "main.c", prefix, line, col, k=5, budget_tokens=10**6)
    digest = next(s for s in result.snippets if s.path == "api.h")
    shown_calls = [t for t in digest.text.split("\n") if t.startswith("int api_call_")]
    # More prototypes than a 30-line window of the commented header holds (7), no comments,
    # no blank lines, and no more text than the digest's budget.
    assert len(shown_calls) > 10, digest.text
    assert "/*" not in digest.text and "\n\n" not in digest.text
    assert len(digest.text) <= DIGEST_CHARS
    # The span is the header's lines the prototypes were taken from: the hit an eval counts.
    assert digest.start_line < digest.end_line


C_GUARDED = {  # a long header whose include guard is named in several of its chunks
    "api.h": _api_header(40).replace("#endif\n", "#endif /* API_H */\n"),
    "api.c": C_WIDE["api.c"],
    "user.c": '#include "api.h"\n\nint user(void)\n{\n    return api_call_3(1, 2);\n}\n',
    "main.c": C_WIDE["main.c"],
}


def test_c_include_guard_is_not_offered(tmp_path: Path) -> None:
    from server.context.buffer import current_entry
    from server.context.definitions import scope_rows

    index = index_files(tmp_path, C_GUARDED)
    view = view_for(index)
    assert view.bm25.df("api_h") > 1  # the guard is in more than one of the header's chunks
    layer = Layered(view, {}, current_entry(view, "main.c", C_GUARDED["main.c"], {}))
    in_scope = {r.d.name for r in scope_rows(layer, Resolver(layer), "main.c")}
    # No other file names the guard: it is no name to use, so no digest line goes to it.
    assert "API_H" not in in_scope and "api_call_3" in in_scope, sorted(in_scope)
    text = C_GUARDED["main.c"]
    prefix = text[: text.index(CURSOR)]
    line, col = prefix.count("\n"), len(prefix) - (prefix.rfind("\n") + 1)
    result = build_context(index, "main.c", prefix, line, col, k=5, budget_tokens=10**6)
    assert not any("#define API_H" in s.text for s in result.snippets), result.snippets


def test_c_digest_shows_a_long_typedef_by_its_head_and_its_name(tmp_path: Path) -> None:
    from server.context.digest import declaration_lines

    index = index_files(tmp_path, C_WIDE)
    entry = view_for(index).files["api.h"]
    pair = next(d for d in entry.definitions if d.name == "api_pair")
    lines = list(declaration_lines(entry, pair).values())
    assert lines[0] == "typedef struct {" and lines[-1] == "} api_pair;", lines
    assert len(lines) <= 4


C_SOURCE_INCLUDED = {  # a test that includes the library's source, which includes its header
    "lib.h": "/* Make one. */\nint lib_make(int v);\n/* Drop one. */\nint lib_drop(int v);\n",
    "lib.c": '#include "lib.h"\n\nint lib_make(int v)\n{\n    return v;\n}\n\n'
    "int lib_drop(int v)\n{\n    return v;\n}\n",
    "other.c": '#include "lib.h"\n\nint other(void)\n{\n    return lib_drop(lib_make(1));\n}\n',
    "test.c": '#include "lib.c"\n\nint main(void)\n{\n    return <|>lib_make(1);\n}\n',
}


def test_c_source_included_offers_its_names_as_the_header_declares_them(tmp_path: Path) -> None:
    index = index_files(tmp_path, C_SOURCE_INCLUDED)
    # Both the body and the declaration the include chain reaches answer the name.
    assert meaning(index, "test.c", "lib_make") == ["lib.c:lib_make", "lib.h:lib_make"]
    snippets = top(index, C_SOURCE_INCLUDED, "test.c")
    assert shown(snippets, "lib.h", "int lib_make(int v);"), snippets
    assert not any(p == "lib.c" and "lib_make" in t for p, t in snippets), snippets


C_CHAIN = {  # main.c -> a.h -> b.h -> c.h -> a.h (a cycle, as include guards allow)
    "a.h": '#include "b.h"\nint a_fn(void);\n',
    "b.h": '#include "c.h"\n#define B_FLAG 1\n',
    "c.h": '#include "a.h"\ntypedef int deep_t;\nint deep_fn(deep_t x);\n',
    "main.c": '#include "a.h"\n\nint main(void)\n{\n    return deep_fn(B_FLAG);\n}\n',
}


def test_c_names_reach_through_include_chains_and_cycles(tmp_path: Path) -> None:
    index = index_files(tmp_path, C_CHAIN)
    resolver = Resolver(Layered(view_for(index), None))
    assert meaning(index, "main.c", "deep_fn") == ["c.h:deep_fn"]
    assert meaning(index, "main.c", "B_FLAG") == ["b.h:B_FLAG"]
    assert meaning(index, "main.c", "nowhere") == []
    # What the header graph can lead to is known without following it per name.
    assert {"a_fn", "B_FLAG", "deep_t", "deep_fn"} <= resolver.reachable_names("a.h")
    assert "nowhere" not in resolver.reachable_names("a.h")


# --- Rust ------------------------------------------------------------------------------

RUST = {
    "src/lib.rs": "pub mod config;\nmod util;\npub use config::Config;\n",
    "src/config.rs": "/// Settings.\npub struct Config {\n    pub depth: u32,\n}\n\n"
    "impl Config {\n    pub fn new() -> Config {\n        Config { depth: 0 }\n    }\n}\n",
    "src/util.rs": "pub fn clamp(x: u32) -> u32 {\n    x\n}\n",
    "src/main.rs": "use crate::Config;\nmod util;\n\nfn main() {\n    let c = Config::<|>new();\n"
    "    let d = util::clamp(c.depth);\n}\n",
}


@pytest.fixture(scope="module")
def rust_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("rust"), RUST)


def test_rust_use_crate_pub_use_and_mod_files(rust_ws: Any) -> None:
    assert meaning(rust_ws, "src/main.rs", "Config") == ["src/config.rs:Config"]  # pub use
    assert meaning(rust_ws, "src/main.rs", "new", "Config") == ["src/config.rs:Config.new"]
    assert meaning(rust_ws, "src/main.rs", "clamp", "util") == ["src/util.rs:clamp"]  # mod x;
    assert shown(top(rust_ws, RUST, "src/main.rs"), "src/config.rs", "pub fn new()")


# --- TypeScript / JavaScript -----------------------------------------------------------

TS = {
    "tsconfig.json": '{\n  // comments are allowed\n  "compilerOptions": {\n    "baseUrl": ".",\n'
    '    "paths": { "@lib/*": ["src/lib/*"] },\n  },\n}\n',
    "src/lib/http.ts": "/** Sends a request. */\nexport function send(url: string) {\n"
    "  return url;\n}\n\nfunction client() {}\nexport default client;\n",
    "src/lib/legacy.ts": "class Legacy {\n  run() {}\n}\nexport = Legacy;\n",
    "src/lib/cjs.js": "function parse(s) {\n  return s;\n}\nmodule.exports = parse;\n",
    "src/app.ts": 'import * as http from "@lib/http";\nimport client from "./lib/http";\n'
    'import Legacy from "./lib/legacy";\nimport parse from "./lib/cjs";\n\n'
    "export function main() {\n  client();\n  new Legacy();\n  parse('x');\n"
    "  http.<|>send('/');\n}\n",
}


@pytest.fixture(scope="module")
def ts_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("ts"), TS)


def test_ts_namespace_default_export_equals_commonjs_and_tsconfig_paths(ts_ws: Any) -> None:
    app = "src/app.ts"
    assert meaning(ts_ws, app, "send", "http") == ["src/lib/http.ts:send"]  # paths alias
    assert meaning(ts_ws, app, "client") == ["src/lib/http.ts:client"]  # export default x
    assert meaning(ts_ws, app, "Legacy") == ["src/lib/legacy.ts:Legacy"]  # export =
    assert meaning(ts_ws, app, "parse") == ["src/lib/cjs.js:parse"]  # module.exports =
    assert shown(top(ts_ws, TS, app), "src/lib/http.ts", "export function send(")


# --- Python ----------------------------------------------------------------------------

PY = {
    "pkg/__init__.py": "from pkg._models import *\nfrom pkg._api import get\n",
    "pkg/_models.py": "class Headers:\n    pass\n\n\nclass Cookies:\n    pass\n",
    "pkg/_api.py": "def get(url):\n    return url\n",
    "tests/test_it.py": "import pkg\n\n\ndef test_get():\n    pkg.get('/')\n"
    "    cookies = pkg.Cookies()\n    headers = pkg.<|>\n",
    "tests/test_more.py": "import pkg\n\n\ndef test_headers():\n    headers = pkg.Headers()\n",
}


@pytest.fixture(scope="module")
def py_ws(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("py"), PY)


def test_python_module_members_include_its_reexports(py_ws: Any) -> None:
    test = "tests/test_it.py"
    assert meaning(py_ws, test, "Headers", "pkg") == ["pkg/_models.py:Headers"]  # import *
    assert meaning(py_ws, test, "get", "pkg") == ["pkg/_api.py:get"]
    assert shown(top(py_ws, PY, test), "pkg/_models.py", "class Headers")


def test_continuation_pattern_captures_what_follows_the_cursors_last_tokens() -> None:
    from server.context.relevance import _tail_pattern

    pattern = _tail_pattern("\treturn func(c *", 3)
    assert pattern is not None
    found = pattern.findall("r.GET(func(c *Context) {}); x := func(c *gin.Context)")
    assert found == ["Context", "gin"]
    assert _tail_pattern("\t&", 2) is None  # punctuation alone says nothing


C_OWN = {  # x.h declares what x.c defines; util.h is another module x.c uses
    "x.h": '#ifndef X_H\n#define X_H\n#include "util.h"\nextern int x_count;\n'
    "int x_open(void);\n#endif\n",
    "util.h": "int util_max(int a, int b);\n",
    "util.c": '#include "util.h"\n\nint util_max(int a, int b)\n{\n    return a > b ? a : b;\n}\n',
    "y.c": '#include "util.h"\n\nint y(void)\n{\n    return util_max(1, 2);\n}\n',
    "x.c": '#include "x.h"\n\nint x_count = 0;\n\nint x_open(void)\n{\n    x_count++;\n'
    "    return <|>util_max(x_count, 1);\n}\n",
}


def test_c_file_is_not_offered_its_own_header_declarations(tmp_path: Path) -> None:
    index = index_files(tmp_path, C_OWN)
    snippets = top(index, C_OWN, "x.c")
    assert shown(snippets, "util.h", "int util_max(")
    # x.h's declarations of x.c's own names, and its include guard, are not the scope's.
    assert not any(p == "x.h" for p, _ in snippets), snippets


C_MACROS = {
    "api.h": "#define API_CHECK(cond, msg)          \\\n    do {                          \\\n"
    "        if (!(cond)) api_fail(msg);   \\\n    } while (0)\n"
    "#define API_LIMIT                      64\n"
    "static inline int api_twice(int v) {\n    int w = v;\n    return w + v;\n}\n",
}


def test_c_digest_shows_a_macro_by_its_head_and_an_inline_function_by_its_signature(
    tmp_path: Path,
) -> None:
    """What a caller needs, in few characters: the alignment padding, a macro's body and an
    inline function's body are left out."""
    from server.context.digest import declaration_lines

    index = index_files(tmp_path, C_MACROS)
    entry = view_for(index).files["api.h"]
    shown = {
        d.name: list(declaration_lines(entry, d).values())
        for d in entry.definitions
        if d.name.startswith(("API_", "api_"))
    }
    assert shown["API_CHECK"] == ["#define API_CHECK(cond, msg) \\"], shown
    assert shown["API_LIMIT"] == ["#define API_LIMIT 64"], shown
    assert shown["api_twice"] == ["static inline int api_twice(int v) {"], shown
