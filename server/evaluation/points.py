"""Cross-file completion points from any workspace.

A point is the first use of a name the file imports from another file of the workspace,
with the cursor just before it and at least ten non-empty lines above: the moment a
completion needs another file's code. Each records where the name is defined (file and
header line), so retrieval can be scored by whether that header reached the prompt and a
model by whether it completes the name. Deterministic for a given index and seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from indexer.languages import language_for_path
from indexer.scope import Resolver
from indexer.types import SymbolDef
from server.context.builder import view_for
from server.context.workspace import Layered

MIN_LINES_ABOVE = 10

# `q.name` in every grammar: the parent node and its (qualifier, member) fields (None:
# the first and last named children).
_QUALIFIED: dict[str, tuple[str | None, str | None]] = {
    "selector_expression": ("operand", "field"),
    "qualified_type": ("package", "name"),
    "member_expression": ("object", "property"),
    "nested_type_identifier": ("module", "name"),
    "attribute": ("object", "attribute"),
    "scoped_identifier": ("path", "name"),
    "scoped_type_identifier": (None, None),
    "field_access": ("object", "field"),
    "method_invocation": ("object", "name"),
    "qualified_identifier": ("scope", "name"),
    "field_expression": (None, "field"),
}
_IDENT_TYPES = frozenset(
    {
        "identifier",
        "type_identifier",
        "field_identifier",
        "property_identifier",
        "package_identifier",
        "namespace_identifier",
    }
)
_SKIPPED = frozenset({"use_declaration", "package_clause", "package_declaration", "mod_item"})
_NOT_USES = frozenset({"keyword_argument"})
# Local declarations: the parent that declares, and the field holding what it declares
# (None: any child). Go's ``a, b := …`` and ``for k, v := range``, parameters of every
# C-like grammar. The name is then the file's own (a local shadows the package's name), so
# none of its uses in the file is cross-file.
_DECLARES: dict[str, str | None] = {
    "short_var_declaration": "left",
    "range_clause": "left",
    "parameter_declaration": None,
}
_DECLARATOR_WRAPPERS = frozenset(
    {"expression_list", "pointer_declarator", "array_declarator", "reference_declarator"}
)
# ``Key: value`` in a composite literal names a field of the literal's type, not a use.
_KEYED = frozenset({"keyed_element"})


@dataclass(frozen=True, slots=True)
class Point:
    """A cursor (0-based ``line``/``col``, as in the Python APIs) before the first use of
    ``name``, which is defined at ``def_path``:``def_line`` (1-based: the line declaring
    it, after any decorators or doc comments)."""

    path: str
    line: int
    col: int
    name: str
    def_path: str
    def_line: int
    def_qualified: str
    import_line: int  # 1-based
    # The name's other definitions, (file, header line) each: what else the lookup finds
    # (a C function's declaration in the header the file includes, beside its
    # implementation; a Go name defined in two files behind build tags).
    also: tuple[tuple[str, int], ...] = ()

    def targets(self) -> list[tuple[str, int]]:
        """Every (file, header line) that answers the point."""
        return [(self.def_path, self.def_line), *self.also]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_points(
    root: str | Path, index: Any, limit: int | None = None, seed: int = 0
) -> list[Point]:
    """Every cross-file point of the indexed workspace at ``root``, in path order; with
    ``limit``, a seeded sample of that many (kept in path order).

    A point is the first use in a file of a name (``name`` or ``q.name``) that the file's
    language brings into scope from another file of the workspace (``indexer.scope``:
    imports, packages, star imports, headers), with at least ``MIN_LINES_ABOVE`` non-empty
    lines above it."""
    root = Path(root)
    view = view_for(index)
    resolver = Resolver(Layered(view, None))
    points: list[Point] = []
    texts: dict[str, list[str]] = {}
    for path in sorted(view.files):
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        bound = {r.local_name: r.line for r in view.files[path].imports}
        lines = text.split("\n")
        for row, col, name, qualifier in first_occurrences(path, text):
            if sum(1 for t in lines[:row] if t.strip()) < MIN_LINES_ABOVE:
                continue
            import_line = bound.get(qualifier or name, 0)
            if row + 1 <= import_line:
                continue
            found = resolver.lookup(path, name, qualifier)
            if not found or found[0].definition is None or found[0].path == path:
                continue
            target, d = found[0].path, found[0].definition
            header = _header(root, target, d, texts)
            also = tuple(
                (m.path, _header(root, m.path, x, texts))
                for m in found[1:]
                if (x := m.definition) is not None and m.path != path
            )
            points.append(
                Point(path, row, col, name, target, header, d.qualified, import_line, also)
            )
    if limit is not None and len(points) > limit:
        order = {id(p): i for i, p in enumerate(points)}
        points = sorted(random.Random(seed).sample(points, limit), key=lambda p: order[id(p)])
    return points


_NOT_HEADER = ("@", "#[", "//", "/*", "*", "#", "///")
# A C preprocessor definition is a declaration, not a ``#`` comment: a multi-line macro
# is declared on its ``#define`` line, not on the first line of its body.
_DIRECTIVE = re.compile(r"#\s*define\b")


def header_line(lines: list[str], start: int, end: int, directives: bool = False) -> int:
    """The line that declares a definition spanning ``start``-``end`` (1-based): the first
    one that is not blank, a decorator, an attribute or a comment (with ``directives``, the
    file's ``#`` lines are C preprocessor directives, and ``#define`` declares)."""
    for n in range(start, min(end, len(lines)) + 1):
        text = lines[n - 1].strip()
        if text and (not text.startswith(_NOT_HEADER) or (directives and _DIRECTIVE.match(text))):
            return n
    return start


_PREPROCESSED = frozenset({"c", "cpp"})


def _header(root: Path, path: str, d: SymbolDef, texts: dict[str, list[str]]) -> int:
    directives = language_for_path(path) in _PREPROCESSED
    return header_line(_lines(root, path, texts), d.start_line, d.end_line, directives)


def _lines(root: Path, path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            cache[path] = []
    return cache[path]


def first_occurrences(path: str, text: str) -> list[tuple[int, int, str, str | None]]:
    """The first use of each name and of each ``q.name`` outside imports and declarations,
    in source order: (0-based row, col, name, qualifier or None). In ``a.b.c`` only ``a``
    and ``a.b`` are uses; a declaration's own name (the ``name`` field of its node) and
    ``f(name=...)`` are not."""
    from indexer.languages import get_parser, language_for_path

    language = language_for_path(path)
    parser = get_parser(language) if language else None
    if parser is None:
        return []
    data = text.encode("utf-8")
    tree = parser.parse(data)
    found: dict[tuple[str | None, str], tuple[int, int]] = {}
    declared: set[str] = set()
    stack = [tree.root_node]
    while stack:  # pre-order, children left to right: the first hit per key is the first use
        node = stack.pop()
        kind = node.type
        if "import" in kind or kind in _SKIPPED or kind in _NOT_USES:
            continue
        if kind in _IDENT_TYPES:
            if _declares_locally(node):
                declared.add(_text(node))
                continue
            if _is_field_key(node):
                continue
            use = _use(node)
            if use is not None and use not in found:
                found[use] = node.start_point
            continue
        stack.extend(reversed(node.children))
    lines = text.split("\n")
    out: list[tuple[int, int, str, str | None]] = []
    for (qualifier, name), (row, byte_col) in sorted(found.items(), key=lambda kv: kv[1]):
        if qualifier is None and name in declared:
            continue
        col = len(lines[row].encode("utf-8")[:byte_col].decode("utf-8", "replace"))
        out.append((row, col, name, qualifier))
    return out


def first_uses(path: str, text: str, names: set[str]) -> dict[str, tuple[int, int]]:
    """The 0-based (row, col) of the first bare use of each name outside imports."""
    return {
        name: (row, col)
        for row, col, name, qualifier in first_occurrences(path, text)
        if qualifier is None and name in names
    }


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text else ""


def _declares_locally(node: Any) -> bool:
    """``node`` is the name a local declaration introduces (``x := …``, a parameter)."""
    if node.type != "identifier":
        return False
    child, parent = node, node.parent
    while parent is not None and parent.type in _DECLARATOR_WRAPPERS:
        child, parent = parent, parent.parent
    if parent is None or parent.type not in _DECLARES:
        return False
    field = _DECLARES[parent.type]
    if field is not None:
        held = parent.child_by_field_name(field)
        if held is None or held.id != child.id:
            return False
        return parent.type != "range_clause" or any(c.type == ":=" for c in parent.children)
    return True


def _is_field_key(node: Any) -> bool:
    """The key of ``Key: value`` in a composite literal (a field of the literal's type)."""
    parent = node.parent
    if parent is not None and parent.type == "literal_element":
        grand = parent.parent
        return (
            grand is not None and grand.type in _KEYED and grand.named_children[0].id == parent.id
        )
    return False


def _use(node: Any) -> tuple[str | None, str] | None:
    """(qualifier, name) when ``node`` is a use, else None."""
    name = _text(node)
    parent = node.parent
    if parent is None:
        return (None, name)
    fields = _QUALIFIED.get(parent.type)
    if fields is not None:
        named = parent.named_children
        owner = parent.child_by_field_name(fields[0]) if fields[0] else named[0]
        member = parent.child_by_field_name(fields[1]) if fields[1] else named[-1]
        if member is not None and member.id == node.id:
            if owner is None:
                return (None, name)  # a call without a receiver: foo()
            if owner.type in _IDENT_TYPES:
                return (_text(owner), name)
            return None  # a member of an expression: receiver types are not known here
        return (None, name) if owner is not None and owner.id == node.id else None
    declared = parent.child_by_field_name("name")
    if declared is not None and declared.id == node.id:
        return None  # what a declaration declares
    return (None, name)
