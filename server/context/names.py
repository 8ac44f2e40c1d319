"""The names that exist at a cursor, for guided decoding (``server.decoding.guide``).

Language-agnostic, from the rows the context builder already holds: what each import of
the buffer binds (a workspace module's top-level names and re-exports, a class's methods),
the members of the receiver at the cursor when its type is known (``members``), the
file's own definitions, and the names the retrieved snippets define.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence

from indexer.types import SymbolDef
from server.context.cursor import Cursor
from server.context.definitions import resolve_ref
from server.context.members import members_in, receiver_at
from server.context.receiver import Inference
from server.context.snippet import Snippet
from server.context.workspace import FileEntry, Layered
from server.decoding.guide import NameSets

_CLASS_KINDS = frozenset({"class", "struct", "interface", "enum", "type"})
_PACKAGE_STEMS = frozenset({"__init__", "index", "mod"})


def _top_level(definitions: Iterable[SymbolDef]) -> set[str]:
    return {d.name for d in definitions if "." not in d.qualified}


def _class_members(definitions: Iterable[SymbolDef], qualified: str) -> set[str]:
    head = qualified + "."
    return {
        d.qualified[len(head) :]
        for d in definitions
        if d.qualified.startswith(head) and "." not in d.qualified[len(head) :]
    }


def _module_members(layer: Layered, path: str) -> set[str]:
    """What ``module.`` can be followed by: its top-level definitions, what it imports
    (re-exports), and for a package's index file the modules beside it."""
    names = _top_level(layer.definitions_of(path))
    names |= {r.local_name for r in layer.imports_of(path) if r.local_name.isidentifier()}
    stem = posixpath.basename(path).split(".", 1)[0]
    if stem in _PACKAGE_STEMS:
        folder = posixpath.dirname(path)
        for sibling in layer.path_index().files_in(folder):
            name = posixpath.basename(sibling).split(".", 1)[0]
            if name not in _PACKAGE_STEMS and name.isidentifier():
                names.add(name)
    return names


def names_at_cursor(
    layer: Layered,
    path: str,
    current: FileEntry | None,
    snippets: Sequence[Snippet] = (),
    inference: Inference | None = None,
    text: str = "",
    cursor: Cursor | None = None,
) -> NameSets:
    """The names each receiver can be followed by, and the names in scope. With an
    ``inference`` and the cursor after ``receiver.`` of a known type, its members too."""
    members: dict[str, frozenset[str]] = {}
    if inference is not None and cursor is not None:
        receiver = receiver_at(inference, path, text, cursor.line, cursor.col)
        if receiver is not None and receiver.cls is not None:
            found_members = members_in(inference, path, text, cursor.line, cursor.col)
            if found_members:
                members[receiver.text] = frozenset(m.name for m in found_members)
    scope: set[str] = set()
    own = current.definitions if current is not None else []
    scope |= _top_level(own)
    for d in own:
        if d.kind in _CLASS_KINDS and "." not in d.qualified:
            found = _class_members(own, d.qualified)
            if found:
                members.setdefault(d.name, frozenset(found))
    for ref in current.imports if current is not None else []:
        if ref.local_name == "*":
            continue
        scope.add(ref.local_name.split(".", 1)[0])
        resolved = resolve_ref(layer, ref, path)
        if resolved is None:
            continue
        if resolved.definition is None:
            found = _module_members(layer, resolved.path)
        elif resolved.definition.kind in _CLASS_KINDS:
            found = _class_members(
                layer.definitions_of(resolved.path), resolved.definition.qualified
            )
        else:
            continue
        if found:
            members.setdefault(ref.local_name, frozenset(found))
    for snip in snippets:
        scope |= {
            d.name
            for d in layer.definitions_of(snip.path)
            if "." not in d.qualified and snip.start_line <= d.start_line <= snip.end_line
        }
    return NameSets(members, frozenset(n for n in scope if n))
