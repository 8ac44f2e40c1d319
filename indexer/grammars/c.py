"""C and C++: functions, structs/classes/enums, typedefs, globals, macros, namespaces and
``#if`` blocks (transparent); ``#include`` with paths near the file and as suffixes."""

from __future__ import annotations

import posixpath
import re

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Desc,
    Name,
    Scope,
    anchored,
    child_field,
    join_relative,
    make_name,
    text_of,
    var_kind,
)
from indexer.types import ImportRef

_C_DECLARATOR_NAMES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "primitive_type",
    }
)
_C_RECORDS = {
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "enum_specifier": "enum",
    "class_specifier": "class",
}
_C_TRANSPARENT = frozenset(
    {"preproc_if", "preproc_ifdef", "linkage_specification", "namespace_definition"}
)


def _c_declarator(node: Node | None) -> tuple[str, bool]:
    """The declared name under a declarator chain, and whether it declares a function."""
    is_function = False
    while node is not None and node.type not in _C_DECLARATOR_NAMES:
        if node.type == "function_declarator":
            is_function = True
        inner = child_field(node, "declarator")
        if inner is None:
            named = [c for c in node.named_children if c.type != "attribute_specifier"]
            inner = named[0] if named else None
        node = inner
    return text_of(node), is_function


# Names a misread macro can leave where a declarator belongs (``MACRO if (x) {`` reads as
# a function named "if").
_KEYWORDS = frozenset(
    {"public", "private", "protected", "signals", "slots", "operator"}
    | {"if", "for", "while", "switch", "return", "sizeof", "namespace"}
    # ``CURL_EXTERN struct x *f(void);`` reads as a variable named "struct" of type
    # CURL_EXTERN, then a second declaration: a type keyword is never a declared name.
    | {"struct", "union", "enum", "class", "const", "volatile", "static", "extern", "inline"}
    | {"void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "bool"}
)


_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")
# Definitions that cannot stand in a function body: a "function" holding them is a macro
# the parser misread (``FMT_BEGIN_NAMESPACE namespace detail {``, or a ``TEST(a, b) {``
# whose braces an #if unbalanced, taken for a function running to the end of the file).
_NOT_IN_BODIES = frozenset({"function_definition", "template_declaration", "namespace_definition"})


def _split_scope(qualified: str) -> tuple[str, str]:
    parts = [p.strip() for p in qualified.split("::")]
    # A macro before the return type (``SPDLOG_INLINE std::string name()``) makes the
    # parser read the type into the name: what follows the type's last space is the name.
    for i in range(len(parts) - 1, -1, -1):
        bare = parts[i]
        while "<" in bare and (stripped := _TEMPLATE_ARGS.sub("", bare)) != bare:
            bare = stripped
        if " " in bare and not bare.startswith("operator"):
            name = bare.rsplit(" ", 1)[1].lstrip("*&").split("(", 1)[0]
            parts = [name, *parts[i + 1 :]]
            break
    return ".".join(p.split("<", 1)[0] for p in parts[:-1] if p), parts[-1]


# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"comment"})


def describe(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    kind = node.type
    if kind in COMMENTS:
        return Desc("comment", node)
    inner = node
    while inner.type == "template_declaration":
        named = [c for c in inner.named_children if c.type != "template_parameter_list"]
        if not named:
            break
        inner = named[-1]
    kind = inner.type
    if kind == "function_definition":
        body = child_field(inner, "body")
        declared, is_function = _c_declarator(child_field(inner, "declarator"))
        scope, name = _split_scope(declared)
        fkind = "method" if in_class or scope else "function"
        own = [] if name in _KEYWORDS or not name else [make_name(node, name, fkind, inner, scope)]
        if body is not None and any(c.type in _NOT_IN_BODIES for c in body.named_children):
            # A misread macro: what it holds is read as if at the top level.
            return Desc("container", inner, own if is_function else [], body, "", False)
        if not own:
            return Desc("code", node)  # a macro (Q_OBJECT) made the parser misread the class
        return Desc("def", inner, own, body=body)
    record = inner
    if kind == "type_definition":
        spec = child_field(inner, "type")
        if spec is not None and spec.type in _C_RECORDS and child_field(spec, "body") is not None:
            alias, _ = _c_declarator(child_field(inner, "declarator"))
            name = alias or text_of(child_field(spec, "name"))
            names = [make_name(node, name, _C_RECORDS[spec.type], inner)]
            return Desc("container", inner, names, body=child_field(spec, "body"), prefix=name)
        alias, _ = _c_declarator(child_field(inner, "declarator"))
        return Desc("code", node, [make_name(node, alias, "type", inner)] if alias else [])
    if kind in _C_RECORDS and child_field(record, "body") is not None:
        name = text_of(child_field(record, "name"))
        scope, short = _split_scope(name)
        names = [make_name(node, short, _C_RECORDS[kind], inner, scope)] if short else []
        return Desc("container", inner, names, body=child_field(record, "body"), prefix=short)
    if kind in _C_TRANSPARENT:
        body = child_field(inner, "body") or inner
        if kind == "linkage_specification" and body.type != "declaration_list":
            body = inner  # extern "C" before one declaration: that declaration is the member
        prefix = (
            text_of(child_field(inner, "name")).replace("::", ".")
            if kind.startswith("name")
            else ""
        )
        return Desc("container", inner, body=body, prefix=prefix, summarize=False)
    spec = child_field(inner, "type") if kind in ("declaration", "field_declaration") else None
    if spec is not None and spec.type in _C_RECORDS and child_field(spec, "body") is not None:
        tag = text_of(child_field(spec, "name"))
        if tag and not inner.children_by_field_name("declarator"):
            # `class Inner { ... };` in a class body is a field declaration: the class
            scope, short = _split_scope(tag)
            names = [make_name(node, short, _C_RECORDS[spec.type], inner, scope)]
            return Desc("container", spec, names, body=child_field(spec, "body"), prefix=short)
    names = []
    if kind in ("preproc_def", "preproc_function_def"):
        ident = text_of(child_field(inner, "name"))
        pkind = "function" if kind == "preproc_function_def" else var_kind(ident)
        names.append(make_name(node, ident, pkind))
    elif kind == "alias_declaration":
        names.append(make_name(node, text_of(child_field(inner, "name")), "type", inner))
    elif kind in ("declaration", "field_declaration") and not in_class:
        if spec is not None and spec.type in _C_RECORDS and child_field(spec, "body"):
            tag = text_of(child_field(spec, "name"))  # `struct tag { ... } var;`: both
            if tag:
                names.append(make_name(node, tag, _C_RECORDS[spec.type], inner))
        for declarator in inner.children_by_field_name("declarator"):
            declared, is_function = _c_declarator(declarator)
            if not declared:
                continue
            scope, ident = _split_scope(declared)
            if ident in _KEYWORDS:
                continue  # a macro (Q_OBJECT) misread the access specifier as a declaration
            dkind = "function" if is_function else var_kind(ident)
            names.append(make_name(node, ident, dkind, inner, scope))
    elif kind in ("declaration", "field_declaration"):
        for declarator in inner.children_by_field_name("declarator"):
            declared, is_function = _c_declarator(declarator)
            if declared and is_function:
                names.append(make_name(node, declared, "method", inner))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor((b"include",), frozenset({"preproc_include"}), line_start=True, directive=True)


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        target = node.child_by_field_name("path")
        if target is None:
            continue
        raw = text_of(target).strip()
        spec = raw[1:-1] if len(raw) >= 2 and raw[0] in '"<' else raw
        if not spec:
            continue
        candidates: list[str] = []
        if raw.startswith('"'):
            near = join_relative(path, spec)
            if near is not None:
                candidates.append(near)
        cleaned = posixpath.normpath(spec)
        if not cleaned.startswith(".."):
            candidates.append(cleaned)
        line = node.start_point.row + 1
        refs.append(ImportRef("*", spec, "*", line, tuple(dict.fromkeys(candidates))))
    return refs


_HEADERS = frozenset({".h", ".hh", ".hpp", ".hxx", ".h++"})


def is_listing(path: str) -> bool:
    """A header: a list of declarations whose bodies live elsewhere."""
    return posixpath.splitext(path)[1].lower() in _HEADERS


_TYPES = frozenset({"type", "struct", "enum", "class"})
_CONSTANTS = frozenset({"const"})  # object-like macros and enumerators (UPPER_CASE)
# What stands before a name on its line, and the kinds it says the name is.
_EXPECTED = (
    (re.compile(r"^\s*#\s*(?:ifn?def|undef)\s+$|\bdefined\s*\(?\s*$"), _CONSTANTS),
    (re.compile(r"\b(?:struct|union)\s+$"), frozenset({"struct"})),
    (re.compile(r"\benum\s+$"), frozenset({"enum"})),
    (re.compile(r"^\s*case\s+$"), _CONSTANTS),
    # A storage class or qualifier starts a declaration: its type comes next.
    (re.compile(r"^\s*(?:(?:static|extern|const|volatile|inline|register)\s+)+$"), _TYPES),
)


def expected_kinds(lines: list[str]) -> frozenset[str]:
    """What the name after ``lines[-1]`` is, by what stands before it on its line:
    ``#ifdef``/``defined(`` a macro constant, ``struct`` a struct, ``case`` a constant,
    ``static``/``extern``/``const`` at a declaration's start a type."""
    line = lines[-1] if lines else ""
    for pattern, kinds in _EXPECTED:
        if pattern.search(line):
            return kinds
    return frozenset()


# A function declared in an included header is usually defined in a source file.
SCOPE = Scope(implemented_elsewhere=True, listing=is_listing, expected_kinds=expected_kinds)
