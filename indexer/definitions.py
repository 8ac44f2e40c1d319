"""What a syntax node defines, per grammar language.

The chunker walks a file's top-level nodes (and the bodies of classes, impls and
namespaces) and asks :func:`describe` what each one is:

- ``def``: a function or method; its own chunk (split when too long);
- ``container``: a class/struct/interface/impl/namespace whose body holds members; one chunk
  when small, else a ``class_summary`` plus chunks for its members;
- ``code``: anything else, possibly defining names (constants, variables, type aliases);
- ``comment``: comments and attributes, attached to the definition they precede.

Everything here is best-effort and total: an unexpected node shape is plain ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

_CONST_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*")


@dataclass(slots=True)
class Name:
    """One defined name; rows are 0-based, ``header`` is the row holding its declaration."""

    name: str
    kind: str
    start: int
    end: int
    header: int


@dataclass(slots=True)
class Desc:
    """What a node is, for the chunker."""

    role: str  # def | container | code | comment
    node: Node  # the inner definition node (decorators and export wrappers removed)
    names: list[Name] = field(default_factory=list)
    body: Node | None = None  # container: holds the members; def: the statements (split points)
    prefix: str | None = None  # container: how members are qualified ("Parser")
    summarize: bool = True  # container: emit a class_summary when large (not for namespaces)


def text_of(node: Node | None) -> str:
    """A node's source text ("" for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def rows(node: Node) -> tuple[int, int]:
    """0-based inclusive rows; a node ending at column 0 does not own that last row."""
    start = node.start_point.row
    end = node.end_point.row
    if end > start and node.end_point.column == 0:
        end -= 1
    return start, end


def _name(node: Node, name: str, kind: str, header: Node | None = None) -> Name:
    start, end = rows(node)
    return Name(name, kind, start, end, (header or node).start_point.row)


def _var_kind(name: str) -> str:
    return "const" if _CONST_NAME.fullmatch(name) else "variable"


def _field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


# --- Python -------------------------------------------------------------------------------


def _py_targets(node: Node | None, out: list[Node]) -> None:
    if node is None:
        return
    if node.type == "identifier":
        out.append(node)
    elif node.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        for child in node.named_children:
            _py_targets(child, out)


def _python(node: Node, in_class: bool) -> Desc:
    kind = node.type
    inner = node
    if kind == "decorated_definition":
        inner = _field(node, "definition") or node
    if inner.type == "function_definition":
        name = text_of(_field(inner, "name"))
        fkind = "method" if in_class else "function"
        return Desc("def", inner, [_name(node, name, fkind, inner)], body=_field(inner, "body"))
    if inner.type == "class_definition":
        name = text_of(_field(inner, "name"))
        return Desc(
            "container",
            inner,
            [_name(node, name, "class", inner)],
            body=_field(inner, "body"),
            prefix=name,
        )
    if kind == "comment":
        return Desc("comment", node)
    names: list[Name] = []
    if not in_class:
        if kind == "expression_statement":
            for child in node.named_children:
                assign: Node | None = child
                while assign is not None and assign.type in ("assignment", "augmented_assignment"):
                    if assign.type == "assignment":
                        targets: list[Node] = []
                        _py_targets(_field(assign, "left"), targets)
                        for target in targets:
                            ident = text_of(target)
                            names.append(_name(node, ident, _var_kind(ident)))
                    right = _field(assign, "right")
                    assign = right if right is not None and right.type == "assignment" else None
        elif kind == "type_alias_statement":
            left = _field(node, "left")
            ident = text_of(left.named_children[0] if left and left.named_children else left)
            if ident:
                names.append(_name(node, ident, "type"))
    return Desc("code", node, names)


# --- registry -----------------------------------------------------------------------------

Describer = Callable[[Node, bool], Desc]

DESCRIBERS: dict[str, Describer] = {
    "python": _python,
}

# Languages whose bodies are delimited by braces (a summary repeats "{ ... }" and the closer).
BRACES: frozenset[str] = frozenset(
    {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
)


def describe(language: str, node: Node, in_class: bool) -> Desc:
    """What ``node`` (a top-level node, or a member of a container body) defines."""
    describer = DESCRIBERS.get(language)
    if describer is None:
        return Desc("comment" if "comment" in node.type else "code", node)
    return describer(node, in_class)
