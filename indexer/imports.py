"""The names a file imports, with the workspace paths each may come from.

Candidates are computed from the importing file's path and the import text alone (never
from which files exist), so a file's rows stay valid when other files change:

- a relative import gives exact workspace-relative paths ("pkg/m.py");
- an absolute import gives path suffixes ("a/b.py" matches "src/a/b.py");
- a candidate ending in "/" names a folder: any file directly inside it (Go packages,
  Java wildcard imports).

Conventions for ``ImportRef``: ``local_name`` is "*" and ``name`` is "*" for star imports
(``from m import *``, ``export * from``, C ``#include``); ``name`` is None when the module
itself is bound (``import a.b as c``); ``import a.b`` binds ``local_name`` "a.b", the dotted
expression the file uses; a side-effect import (``import './x'``) has ``local_name`` "".
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import cache

from tree_sitter import Node, Query, QueryCursor

from indexer.definitions import text_of
from indexer.languages import get_language
from indexer.types import ImportRef

# --- Python -------------------------------------------------------------------------------


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


def _python(path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures("python", root):
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


# --- registry -----------------------------------------------------------------------------

_QUERIES: dict[str, str] = {
    "python": "(import_statement) @i (import_from_statement) @i",
}

Extractor = Callable[[str, Node], list[ImportRef]]

_EXTRACTORS: dict[str, Extractor] = {
    "python": _python,
}


@cache
def _query(language: str) -> Query | None:
    lang = get_language(language)
    source = _QUERIES.get(language)
    if lang is None or source is None:
        return None
    return Query(lang, source)


def _captures(language: str, root: Node) -> list[Node]:
    """The import-like nodes of a tree in source order (found by a query, in C)."""
    query = _query(language)
    if query is None:
        return []
    found = QueryCursor(query).captures(root)
    nodes = [node for group in found.values() for node in group]
    nodes.sort(key=lambda n: n.start_byte)
    return nodes


def extract_imports(language: str, path: str, root: Node) -> list[ImportRef]:
    """All imports of a parsed file, in source order."""
    extractor = _EXTRACTORS.get(language)
    if extractor is None:
        return []
    return extractor(path, root)
