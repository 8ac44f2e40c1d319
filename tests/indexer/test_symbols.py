"""Definitions and imports per language, as the symbol table and resolver see them."""

from __future__ import annotations

import pytest

from indexer.chunker import parse_file
from indexer.types import ImportRef


def defs(path: str, text: str) -> dict[str, str]:
    return {d.qualified: d.kind for d in parse_file(path, text).definitions}


def imports(path: str, text: str) -> list[ImportRef]:
    return parse_file(path, text).imports


def test_python_definitions() -> None:
    text = (
        "MAX = 3\nname, other = 'a', 'b'\ntype Alias = int\n"
        "def top(): pass\n"
        "class A:\n    limit = 1\n    def m(self): pass\n"
        "    class Inner:\n        def deep(self): pass\n"
        "@decorator\nasync def coro(): pass\n"
    )
    assert defs("m.py", text) == {
        "MAX": "const",
        "name": "variable",
        "other": "variable",
        "Alias": "type",
        "top": "function",
        "A": "class",
        "A.m": "method",
        "A.Inner": "class",
        "A.Inner.deep": "method",
        "coro": "function",
    }


def test_python_definition_lines_include_decorators() -> None:
    parsed = parse_file("m.py", "\n@cache\ndef f():\n    return 1\n")
    assert [(d.qualified, d.start_line, d.end_line) for d in parsed.definitions] == [("f", 2, 4)]


def test_python_imports_absolute_relative_aliases_and_stars() -> None:
    text = (
        "import a.b\nimport a.b as c\nfrom a.b import X as Y\n"
        "from . import sibling\nfrom ..m import *\nfrom .pkg.mod import Z\n"
    )
    refs = imports("pkg/sub/file.py", text)
    got = [(r.local_name, r.module, r.name, r.line) for r in refs]
    assert got == [
        ("a.b", "a.b", None, 1),
        ("c", "a.b", None, 2),
        ("Y", "a.b", "X", 3),
        ("sibling", ".", "sibling", 4),
        ("*", "..m", "*", 5),
        ("Z", ".pkg.mod", "Z", 6),
    ]
    cands = {r.local_name: r.candidates for r in refs}
    assert cands["a.b"] == ("a/b.py", "a/b/__init__.py")
    assert cands["Y"] == ("a/b/X.py", "a/b/X/__init__.py", "a/b.py", "a/b/__init__.py")
    assert cands["sibling"] == (
        "pkg/sub/sibling.py",
        "pkg/sub/sibling/__init__.py",
        "pkg/sub/__init__.py",
    )
    assert cands["*"] == ("pkg/m.py", "pkg/m/__init__.py")
    assert cands["Z"][-2:] == ("pkg/sub/pkg/mod.py", "pkg/sub/pkg/mod/__init__.py")


def test_python_relative_import_above_the_root_has_no_candidates() -> None:
    (ref,) = imports("top.py", "from ...far import x\n")
    assert ref.candidates == ()


def test_javascript_and_typescript_definitions() -> None:
    text = (
        "export const VERSION = '1';\nlet counter = 0;\n"
        "export function f() {}\nconst g = () => 1;\n"
        "export default class K { m() {} static s() {} }\n"
        "export interface I { x: number; run(): void }\n"
        "export type T = string;\nenum E { A }\n"
    )
    assert defs("a.ts", text) == {
        "VERSION": "const",
        "counter": "variable",
        "f": "function",
        "g": "function",
        "K": "class",
        "K.m": "method",
        "K.s": "method",
        "I": "interface",
        "I.run": "method",
        "T": "type",
        "E": "enum",
    }


def test_javascript_imports_with_candidates() -> None:
    text = (
        "import D, {A as B} from './x';\nimport * as ns from '../lib';\n"
        "const q = require('./q.js');\nexport {E} from './e';\nexport * from './all';\n"
        "import 'react';\n"
    )
    refs = imports("src/app/main.ts", text)
    got = [(r.local_name, r.module, r.name) for r in refs]
    assert got == [
        ("D", "./x", "default"),
        ("B", "./x", "A"),
        ("ns", "../lib", None),
        ("q", "./q.js", None),
        ("E", "./e", "E"),
        ("*", "./all", "*"),
        ("", "react", None),
    ]
    by_local = {r.local_name: r.candidates for r in refs}
    assert by_local["D"][:2] == ("src/app/x.ts", "src/app/x.tsx")
    assert "src/app/x/index.ts" in by_local["D"]
    assert "src/lib/index.js" in by_local["ns"]
    assert by_local["q"] == ("src/app/q.js", "src/app/q.ts", "src/app/q.tsx")
    assert by_local[""] == ()  # a package from node_modules


def test_typescript_exports_of_declarations_are_no_imports() -> None:
    # `export <declaration>` binds nothing else; `export type {`, `import type X` and
    # `export default x` do.
    text = (
        "export function f() {}\nexport class C {}\nexport const k = 1;\n"
        "export type T = string;\nexport interface I {}\nexport declare const d: T;\n"
        "import type X from './x';\nexport type { Y } from './y';\n"
        "export type * from './z';\nexport default f;\nexport { C as Klass };\n"
        "export async function g() { const m = require('./m'); }\n"
    )
    refs = imports("src/a.ts", text)
    got = [(r.local_name, r.module, r.name) for r in refs]
    assert got == [
        ("X", "./x", "default"),
        ("Y", "./y", "Y"),
        ("*", "./z", "*"),
        ("default", "", "f"),
        ("Klass", "", "C"),
        ("m", "./m", None),
    ]


def test_go_definitions_and_imports() -> None:
    text = (
        'package p\n\nimport (\n\t"fmt"\n\tstore "github.com/acme/app/internal/store"\n'
        '\t"github.com/acme/app/v2"\n)\n\n'
        "const A, B = 1, 2\nvar V int\ntype S struct{ x int }\ntype I interface{ M() }\n"
        "type N = int\nfunc (s *S) Get() int { return s.x }\nfunc F() {}\n"
        "func (l *List[T]) Push(v T) {}\n"
    )
    assert defs("p/p.go", text) == {
        "A": "const",
        "B": "const",
        "V": "variable",
        "S": "struct",
        "I": "interface",
        "N": "type",
        "S.Get": "method",
        "F": "function",
        "List.Push": "method",
    }
    refs = imports("p/p.go", text)
    assert [(r.local_name, r.module) for r in refs] == [
        ("fmt", "fmt"),
        ("store", "github.com/acme/app/internal/store"),
        ("app", "github.com/acme/app/v2"),
    ]
    assert refs[0].candidates == ()  # standard library
    assert refs[1].candidates[0] == "github.com/acme/app/internal/store/"
    assert "internal/store/" in refs[1].candidates
    assert all(c.endswith("/") for c in refs[1].candidates)


def test_rust_definitions_and_imports() -> None:
    text = (
        "use crate::a::b::C;\nuse super::{x, y::Z as W};\nuse std::io::*;\nmod m;\n"
        "pub struct S { a: i32 }\nenum E { A }\ntrait T { fn t(&self); }\n"
        "impl S { pub fn new() -> Self { S { a: 1 } } }\n"
        "const K: i32 = 1;\nstatic mut G: i32 = 2;\ntype A = i32;\nfn f() {}\n"
    )
    assert defs("src/a/lib.rs", text) == {
        "S": "struct",
        "E": "enum",
        "T": "trait",
        "T.t": "method",
        "S.new": "method",
        "K": "const",
        "G": "variable",
        "A": "type",
        "f": "function",
    }
    refs = {r.local_name: r for r in imports("src/a/b.rs", text)}
    assert refs["C"].module == "crate::a::b" and refs["C"].name == "C"
    assert refs["C"].candidates[:4] == (
        "src/a/b/C.rs",
        "src/a/b/C/mod.rs",
        "src/a/b.rs",
        "src/a/b/mod.rs",
    )
    assert refs["x"].candidates[-2:] == ("src/a.rs", "src/a/mod.rs")  # super of a::b is a
    assert refs["W"].name == "Z" and "src/a/y.rs" in refs["W"].candidates
    assert refs["*"].module == "std::io"
    assert refs["m"].candidates == ("src/a/b/m.rs", "src/a/b/m/mod.rs")


def test_java_definitions_and_imports() -> None:
    text = (
        "package p;\nimport java.util.List;\nimport com.acme.model.*;\n"
        "import static com.acme.Util.trim;\n"
        "public class A {\n  int f;\n  A() {}\n  void m() {}\n  interface Inner { void q(); }\n}\n"
        "enum E { X; void e() {} }\n"
    )
    assert defs("p/A.java", text) == {
        "A": "class",
        "A.A": "method",
        "A.m": "method",
        "A.Inner": "interface",
        "A.Inner.q": "method",
        "E": "enum",
        "E.e": "method",
    }
    refs = imports("p/A.java", text)
    assert [(r.local_name, r.candidates) for r in refs] == [
        ("List", ("java/util/List.java",)),
        ("*", ("com/acme/model/",)),
        ("trim", ("com/acme/Util.java",)),
    ]


@pytest.mark.parametrize("language_ext", ["c", "cpp"])
def test_c_family_definitions_and_includes(language_ext: str) -> None:
    text = (
        '#include "util/log.h"\n#include <stdio.h>\n#define LIMIT 4\n'
        "typedef struct Node { int v; } Node;\nstatic int count;\n"
        "int add(int a, int b) { return a + b; }\nvoid proto(void);\n"
        "#ifndef GUARD\nint guarded(void) { return 1; }\n#endif\n"
    )
    found = defs(f"src/main.{language_ext}", text)
    assert found == {
        "LIMIT": "const",
        "Node": "struct",
        "count": "variable",
        "add": "function",
        "proto": "function",
        "guarded": "function",
    }
    refs = imports(f"src/main.{language_ext}", text)
    assert [(r.local_name, r.candidates) for r in refs] == [
        ("*", ("src/util/log.h", "util/log.h")),
        ("*", ("stdio.h",)),
    ]


def test_cpp_classes_namespaces_and_out_of_class_methods() -> None:
    text = (
        "namespace geo {\nclass Circle { public: double area() const { return 0; } };\n"
        "template <typename T> T id(T v) { return v; }\n}\n"
        "double geo::Circle::radius() const { return 1; }\nusing Alias = int;\n"
        "struct P { int y; };\n"
    )
    assert defs("a.cpp", text) == {
        "geo.Circle": "class",
        "geo.Circle.area": "method",
        "geo.id": "function",
        "geo.Circle.radius": "method",
        "Alias": "type",
        "P": "struct",
    }


def test_definitions_sharing_a_row_keep_all_their_names() -> None:
    text = "public class A { int f; A() {} void m() {} interface Inner { void q(); } }\n"
    assert set(defs("A.java", text)) == {"A", "A.A", "A.m", "A.Inner", "A.Inner.q"}
    text = "namespace n { struct S { void f(); }; } struct T { int g() { return 1; } };\n"
    assert set(defs("a.cpp", text)) == {"n.S", "n.S.f", "T", "T.g"}


def test_python_names_defined_in_top_level_try_and_if_blocks() -> None:
    text = (
        "try:\n    from fast import parse\nexcept ImportError:\n    def parse(x):\n"
        "        return x\nif TYPE_CHECKING:\n    class Hint: ...\nelse:\n    LIMIT = 3\n"
    )
    assert defs("m.py", text) == {"parse": "function", "Hint": "class", "LIMIT": "const"}


def test_javascript_commonjs_exports_and_arrow_fields() -> None:
    text = (
        "exports.parse = function (s) { return s; };\nmodule.exports.LIMIT = 3;\n"
        "class View {\n  onClick = (e) => { this.go(e); };\n  count = 0;\n}\n"
    )
    assert defs("v.js", text) == {
        "parse": "function",
        "LIMIT": "const",
        "View": "class",
        "View.onClick": "method",
    }


def test_rust_impl_of_a_generic_reference_type_qualifies_by_the_bare_name() -> None:
    text = "impl<'a, T> fmt::Display for &'a crate::x::Foo<T> {\n    fn fmt(&self) {}\n}\n"
    assert defs("a.rs", text) == {"Foo.fmt": "method"}


def test_cpp_headers_with_a_dot_h_extension_use_the_cpp_grammar() -> None:
    parsed = parse_file("inc/shape.h", "namespace geo {\nclass Shape {\n  int sides();\n};\n}\n")
    assert parsed.language == "cpp"
    assert {d.qualified for d in parsed.definitions} == {"geo.Shape", "geo.Shape.sides"}
    assert parse_file("inc/c.h", "int add(int a, int b);\n").language == "c"


def test_cpp_macro_before_an_access_specifier_does_not_invent_a_method() -> None:
    text = "class Widget : public QObject {\n  Q_OBJECT\n public:\n  void slot0(int v);\n};\n"
    assert "Widget.public" not in defs("w.cpp", text)


def test_c_export_macro_before_the_return_type_declares_the_function_only() -> None:
    text = (
        "CURL_EXTERN struct curl_header *curl_easy_nextheader(CURL *easy, int origin);\n"
        "CURL_EXTERN int curl_strequal(const char *s1, const char *s2);\n"
        "CURL_EXTERN unsigned long curl_version_num(void);\n"
    )
    assert defs("include/curl/header.h", text) == {
        "curl_easy_nextheader": "function",
        "curl_strequal": "function",
        "curl_version_num": "function",
    }


def test_anonymous_default_exports_are_named_default() -> None:
    assert defs("a.js", "export default class {\n  m() {}\n}\n") == {
        "default": "class",
        "default.m": "method",
    }
    assert defs("b.js", "export default () => 1;\n") == {"default": "function"}


def test_nested_imports_and_files_starting_with_blank_lines() -> None:
    text = (
        "\n\n\nimport os\n"
        "if TYPE_CHECKING:\n    from .types import Row\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "def lazy():\n    from .heavy import model\n    return model\n"
        'DOC = """\nfrom nowhere import nothing\n"""\n'
    )
    got = [(r.local_name, r.line) for r in imports("pkg/m.py", text)]
    assert got == [("os", 4), ("Row", 6), ("json", 8), ("json", 10), ("model", 12)]
    js = "\n\n  import { a } from './a';\nfunction f() {\n  const b = require('./b');\n}\n"
    assert [(r.local_name, r.line) for r in imports("src/x.js", js)] == [("a", 3), ("b", 5)]
    c = '\n\n#ifdef X\n  #include "x.h"\n#endif\n'
    assert [r.candidates for r in imports("src/m.c", c)] == [("src/x.h", "x.h")]
