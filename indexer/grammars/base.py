"""The shared vocabulary of the per-language modules: what a node defines (``Desc``), the
names it defines (``Name``), and small helpers over tree-sitter nodes and paths."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

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
    scope: str = ""  # an extra qualifier: a Go receiver, a C++ "Class::" scope


@dataclass(slots=True)
class Desc:
    """What a node is, for the chunker.

    ``role`` is ``def`` (a function or method: its own chunk, split when too long),
    ``container`` (a class, struct, interface, impl or namespace whose body holds members),
    ``code`` (anything else, possibly defining names) or ``comment`` (comments and
    attributes, attached to the definition they precede).
    """

    role: str
    node: Node  # the inner definition node (decorators and export wrappers removed)
    names: list[Name] = field(default_factory=list)
    body: Node | None = None  # container: holds the members; def: the statements (split points)
    prefix: str | None = None  # container: how members are qualified ("Parser")
    # container: class-like (members are methods; a class_summary when large), or a
    # transparent namespace/module/#if block whose members are top-level-like.
    summarize: bool = True


class Anchor(NamedTuple):
    """Where imports may start in the source bytes: keywords, and the node types they
    belong to. A keyword counts where it is a whole word (``import``, not ``reimport``);
    with ``line_start``, only as the first thing on its line; with ``directive``, after a
    ``#`` that starts its line (``#include``, ``# include``, also ``#include_next``).
    Where ``skip`` matches at a keyword (and the bytes after it), the spot holds no import
    by the grammar (JavaScript's ``export function``) and is not looked up in the tree."""

    words: tuple[bytes, ...]
    targets: frozenset[str]
    line_start: bool = False
    directive: bool = False
    skip: re.Pattern[bytes] | None = None


def text_of(node: Node | None) -> str:
    """A node's source text ("" for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


class Source:
    """A parsed file's bytes, to read node texts by slicing them: ``Node.text`` goes
    through a memoryview on every call (2.5x slower), and extraction reads many."""

    __slots__ = ("data", "offset")

    def __init__(self, root: Node) -> None:
        self.data = root.text or b""
        self.offset = root.start_byte  # root.text starts where the root does

    def text(self, node: Node | None) -> str:
        """The node's source text ("" for None), as ``text_of``."""
        if node is None:
            return ""
        offset = self.offset
        return self.data[node.start_byte - offset : node.end_byte - offset].decode(
            "utf-8", "replace"
        )


def rows(node: Node) -> tuple[int, int]:
    """0-based inclusive rows; a node ending at column 0 does not own that last row."""
    start = node.start_point.row
    last = node.end_point
    end = last.row
    if end > start and last.column == 0:
        end -= 1
    return start, end


def make_name(
    node: Node, name: str, kind: str, header: Node | None = None, scope: str = ""
) -> Name:
    """A name spanning ``node``, declared on the first row of ``header`` (default: node)."""
    start, end = rows(node)
    return Name(name, kind, start, end, (header or node).start_point.row, scope)


def var_kind(name: str) -> str:
    """``const`` for UPPER_CASE names, else ``variable``."""
    return "const" if _CONST_NAME.fullmatch(name) else "variable"


def child_field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


# Member lists nested one level deeper than the body (Java enum methods, #else branches).
_FLATTEN = frozenset({"enum_body_declarations", "preproc_else", "preproc_elif", "preproc_elifdef"})


def members(desc: Desc) -> list[Node]:
    """The member nodes of a container's body, in source order."""
    if desc.body is None:
        return []
    children = desc.body.named_children
    if not any(child.type in _FLATTEN for child in children):
        return children
    out: list[Node] = []
    stack = list(reversed(children))
    while stack:
        child = stack.pop()
        if child.type in _FLATTEN:
            stack.extend(reversed(child.named_children))
        else:
            out.append(child)
    return out


def string_value(node: Node | None) -> str:
    """A string literal's content (quotes of any kind removed)."""
    return unquote(text_of(node))


def unquote(text: str) -> str:
    """A string literal's text without its quotes (of any kind)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text


def join_relative(importer: str, relative: str) -> str | None:
    """``relative`` against the importer's folder, normalised; None if it leaves the root."""
    return join_in(posixpath.dirname(importer), relative)


def join_in(folder: str, relative: str) -> str | None:
    """``relative`` against ``folder``, normalised as ``posixpath.normpath`` would (""
    for the root itself); None if it leaves the root or is absolute. This runs for every
    relative import: the usual ``./x`` and ``../../x`` are joined without a loop."""
    if relative.startswith("/") or folder.startswith("/"):
        return None
    if _plain_path(folder):
        base, rest = folder, relative
        while rest.startswith("."):
            if rest.startswith("./"):
                rest = rest[2:]
            elif rest.startswith("../") and base:
                base = base[: max(base.rfind("/"), 0)]
                rest = rest[3:]
            else:
                break
        if _plain_path(rest):
            return f"{base}/{rest}" if base and rest else base or rest
    parts: list[str] = []
    for part in f"{folder}/{relative}".split("/"):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def _plain_path(path: str) -> bool:
    """No empty, "." or ".." part: already normalised (a name may not start with ".")."""
    return not path or (
        "//" not in path and "/." not in path and path[0] not in "./" and path[-1] != "/"
    )


_WORD_BYTES = frozenset(b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _blank_before(data: bytes, index: int) -> int:
    """Where the run of spaces and tabs ending just before ``index`` starts."""
    while index > 0 and data[index - 1] in b" \t":
        index -= 1
    return index


def keyword_spots(data: bytes, anchor: Anchor) -> list[tuple[int, int]]:
    """The byte spans (from the keyword, or its ``#``, to the keyword's end) where the
    anchor's keywords stand. ``bytes.find`` per keyword: a regex over the whole text cost
    as much as a fifth of the parse."""
    spots: list[tuple[int, int]] = []
    size = len(data)
    skip = anchor.skip
    for word in anchor.words:
        index = data.find(word)
        while index >= 0:
            end = index + len(word)
            start = index
            if anchor.directive:
                start = _blank_before(data, index) - 1
                ok = start >= 0 and data[start] == 35  # "#"
                check = start
            else:
                ok = end == size or data[end] not in _WORD_BYTES
                ok = ok and (index == 0 or data[index - 1] not in _WORD_BYTES)
                check = index
            if ok and anchor.line_start:
                begin = _blank_before(data, check)
                ok = begin == 0 or data[begin - 1] == 10  # "\n"
            if ok and skip is not None and skip.match(data, index):
                ok = False
            if ok:
                spots.append((start, end))
            index = data.find(word, end)
    return spots


def anchored(root: Node, anchor: Anchor) -> list[Node]:
    """The import nodes of a tree in source order.

    The source bytes are searched for the anchor's keywords (in C) and only those spots
    are looked up in the tree, which is far cheaper than walking every node from Python
    (and than a tree-sitter query, which visits every node: 0.4x the parse itself).
    """
    data = root.text
    if data is None:
        return []
    found: dict[tuple[int, int, str], Node] = {}
    offset = root.start_byte  # root.text starts where the root does, after leading blanks
    targets = anchor.targets
    for start, end in keyword_spots(data, anchor):
        node = root.named_descendant_for_byte_range(offset + start, offset + end)
        for _ in range(4):
            if node is None or node.type in targets:
                break
            node = node.parent
        if node is not None and node.type in targets:
            found.setdefault((node.start_byte, node.end_byte, node.type), node)
    return [found[key] for key in sorted(found)]


def no_package(path: str, siblings: list[str]) -> list[str]:
    """Languages whose files share no names without an import."""
    return []


def no_config(spec: str, importer: str, configs: dict[str, str]) -> tuple[str, ...]:
    """Languages whose import specs need no project file to resolve."""
    return ()


def no_listing(path: str) -> bool:
    """Languages whose files are not lists of declarations."""
    return False


def no_expected_kinds(lines: list[str]) -> frozenset[str]:
    """Languages without rules for what kind of name goes where."""
    return frozenset()


@dataclass(frozen=True, slots=True)
class Scope:
    """How a language brings names into a file's scope beyond what its imports name; read
    by ``indexer.scope`` at query time (every language has one, most parts off).

    ``package(path, siblings)``: the files of ``path``'s folder whose top-level names
    ``path`` sees without an import (Go and Java packages). ``config_files``: project files
    (``go.mod``, ``tsconfig.json``) whose text ``config(spec, importer, configs)`` turns
    into extra exact candidates for an import spec. ``implemented_elsewhere``: a function
    declared in an included header is defined in some source file (C, C++).
    ``expected_kinds(lines)``: the kinds of definition (``SymbolDef.kind``) that the lines
    above a name, the last one cut just before it and its qualifier, say it is (Go's
    ``&T{`` a struct, ``x.(T)``, ``var v T``, a parameter's or result's type any type);
    empty when they say nothing. ``listing(path)``: the file's top-level chunks are lists
    of declarations (a C header's prototypes and macros), so a declaration there is shown
    with the rest of its chunk: the names next to it are as likely next, and one snippet
    shows them all."""

    package: Callable[[str, list[str]], list[str]] = no_package
    config_files: tuple[str, ...] = ()
    config: Callable[[str, str, dict[str, str]], tuple[str, ...]] = no_config
    implemented_elsewhere: bool = False
    expected_kinds: Callable[[list[str]], frozenset[str]] = no_expected_kinds
    listing: Callable[[str], bool] = no_listing


DEFAULT_SCOPE = Scope()


# --- receiver types: the shared shape of every language's typing rules -------------------


@dataclass(frozen=True, slots=True)
class Value:
    """What a declaration says about a name's type, as written in its file: a type
    (``type_text``, e.g. ``Optional[Session]``) or an expression to evaluate (``expr_text``,
    e.g. ``Session(cfg)``); ``iterate`` marks a loop variable over that type or expression."""

    type_text: str = ""
    expr_text: str = ""
    iterate: bool = False


@dataclass(slots=True)
class MemberFact:
    """A member of a class-like type: a method, a field or a property. ``values`` say what
    its type is (a field's annotation or assignments, a method's return type), best first."""

    name: str
    kind: str  # method | field | property | class
    signature: str  # one line, as written
    line: int  # 1-based, the declaring line
    values: tuple[Value, ...] = ()


@dataclass(slots=True)
class ClassFact:
    """A class, struct, interface or trait as its own file declares it. For languages whose
    methods live apart from the type (Go receivers, Rust ``impl``), a file may hold only
    members of a type declared elsewhere (``start_line`` 0)."""

    name: str  # qualified like the symbol table ("Outer.Inner")
    kind: str
    start_line: int  # 1-based; 0 when the file only adds members
    end_line: int
    header: str = ""  # the declaration's first line
    doc: str = ""  # the docstring's or doc comment's first line
    bases: tuple[str, ...] = ()  # type texts: superclasses, interfaces, embedded structs
    members: list[MemberFact] = field(default_factory=list)


@dataclass(slots=True)
class FileFacts:
    """What one file says about types: its classes, the return types of its top-level
    functions, and the values of its module-level names."""

    classes: dict[str, ClassFact] = field(default_factory=dict)
    returns: dict[str, str] = field(default_factory=dict)  # function → return type text
    # function → how many results it returns (Go: ``(T, error)`` → 2); set where known
    arity: dict[str, int] = field(default_factory=dict)
    names: dict[str, Value] = field(default_factory=dict)  # module-level name → value


@dataclass(slots=True)
class Bindings:
    """The names visible at a point of a function body: locals and parameters with their
    values, and the names that denote the enclosing instance (``self``, ``this``, a Go
    receiver) or the enclosing class itself (``cls``)."""

    names: dict[str, Value] = field(default_factory=dict)
    instance: dict[str, str] = field(default_factory=dict)  # name → class (qualified)
    classes: dict[str, str] = field(default_factory=dict)  # name → class (qualified)


def word_set(text: str) -> frozenset[str]:
    """A set of names written as one space-separated string (long tables read better)."""
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class TypeSyntax:
    """How a language writes types, for the shared type-text reader: generic containers
    whose element is their first argument, mappings whose values are their last, wrappers
    that stand for their argument (``Optional``, ``Option``), the empty types of unions
    (``None``, ``null``), and the names of the enclosing class (``Self``)."""

    containers: frozenset[str] = frozenset()
    mappings: frozenset[str] = frozenset()
    wrappers: frozenset[str] = frozenset()
    empty: frozenset[str] = frozenset()
    self_types: frozenset[str] = frozenset()
    awaitables: frozenset[str] = frozenset()
    firsts: frozenset[str] = frozenset()  # stand for their first argument: Result<T, E>


@dataclass(frozen=True, slots=True)
class TypeRules:
    """One language's receiver-type rules, all over tree-sitter trees: the facts a file
    states (``facts``), the scope at a 0-based row (``scope``), how it writes types, the
    names bound to the instance inside a member's value (``self``, ``this``), and whether a
    type's methods may live in other files of its folder (Go, Rust)."""

    facts: Callable[[Node], FileFacts]
    scope: Callable[[Node, int], Bindings]
    syntax: TypeSyntax
    self_names: frozenset[str] = frozenset()
    members_across_files: bool = False


def path_to_row(root: Node, row: int) -> list[tuple[Node, list[Node]]]:
    """The nodes enclosing ``row`` from the root down, each with the siblings before it
    (the statements above the cursor at that level): what a scope walker reads. At each
    level the last child starting at or before ``row`` that reaches it is followed."""
    out: list[tuple[Node, list[Node]]] = []
    node = root
    while True:
        before: list[Node] = []
        inside: Node | None = None
        for child in node.named_children:
            if child.start_point.row > row:
                break
            if child.end_point.row < row:
                before.append(child)
            else:
                inside = child
        out.append((node, before))
        if inside is None:
            return out
        node = inside


def first_doc_line(comment: str) -> str:
    """The first line of content of a doc comment (``/** … */``, ``///``, ``//``)."""
    for line in comment.split("\n"):
        text = line.strip().lstrip("/*!").strip().rstrip("*/").strip()
        if text and not text.startswith("@"):
            return text
    return ""
