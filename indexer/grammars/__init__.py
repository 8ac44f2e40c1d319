"""Per-language syntax knowledge, one module per grammar: what a node defines (for the
chunker and the symbol table) and what a file imports (with candidate paths).

Import candidates are computed from the importing file's path and the import text alone
(never from which files exist), so a file's rows stay valid when other files change:

- a relative import gives exact workspace-relative paths ("pkg/m.py");
- an absolute import gives path suffixes ("a/b.py" matches "src/a/b.py"), most specific
  first;
- a candidate ending in "/" names a folder: any file directly inside it (Go packages,
  Java wildcard imports).

Conventions for ``ImportRef``: ``local_name`` and ``name`` are "*" for star imports
(``from m import *``, ``export * from``, C ``#include``); ``name`` is None when the module
itself is bound (``import a.b as c``); ``import a.b`` binds ``local_name`` "a.b", the dotted
expression the file uses; a JS default import has ``name`` "default"; a side-effect import
(``import './x'``) has ``local_name`` "".

Everything here is best-effort and total: an unexpected node shape is plain ``code``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import ModuleType

from tree_sitter import Node

from indexer.grammars import c, go, java, javascript, python, rust
from indexer.grammars.base import (
    DEFAULT_SCOPE,
    Desc,
    Name,
    Scope,
    TypeRules,
    members,
    rows,
    text_of,
)
from indexer.types import ImportRef

__all__ = [
    "BRACES",
    "Desc",
    "Name",
    "Scope",
    "comment_types",
    "describe",
    "describer",
    "extract_imports",
    "members",
    "own_describer",
    "recovered",
    "rows",
    "scope",
    "text_of",
    "type_rules",
]

_MODULES: dict[str, ModuleType] = {
    "python": python,
    "javascript": javascript,
    "typescript": javascript,
    "tsx": javascript,
    "go": go,
    "rust": rust,
    "java": java,
    "c": c,
    "cpp": c,
}

Describer = Callable[[Node, bool], Desc]
Extractor = Callable[[str, str, Node], list[ImportRef]]
_DESCRIBERS: dict[str, Describer] = {lang: m.describe for lang, m in _MODULES.items()}
_EXTRACTORS: dict[str, Extractor] = {lang: m.imports for lang, m in _MODULES.items()}
_COMMENTS: dict[str, frozenset[str]] = {lang: m.COMMENTS for lang, m in _MODULES.items()}
_SCOPES: dict[str, Scope] = {
    lang: getattr(m, "SCOPE", DEFAULT_SCOPE) for lang, m in _MODULES.items()
}

# Languages whose bodies are delimited by braces (a summary repeats "{ ... }" and the closer).
BRACES: frozenset[str] = frozenset(_MODULES) - {"python"}


def describe(language: str, node: Node, in_class: bool) -> Desc:
    """What ``node`` (a top-level node, or a member of a container body) defines."""
    return describer(language)(node, in_class)


def _plain(node: Node, in_class: bool) -> Desc:
    return Desc("comment" if "comment" in node.type else "code", node)


def recovered(node: Node) -> Desc:
    """An ``ERROR`` node holding named nodes. Where the grammar could not fit the text (a
    macro opening a namespace, braces unbalanced across #if branches, a syntax error) the
    nodes it did recognise are still real definitions: read them as if the error span
    were not there."""
    return Desc("container", node, body=node, prefix="", summarize=False)


def own_describer(language: str) -> Describer:
    """The language's ``describe`` without the ``ERROR`` rule (``recovered``): for the
    chunker, which applies that rule itself as it reads each node's type once."""
    return _DESCRIBERS.get(language, _plain)


@cache
def describer(language: str) -> Describer:
    """``describe`` for one language, looked up once."""
    own = own_describer(language)

    def describe_node(node: Node, in_class: bool) -> Desc:
        if node.type == "ERROR" and node.named_child_count:
            return recovered(node)
        return own(node, in_class)

    return describe_node


def comment_types(language: str) -> frozenset[str]:
    """The node types ``describe`` reads as comments whatever else holds (the chunker
    skips the describer for them: most nodes of Rust and Go files are comment lines)."""
    return _COMMENTS.get(language, frozenset())


def extract_imports(language: str, path: str, root: Node) -> list[ImportRef]:
    """All imports of a parsed file, in source order."""
    extractor = _EXTRACTORS.get(language)
    return extractor(language, path, root) if extractor is not None else []


def scope(language: str | None) -> Scope:
    """How ``language`` brings names into scope beyond its imports (see ``base.Scope``)."""
    return _SCOPES.get(language or "", DEFAULT_SCOPE)


def type_rules(language: str) -> TypeRules | None:
    """The language's receiver-type rules (``TypeRules``), None where there are none."""
    rules: TypeRules | None = getattr(_MODULES.get(language), "RULES", None)
    return rules
