"""Python: functions, classes, module-level assignments; ``import`` and ``from ... import``."""

from __future__ import annotations

import posixpath
import re

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Desc,
    Name,
    anchored,
    child_field,
    make_name,
    text_of,
    var_kind,
)
from indexer.types import ImportRef

# --- definitions ---------------------------------------------------------------------


def _py_targets(node: Node | None, out: list[Node]) -> None:
    if node is None:
        return
    if node.type == "identifier":
        out.append(node)
    elif node.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        for child in node.named_children:
            _py_targets(child, out)


_PY_COMPOUND = frozenset({"if_statement", "try_statement", "with_statement"})
_PY_CLAUSES = frozenset(
    {"else_clause", "elif_clause", "except_clause", "except_group_clause", "finally_clause"}
)


def _py_blocks(node: Node) -> list[Node]:
    """The statement blocks of an if/try/with statement and its clauses."""
    blocks: list[Node] = []
    for child in node.named_children:
        if child.type == "block":
            blocks.append(child)
        elif child.type in _PY_CLAUSES:
            blocks.extend(c for c in child.named_children if c.type == "block")
    return blocks


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    inner = node
    if kind == "decorated_definition":
        inner = child_field(node, "definition") or node
    if inner.type == "function_definition":
        name = text_of(child_field(inner, "name"))
        fkind = "method" if in_class else "function"
        return Desc(
            "def", inner, [make_name(node, name, fkind, inner)], body=child_field(inner, "body")
        )
    if inner.type == "class_definition":
        name = text_of(child_field(inner, "name"))
        return Desc(
            "container",
            inner,
            [make_name(node, name, "class", inner)],
            body=child_field(inner, "body"),
            prefix=name,
        )
    if kind == "comment":
        return Desc("comment", node)
    names: list[Name] = []
    if not in_class and kind in _PY_COMPOUND:
        # try: from fast import f / except ImportError: def f(): ... - one level deep.
        for block in _py_blocks(node):
            for statement in block.named_children:
                inner_desc = describe(statement, False)
                names.extend(inner_desc.names)
    elif not in_class:
        if kind == "expression_statement":
            for child in node.named_children:
                assign: Node | None = child
                while assign is not None and assign.type in ("assignment", "augmented_assignment"):
                    if assign.type == "assignment":
                        targets: list[Node] = []
                        _py_targets(child_field(assign, "left"), targets)
                        for target in targets:
                            ident = text_of(target)
                            names.append(make_name(node, ident, var_kind(ident)))
                    right = child_field(assign, "right")
                    assign = right if right is not None and right.type == "assignment" else None
        elif kind == "type_alias_statement":
            left = child_field(node, "left")
            ident = text_of(left.named_children[0] if left and left.named_children else left)
            if ident:
                names.append(make_name(node, ident, "type"))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor(
    re.compile(rb"(?m)^[ \t]*(?:import|from)\b"),
    frozenset({"import_statement", "import_from_statement"}),
)


def _py_files(parts: list[str]) -> list[str]:
    base = "/".join(parts)
    if not base:
        return ["__init__.py"]
    return [f"{base}.py", f"{base}/__init__.py"]


def _py_base(importer: str, module: str) -> list[str] | None:
    """Path parts of a module as written ("..a.b"), relative to ``importer``; None if the
    relative import climbs above the workspace root."""
    level = len(module) - len(module.lstrip("."))
    rest = [p for p in module[level:].split(".") if p]
    if level == 0:
        return rest
    folder = [p for p in posixpath.dirname(importer).split("/") if p]
    if level - 1 > len(folder):
        return None
    return folder[: len(folder) - (level - 1)] + rest


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        if node.type == "import_statement":
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    module = text_of(item.child_by_field_name("name"))
                    local = text_of(item.child_by_field_name("alias"))
                else:
                    module = local = text_of(item)
                refs.append(
                    ImportRef(local, module, None, line, tuple(_py_files(module.split("."))))
                )
            continue
        module = "".join(text_of(node.child_by_field_name("module_name")).split())
        base = _py_base(path, module)
        module_files = _py_files(base) if base is not None else []
        if base is not None and not module.strip("."):
            module_files = [f"{'/'.join(base)}/__init__.py" if base else "__init__.py"]
        if any(child.type == "wildcard_import" for child in node.named_children):
            refs.append(ImportRef("*", module, "*", line, tuple(module_files)))
            continue
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                name = text_of(item.child_by_field_name("name"))
                local = text_of(item.child_by_field_name("alias"))
            else:
                name = local = text_of(item)
            member = _py_files([*base, *name.split(".")]) if base is not None else []
            refs.append(ImportRef(local, module, name, line, tuple(member + module_files)))
    return refs
