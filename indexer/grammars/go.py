"""Go: functions, methods (qualified by receiver), types, const/var; package imports as
folder candidates."""

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
    make_name,
    string_value,
    text_of,
)
from indexer.types import ImportRef

# --- definitions ---------------------------------------------------------------------


def _go_receiver(node: Node) -> str:
    """The receiver's type name: ``func (s *Stack[T]) Push`` -> ``Stack``."""
    receiver = child_field(node, "receiver")
    if receiver is None:
        return ""
    for param in receiver.named_children:
        kind = child_field(param, "type")
        while kind is not None and kind.type in ("pointer_type", "generic_type"):
            if kind.type == "pointer_type":
                kind = kind.named_children[0] if kind.named_children else None
            else:
                kind = child_field(kind, "type")
        if kind is not None:
            return text_of(kind).split("[", 1)[0]
    return ""


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind == "comment":
        return Desc("comment", node)
    if kind == "function_declaration":
        name = text_of(child_field(node, "name"))
        return Desc(
            "def", node, [make_name(node, name, "function")], body=child_field(node, "body")
        )
    if kind == "method_declaration":
        name = text_of(child_field(node, "name"))
        scope = _go_receiver(node)
        method = make_name(node, name, "method", scope=scope)
        return Desc("def", node, [method], body=child_field(node, "body"))
    names: list[Name] = []
    if kind == "type_declaration":
        type_specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
        for spec in type_specs:
            type_node = child_field(spec, "type")
            tkind = {"struct_type": "struct", "interface_type": "interface"}.get(
                type_node.type if type_node is not None else "", "type"
            )
            names.append(make_name(spec, text_of(child_field(spec, "name")), tkind))
        if len(type_specs) == 1 and names[0].kind != "type":
            type_node = child_field(type_specs[0], "type")
            body = type_node.named_children[-1] if type_node and type_node.named_children else None
            if names[0].kind == "interface":
                body = type_node
            names[0] = make_name(node, names[0].name, names[0].kind)
            return Desc("container", node, names, body=body, prefix=names[0].name)
    elif kind in ("const_declaration", "var_declaration") and not in_class:
        specs: list[Node] = []
        for child in node.named_children:
            if child.type in ("const_spec", "var_spec"):
                specs.append(child)
            elif child.type == "var_spec_list":
                specs.extend(c for c in child.named_children if c.type == "var_spec")
        for spec in specs:
            for ident in spec.children_by_field_name("name"):
                if not ident.is_named:
                    continue
                name = text_of(ident)
                vkind = "const" if kind == "const_declaration" else "variable"
                if name != "_":
                    names.append(make_name(spec, name, vkind))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor(re.compile(rb"\bimport\b"), frozenset({"import_declaration"}))


_GO_VERSION = re.compile(r"v\d+")


def _go_candidates(spec: str) -> tuple[str, ...]:
    parts = [p for p in spec.split("/") if p]
    if not parts:
        return ()
    if "." not in parts[0] and len(parts) == 1:
        return ()  # the standard library ("fmt")
    stdlib_like = "." not in parts[0]
    lowest = 2 if stdlib_like else 1
    return tuple("/".join(parts[i:]) + "/" for i in range(len(parts) - lowest + 1))


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    specs: list[Node] = []
    for declaration in anchored(root, ANCHOR):
        for child in declaration.named_children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.named_children if c.type == "import_spec")
    for spec_node in specs:
        spec = string_value(spec_node.child_by_field_name("path"))
        alias_node = spec_node.child_by_field_name("name")
        parts = [p for p in spec.split("/") if p]
        if len(parts) > 1 and _GO_VERSION.fullmatch(parts[-1]):
            parts = parts[:-1]
        local = text_of(alias_node) if alias_node is not None else (parts[-1] if parts else "")
        if local == ".":
            local = "*"
        line = spec_node.start_point.row + 1
        refs.append(ImportRef(local, spec, None, line, _go_candidates(spec)))
    return refs


# --- scope ---------------------------------------------------------------------------

_MODULE_LINE = re.compile(r"(?m)^\s*module\s+\"?([^\s\"]+)")


def _package(path: str, siblings: list[str]) -> list[str]:
    """A package is a folder: its other .go files (test files only for a test file, which
    may belong to the package as well)."""
    test = path.endswith("_test.go")
    return [
        p
        for p in siblings
        if p != path and p.endswith(".go") and (test or not p.endswith("_test.go"))
    ]


def _module_folders(spec: str, importer: str, configs: dict[str, str]) -> tuple[str, ...]:
    """The folder an import spec names inside a module of the workspace: the spec minus a
    go.mod's module path, under that go.mod's folder (the nearest go.mod first)."""
    found: list[tuple[int, str]] = []
    for gomod, text in configs.items():
        match = _MODULE_LINE.search(text)
        if match is None:
            continue
        module = match.group(1)
        if spec != module and not spec.startswith(module + "/"):
            continue
        folder = posixpath.dirname(gomod)
        rest = spec[len(module) :].strip("/")
        target = posixpath.join(folder, rest) if rest else folder
        near = importer.startswith(folder + "/") if folder else True
        found.append((0 if near else 1, target + "/"))
    return tuple(t for _, t in sorted(found))


SCOPE = Scope(package=_package, config_files=("go.mod",), config=_module_folders)
