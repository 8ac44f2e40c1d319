"""Cross-file completion points from any workspace.

A point is the first use of a name the file imports from another file of the workspace,
with the cursor just before it and at least ten non-empty lines above: the moment a
completion needs another file's code. Each records where the name is defined (file and
header line), so retrieval can be scored by whether that header reached the prompt and a
model by whether it completes the name. Deterministic for a given index and seed.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from server.context.builder import view_for
from server.context.definitions import resolve_ref
from server.context.workspace import Layered

MIN_LINES_ABOVE = 10

# Where an identifier is not a use of an imported name: `obj.name`, `f(name=...)`.
_MEMBER_PARENTS = frozenset(
    {
        "attribute",
        "member_expression",
        "field_expression",
        "selector_expression",
        "scoped_identifier",
        "field_access",
        "keyword_argument",
    }
)
_IDENT_TYPES = ("identifier", "type_identifier")


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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_points(
    root: str | Path, index: Any, limit: int | None = None, seed: int = 0
) -> list[Point]:
    """Every cross-file point of the indexed workspace at ``root``, in path order; with
    ``limit``, a seeded sample of that many (kept in path order)."""
    root = Path(root)
    view = view_for(index)
    layer = Layered(view, None)
    points: list[Point] = []
    texts: dict[str, list[str]] = {}
    for path in sorted(view.files):
        entry = view.files[path]
        if not entry.imports:
            continue
        try:
            text = (root / path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        targets: dict[str, tuple[Any, int]] = {}
        for ref in entry.imports:
            if ref.name in (None, "*") or ref.local_name in targets:
                continue
            res = resolve_ref(layer, ref, path)
            if res is None or res.definition is None or res.path == path:
                continue
            targets[ref.local_name] = (res, ref.line)
        if not targets:
            continue
        uses = first_uses(path, text, set(targets))
        lines = text.split("\n")
        for name, (row, col) in sorted(uses.items(), key=lambda kv: kv[1]):
            res, import_line = targets[name]
            if row + 1 <= import_line:
                continue
            if sum(1 for t in lines[:row] if t.strip()) < MIN_LINES_ABOVE:
                continue
            d = res.definition
            header = header_line(_lines(root, res.path, texts), d.start_line, d.end_line)
            points.append(Point(path, row, col, name, res.path, header, d.qualified, import_line))
    if limit is not None and len(points) > limit:
        order = {id(p): i for i, p in enumerate(points)}
        points = sorted(random.Random(seed).sample(points, limit), key=lambda p: order[id(p)])
    return points


_NOT_HEADER = ("@", "#[", "//", "/*", "*", "#", "///")


def header_line(lines: list[str], start: int, end: int) -> int:
    """The line that declares a definition spanning ``start``-``end`` (1-based): the first
    one that is not blank, a decorator, an attribute or a comment."""
    for n in range(start, min(end, len(lines)) + 1):
        text = lines[n - 1].strip()
        if text and not text.startswith(_NOT_HEADER):
            return n
    return start


def _lines(root: Path, path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            cache[path] = []
    return cache[path]


def first_uses(path: str, text: str, names: set[str]) -> dict[str, tuple[int, int]]:
    """The 0-based (row, col) of the first use of each name outside import statements."""
    from indexer.languages import get_parser, language_for_path

    language = language_for_path(path)
    parser = get_parser(language) if language else None
    if parser is None:
        return {}
    tree = parser.parse(text.encode("utf-8"))
    found: dict[str, tuple[int, int]] = {}
    stack = [tree.root_node]
    while stack:  # pre-order, children left to right: first hit per name is the first use
        node = stack.pop()
        if "import" in node.type or node.type == "use_declaration":
            continue
        if node.type in _IDENT_TYPES:
            name = node.text.decode("utf-8", "replace") if node.text else ""
            if name in names and name not in found and _is_use(node):
                row, byte_col = node.start_point
                line = text.split("\n", row + 1)[row] if row else text.split("\n", 1)[0]
                col = len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
                found[name] = (row, col)
                if len(found) == len(names):
                    break
            continue
        stack.extend(reversed(node.children))
    return found


def _is_use(node: Any) -> bool:
    parent = node.parent
    if parent is None or parent.type not in _MEMBER_PARENTS:
        return True
    # In `a.b` only `a` is a use; in `f(name=v)` only `v` is.
    first = parent.children[0] == node
    return not first if parent.type == "keyword_argument" else first
