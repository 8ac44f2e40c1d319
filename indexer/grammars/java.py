"""Java: classes, interfaces, enums, records and their methods; single, wildcard and static
imports."""

from __future__ import annotations

import re

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Desc,
    Scope,
    anchored,
    child_field,
    make_name,
    text_of,
)
from indexer.types import ImportRef

_JAVA_CONTAINERS = {
    "class_declaration": "class",
    "record_declaration": "class",
    "interface_declaration": "interface",
    "annotation_type_declaration": "interface",
    "enum_declaration": "enum",
}
_JAVA_METHODS = frozenset(
    {"method_declaration", "constructor_declaration", "compact_constructor_declaration"}
)


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind in ("line_comment", "block_comment"):
        return Desc("comment", node)
    name = text_of(child_field(node, "name"))
    if kind in _JAVA_CONTAINERS:
        names = [make_name(node, name, _JAVA_CONTAINERS[kind], child_field(node, "name"))]
        return Desc("container", node, names, body=child_field(node, "body"), prefix=name)
    if kind in _JAVA_METHODS:
        names = [
            make_name(node, name, "method" if in_class else "function", child_field(node, "name"))
        ]
        body = child_field(node, "body")
        if body is None:
            return Desc("code", node, names)
        return Desc("def", node, names, body=body)
    return Desc("code", node)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor(re.compile(rb"(?m)^[ \t]*import\b"), frozenset({"import_declaration"}))


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        target = next(
            (c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None
        )
        parts = [p for p in "".join(text_of(target).split()).split(".") if p]
        if not parts:
            continue
        is_static = any(c.type == "static" for c in node.children)
        wildcard = any(c.type == "asterisk" for c in node.named_children)
        dotted = ".".join(parts)
        if wildcard and is_static:  # the static members of a type: "Type.*"
            candidates = (f"{'/'.join(parts)}.java",)
            refs.append(ImportRef("*", dotted, f"{parts[-1]}.*", line, candidates))
        elif wildcard:
            refs.append(ImportRef("*", dotted, "*", line, (f"{'/'.join(parts)}/",)))
        elif is_static and len(parts) > 1:  # a member, keyed by its type: "Type.member"
            module = ".".join(parts[:-1])
            member = ".".join(parts[-2:])
            refs.append(
                ImportRef(parts[-1], module, member, line, (f"{'/'.join(parts[:-1])}.java",))
            )
        else:
            module = ".".join(parts[:-1])
            refs.append(ImportRef(parts[-1], module, parts[-1], line, (f"{'/'.join(parts)}.java",)))
    return refs


# --- scope ---------------------------------------------------------------------------


def _package(path: str, siblings: list[str]) -> list[str]:
    """A package is a folder: its other .java files see each other's types."""
    return [p for p in siblings if p != path and p.endswith(".java")]


SCOPE = Scope(package=_package)
