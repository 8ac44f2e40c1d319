"""The declared type of the field the cursor's value goes into: ``node.Type == ‸``,
``x.Kind = ‸``, or ``case ‸`` under ``switch n.Type {``. The field's name is all the line
says (the receiver's type is not known here), so every struct or class of the cursor's
package that declares a field of that name answers, and a name few of them agree on is
a strong hint: the constants of that type (``ApplicationNode NodeType = iota``) are what
comes next."""

from __future__ import annotations

import posixpath
import re

from indexer.scope import Resolver
from server.context.cursor import Cursor
from server.context.typefacts import facts_of
from server.context.workspace import Layered

# ``a.b.Field == ``, ``x.Field = ``, ``x.Field != `` before the cursor (after ``&``/``*``).
_FIELD_TARGET = re.compile(r"\.\s*([A-Za-z_]\w*)\s*(?:[!=]=|=)\s*[&*(]*$")
# ``case `` (``case A, ``) at the start of a line, and the ``switch x.Field {`` it is under.
_CASE = re.compile(r"^\s*case\s+(?:[^:]*,\s*)?$")
_SWITCH = re.compile(r"^\s*switch\s+(?:.*;\s*)?[\w.()]*\.\s*([A-Za-z_]\w*)\s*\{\s*$")
SWITCH_LINES = 60  # a switch opens at most this many lines above its case
MAX_TYPES = 3  # fields of one name with more types than this say nothing


def target_field(cursor: Cursor) -> str | None:
    """The field the value at the cursor is compared with, assigned to, or switched on."""
    lines = cursor.prefix_lines
    if not lines:
        return None
    line = lines[-1][: len(lines[-1]) - len(cursor.partial)]
    m = _FIELD_TARGET.search(line)
    if m is not None:
        return m.group(1)
    if _CASE.match(line) is None:
        return None
    indent = len(line) - len(line.lstrip())
    for text in reversed(lines[-SWITCH_LINES:-1]):
        if not text.strip():
            continue
        depth = len(text) - len(text.lstrip())
        if depth < indent or (depth == indent and text.lstrip().startswith("switch")):
            s = _SWITCH.match(text)
            return s.group(1) if s is not None else None
    return None


def field_types(layer: Layered, path: str, field: str) -> frozenset[str]:
    """The workspace types declared for fields named ``field`` by the types of ``path``'s
    package (its folder's files of the same language), as ``path`` names them; empty when
    none, or when more than ``MAX_TYPES`` disagree. Cached on the view until any file's
    rows change."""
    folder = posixpath.dirname(path)
    cache = layer.view.scope_rows
    key = ("field-types", folder, tuple(sorted(layer.overlay)))
    table = cache.get(key)
    if table is None:
        table = _field_table(layer, path)
        cache[key] = table
    types = table.get(field, frozenset())
    if not types or len(types) > MAX_TYPES:
        return frozenset()
    resolver = Resolver(layer)
    return frozenset(
        t
        for t in types
        if any(
            m.definition is not None and m.definition.kind in _TYPE_KINDS
            for m in resolver.lookup(path, t)
        )
    )


_TYPE_KINDS = frozenset({"struct", "interface", "type", "class", "enum"})
_IDENT = re.compile(r"[A-Za-z_]\w*")


def _field_table(layer: Layered, path: str) -> dict[str, frozenset[str]]:
    """Field name → the last identifiers of its declared types (``*pkg.T`` → ``T``), over
    the package of ``path``."""
    resolver = Resolver(layer)
    table: dict[str, set[str]] = {}
    for f in sorted({path, *resolver.package(path)}):
        entry = layer.file(f)
        facts = facts_of(entry) if entry is not None else None
        if facts is None:
            continue
        for cls in facts.classes.values():
            for member in cls.members:
                if member.kind != "field" or not member.values:
                    continue
                words = _IDENT.findall(member.values[0].type_text)
                if words:
                    table.setdefault(member.name, set()).add(words[-1])
    return {k: frozenset(v) for k, v in table.items()}


def implementers(layer: Layered, path: str, types: frozenset[str]) -> frozenset[str]:
    """The workspace types whose methods cover those of an interface in ``types`` (Go's
    implicit ``implements``, by method names: ``Vars`` with ``Apply`` is an ``Option``),
    so that a value of such a type (``Vars{…}``) fits where the interface is wanted."""
    out: set[str] = set()
    resolver = Resolver(layer)
    for name in types:
        for m in resolver.lookup(path, name):
            d = m.definition
            entry = layer.file(m.path)
            if d is None or d.kind != "interface" or entry is None:
                continue
            facts = facts_of(entry)
            fact = facts.classes.get(d.qualified) if facts is not None else None
            methods = [x.name for x in fact.members if x.kind == "method"] if fact else []
            if not methods:
                continue  # an empty or embedding-only interface: anything fits
            owners: set[str] | None = None
            for method in methods:
                have = {
                    q.rsplit(".", 1)[0]
                    for _, x in layer.definitions(method)
                    if x.kind == "method" and (q := x.qualified).endswith("." + method)
                }
                owners = have if owners is None else owners & have
                if not owners:
                    break
            out |= (owners or set()) - {d.qualified}
    return frozenset(out)


# ``err.(‸``, ``err.(*pkg.‸``: an error asserted to what implements it.
_ERROR_ASSERTION = re.compile(
    r"(?:\b[eE]rr\w*|[a-z]\w*Err)\s*\.\(\s*\*?\s*(?:[A-Za-z_]\w*\s*\.\s*)?$"
)


def asserted_error(cursor: Cursor) -> bool:
    """Whether the cursor is in a type assertion of an error (``err.(‸``)."""
    lines = cursor.prefix_lines
    if not lines:
        return False
    return _ERROR_ASSERTION.search(lines[-1][: len(lines[-1]) - len(cursor.partial)]) is not None


def error_types(layer: Layered, path: str) -> frozenset[str]:
    """The workspace types an ``error`` may hold (Go's implicit ``implements`` of the
    builtin interface): those with an ``Error`` method, and, in their files and the
    cursor's package, the structs and interfaces that embed ``error``."""
    owners: dict[str, str] = {}
    for p, x in layer.definitions("Error"):
        if x.kind == "method" and x.qualified.endswith(".Error"):
            owners[x.qualified.rsplit(".", 1)[0]] = p
    out = set(owners)
    for f in sorted({*owners.values(), *Resolver(layer).package(path)}):
        entry = layer.file(f)
        facts = facts_of(entry) if entry is not None else None
        for cls in facts.classes.values() if facts is not None else ():
            if "error" in cls.bases:
                out.add(cls.name)
    return frozenset(out)


_ERROR_NAME = re.compile(r"[eE]rr\w*|[a-z]\w*Err")
# ``switch v := x.(type) {`` / ``switch x.(type) {``: the value a type switch is over.
_TYPE_SWITCH = re.compile(r"^\s*switch\s+(?:\w+\s*:=\s*)?([A-Za-z_]\w*)\s*\.\(\s*type\s*\)")
_TYPE_CASE = re.compile(r"^\s*case\s+(?:[^:]*,\s*)?\(?\*?\s*(?:[A-Za-z_]\w*\s*\.\s*)?$")


def switched_error_types(layer: Layered, path: str, cursor: Cursor) -> frozenset[str]:
    """The types a ``case ‸`` of ``switch err.(type)`` may name: those an error may hold.
    (Any other value's declared interface, ``f Flag``, is implemented by too many of the
    package's types to tell one case from another.)"""
    lines = cursor.prefix_lines
    if not lines:
        return frozenset()
    line = lines[-1][: len(lines[-1]) - len(cursor.partial)]
    if _TYPE_CASE.match(line) is None:
        return frozenset()
    indent = len(line) - len(line.lstrip())
    value = None
    for text in reversed(lines[-SWITCH_LINES:-1]):
        if not text.strip():
            continue
        depth = len(text) - len(text.lstrip())
        if depth < indent or (depth == indent and text.lstrip().startswith("switch")):
            m = _TYPE_SWITCH.match(text)
            value = m.group(1) if m is not None else None
            break
    if value is None:
        return frozenset()
    if _ERROR_NAME.fullmatch(value):
        return error_types(layer, path)
    return frozenset()
