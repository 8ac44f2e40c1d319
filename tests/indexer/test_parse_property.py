"""Property: valid code in every grammar language never falls back to line windows, and
every generated definition at the top level or in a class-like body yields a symbol.

Hypothesis generates a program shape (functions and containers, nested; comment runs and
blank lines above each; statements and nested functions in bodies; trailing comments) and
each language renders it in its own idiom: Python classes, JS classes, TS namespaces and
classes, TSX components, Go structs with methods, Rust structs with impl blocks and
modules, Java (inner) classes, C structs and typedefs, C++ namespaces, classes and
templates. Where a language cannot nest a container, it is hoisted to the top level.
Namespaces and modules are transparent (their members are symbols, they are not).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.chunker import parse_file

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None


@dataclass
class Item:
    """A function (``children`` are nested functions) or a container (members)."""

    container: bool
    comments: int  # comment lines directly above
    blanks: int  # blank lines above the comments
    statements: int
    variant: bool  # a language's second form (decorator, namespace, typedef, template...)
    children: list[Item] = field(default_factory=list)


def _item(children: st.SearchStrategy[list[Item]], container: bool) -> st.SearchStrategy[Item]:
    return st.builds(
        Item,
        container=st.just(container),
        comments=st.integers(0, 3),
        blanks=st.integers(0, 2),
        statements=st.integers(1, 4),
        variant=st.booleans(),
        children=children,
    )


ITEMS = st.recursive(
    _item(st.just([]), False),
    lambda inner: (
        _item(st.lists(inner, max_size=4), True)
        | _item(st.lists(_item(st.just([]), False), max_size=1), False)
    ),
    max_leaves=12,
)
PROGRAMS = st.tuples(st.lists(ITEMS, min_size=1, max_size=5), st.integers(0, 3))


class Renderer:
    """Turns items into source lines; ``expected`` gathers the names that must be symbols."""

    comment = "//"
    indent = "    "

    def __init__(self) -> None:
        self.expected: list[str] = []
        self.count = 0
        self.hoisted: list[Item] = []

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def lead(self, item: Item, pad: str) -> list[str]:
        lines = [""] * item.blanks
        lines += [f"{pad}{self.comment} note {i} about what follows" for i in range(item.comments)]
        return lines

    def program(self, items: list[Item], trailing: int) -> str:
        lines = self.header()
        queue = list(items)
        while queue:
            item = queue.pop(0)
            lines += self.top(item)
            queue += self.hoisted
            self.hoisted = []
        lines += [f"{self.comment} trailing remark {i}" for i in range(trailing)]
        return "\n".join(lines) + "\n"

    def header(self) -> list[str]:
        return []

    def top(self, item: Item) -> list[str]:
        raise NotImplementedError

    def body(self, item: Item, pad: str, stmt: str, result: str) -> list[str]:
        lines = [pad + stmt.format(i=i) for i in range(item.statements)]
        for child in item.children:
            lines += self.nested(child, pad)
        return [*lines, pad + result]

    def nested(self, item: Item, pad: str) -> list[str]:
        return []


class Python(Renderer):
    comment = "#"

    def top(self, item: Item, pad: str = "", method: bool = False) -> list[str]:
        name = self.name("C" if item.container else ("m" if method else "f"))
        self.expected.append(name)
        lines = self.lead(item, pad)
        if item.container:
            lines.append(f"{pad}class {name}(Base):")
            if item.variant:
                lines.append(f'{pad}    """A generated class."""')
            for child in item.children:
                lines += self.top(child, pad + "    ", method=True)
            return [*lines, f"{pad}    size = {item.statements}"]
        if item.variant:
            lines.append(f"{pad}@cached")
        args = "self, a, b" if method else "a, b"
        lines.append(f"{pad}def {name}({args}):")
        stmt = "value_{i} = compute(a, {i})"
        return lines + self.body(item, pad + "    ", stmt, "return value_0")

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [f"{pad}def {name}(x):", f"{pad}    return x + 1"]


class JavaScript(Renderer):
    indent = "  "
    stmt = "const value{i} = compute(a, {i});"

    def top(self, item: Item, pad: str = "", method: bool = False) -> list[str]:
        name = self.name("C" if item.container else ("m" if method else "f"))
        self.expected.append(name)
        lines = self.lead(item, pad)
        if item.container:
            return lines + self.container(item, name, pad)
        head = f"{name}(a, b) {{" if method else self.function_head(item, name)
        lines.append(pad + head)
        return [*lines, *self.body(item, pad + "  ", self.stmt, self.result()), pad + "}"]

    def function_head(self, item: Item, name: str) -> str:
        return f"{'export ' if item.variant else ''}function {name}(a, b) {{"

    def result(self) -> str:
        return "return value0;"

    def container(self, item: Item, name: str, pad: str) -> list[str]:
        lines = [f"{pad}export class {name} extends Base {{"]
        for child in item.children:
            if child.container:
                self.hoisted.append(child)
            else:
                lines += self.top(child, pad + "  ", method=True)
        return [*lines, f"{pad}}}"]

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [f"{pad}function {name}(x) {{", f"{pad}  return x + 1;", f"{pad}}}"]


class TypeScript(JavaScript):
    stmt = "const value{i}: number = compute(a, {i});"

    def function_head(self, item: Item, name: str) -> str:
        return f"export function {name}(a: number, b: string): number {{"

    def container(self, item: Item, name: str, pad: str) -> list[str]:
        if not item.variant:
            return super().container(item, name, pad)
        self.expected.remove(name)  # namespaces are transparent: their members qualify
        lines = [f"{pad}export namespace {name} {{"]
        for child in item.children:
            lines += self.top(child, pad + "  ")
        interface = f"{pad}  export interface Shape{self.count} {{ size: number }}"
        return [*lines, interface, f"{pad}}}"]


class Tsx(TypeScript):
    def result(self) -> str:
        return 'return <div className="box">{value0}</div>;'


class Go(Renderer):
    indent = "\t"

    def header(self) -> list[str]:
        return ["package sample", "", 'import "fmt"']

    def top(self, item: Item, receiver: str = "") -> list[str]:
        name = self.name("C" if item.container else ("m" if receiver else "f"))
        self.expected.append(name)
        lines = self.lead(item, "")
        if item.container:
            lines += [f"type {name} struct {{", "\tsize int", "}"]
            for child in item.children:
                if child.container:
                    self.hoisted.append(child)
                else:
                    lines += self.top(child, receiver=name)
            return lines
        recv = f"(r *{receiver}) " if receiver else ""
        lines.append(f"func {recv}{name}(a int, b string) int {{")
        stmt = "value{i} := compute(a, {i})"
        result = "return value0 + len(fmt.Sprint(b))"
        return [*lines, *self.body(item, "\t", stmt, result), "}"]

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [
            f"{pad}{name} := func(x int) int {{",
            f"{pad}\treturn x + 1",
            f"{pad}}}",
            f"{pad}_ = {name}",
        ]


class Rust(Renderer):
    def top(self, item: Item, pad: str = "", method: bool = False) -> list[str]:
        name = self.name("C" if item.container else ("m" if method else "f"))
        self.expected.append(name)
        lines = self.lead(item, pad)
        if item.container and any(child.container for child in item.children):
            self.expected.remove(name)  # a module is transparent: its items are symbols
            lines.append(f"{pad}pub mod {name} {{")
            for child in item.children:
                lines += self.top(child, pad + "    ")
            return [*lines, f"{pad}}}"]
        if item.container:
            lines += [f"{pad}pub struct {name} {{", f"{pad}    size: i32,", f"{pad}}}", ""]
            lines.append(f"{pad}impl {name} {{")
            for child in item.children:
                lines += self.top(child, pad + "    ", method=True)
            return [*lines, f"{pad}}}"]
        if item.variant:
            lines.append(f"{pad}#[inline]")
        args = "&self, a: i32" if method else "a: i32, b: &str"
        lines.append(f"{pad}pub fn {name}({args}) -> i32 {{")
        body = self.body(item, pad + "    ", "let value{i} = compute(a, {i});", "value0")
        return [*lines, *body, f"{pad}}}"]

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [f"{pad}fn {name}(x: i32) -> i32 {{", f"{pad}    x + 1", f"{pad}}}"]


class Java(Renderer):
    def top(self, item: Item, pad: str = "") -> list[str]:
        if not item.container and not pad:  # Java has no top-level functions
            item = Item(True, item.comments, item.blanks, 1, False, [item])
        name = self.name("C" if item.container else "m")
        self.expected.append(name)
        lines = self.lead(item, pad)
        if item.container:
            static = "static " if pad else ""
            lines.append(f"{pad}{static}class {name} extends Base {{")
            for child in item.children:
                lines += self.top(child, pad + "    ")
            return [*lines, f"{pad}}}"]
        if item.variant:
            lines.append(f"{pad}@Override")
        lines.append(f"{pad}public int {name}(int a, String b) {{")
        body = self.body(item, pad + "    ", "int value{i} = compute(a, {i});", "return value0;")
        return [*lines, *body, f"{pad}}}"]

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [f"{pad}IntUnaryOperator {name} = (x) -> {{", f"{pad}    return x + 1;", f"{pad}}};"]


class C(Renderer):
    def header(self) -> list[str]:
        return ["#include <stdio.h>", '#include "sample.h"']

    def top(self, item: Item, owner: str = "") -> list[str]:
        name = self.name("C" if item.container else (f"{owner}_m" if owner else "f"))
        self.expected.append(name)
        lines = self.lead(item, "")
        if item.container:
            if item.variant:
                lines += ["typedef struct {", "    int size;", f"}} {name};"]
            else:
                lines += [f"struct {name} {{", "    int size;", "};"]
            for child in item.children:
                if child.container:
                    self.hoisted.append(child)
                else:
                    lines += ["", *self.top(child, owner=name)]
            return lines
        signature = f"int {name}(int a, const char *b)"
        lines += [f"static {signature}", "{"] if item.variant else [f"{signature} {{"]
        self.hoisted += item.children  # C has no nested functions
        item = Item(False, 0, 0, item.statements, False)
        body = self.body(item, "    ", "int value{i} = compute(a, {i});", "return value0;")
        return [*lines, *body, "}"]


class Cpp(Renderer):
    def header(self) -> list[str]:
        return ["#include <string>", '#include "sample.hpp"']

    def top(self, item: Item, pad: str = "", in_class: bool = False) -> list[str]:
        name = self.name("C" if item.container else ("m" if in_class else "f"))
        self.expected.append(name)
        lines = self.lead(item, pad)
        inner = pad + "    "
        if item.container and item.variant and not in_class:
            self.expected.remove(name)  # a namespace is transparent: its members are symbols
            lines.append(f"{pad}namespace {name.lower()} {{")
            for child in item.children:
                lines += self.top(child, inner)
            return [*lines, f"{pad}}}  // namespace {name.lower()}"]
        if item.container:
            lines += [f"{pad}class {name} : public Base {{", f"{pad}  public:"]
            for child in item.children:
                lines += self.top(child, inner, in_class=True)
            return [*lines, f"{pad}}};"]
        if item.variant:
            lines += [f"{pad}template <typename T>", f"{pad}T {name}(T a, const std::string &b) {{"]
        else:
            lines.append(f"{pad}int {name}(int a, const std::string &b) {{")
        body = self.body(item, inner, "auto value{i} = compute(a, {i});", "return value0;")
        return [*lines, *body, f"{pad}}}"]

    def nested(self, item: Item, pad: str) -> list[str]:
        name = self.name("inner")
        return [f"{pad}auto {name} = [&](int x) {{", f"{pad}    return x + 1;", f"{pad}}};"]


RENDERERS: dict[str, tuple[str, type[Renderer]]] = {
    "python": ("sample.py", Python),
    "javascript": ("sample.js", JavaScript),
    "typescript": ("sample.ts", TypeScript),
    "tsx": ("sample.tsx", Tsx),
    "go": ("sample.go", Go),
    "rust": ("sample.rs", Rust),
    "java": ("Sample.java", Java),
    "c": ("sample.c", C),
    "cpp": ("sample.cpp", Cpp),
}


@settings(
    max_examples=EXAMPLES or 40,
    deadline=None,
    derandomize=EXAMPLES is None,  # deterministic in CI; FUZZ_EXAMPLES=2000 to explore
    suppress_health_check=[HealthCheck.too_slow],
)
@given(PROGRAMS)
def test_valid_code_never_falls_back_and_every_definition_is_a_symbol(
    program: tuple[list[Item], int],
) -> None:
    items, trailing = program
    for language, (path, renderer_type) in RENDERERS.items():
        renderer = renderer_type()
        text = renderer.program(items, trailing)
        parsed = parse_file(path, text)
        assert parsed.language == language
        assert parsed.fallback is None, f"{language}: {parsed.fallback}\n{text}"
        found = {d.name for d in parsed.definitions}
        missed = [n for n in renderer.expected if n not in found]
        assert not missed, f"{language}: no symbol for {missed}\n{text}"
