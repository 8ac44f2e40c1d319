"""What the cursor tells us: the query window before it and the identifiers around it.

Positions are 0-based (line, column into the Python string of that line), as everywhere in
the Python APIs."""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset(
    """
    False None True and as assert async await break class continue def del elif else
    except finally for from global if import in is lambda nonlocal not or pass raise
    return try while with yield self cls const let var function return new this null
    undefined true false func package type struct interface fn pub use mod impl match
    mut static void int char float double long short unsigned signed public private
    protected final extends implements string bool str list dict set tuple print len
    range isinstance super
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


@dataclass(frozen=True, slots=True)
class Cursor:
    """The cursor and the text around it, cut once."""

    line: int  # 0-based
    col: int  # 0-based
    prefix_lines: list[str]  # lines above the cursor, then the cursor line up to col
    suffix_lines: list[str]  # the cursor line from col, then the lines below
    partial: str  # the identifier being typed, left of the cursor ("" when none)
    receiver: str | None  # "obj" in ``obj.pa|`` or ``obj::pa|``: the name before the dot

    @property
    def prefix(self) -> str:
        return "\n".join(self.prefix_lines)


def locate(text: str, line: int, col: int) -> Cursor:
    """Cut the buffer at the cursor, clamping a position past the end (editors send those
    while a buffer is being replaced)."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    col = max(0, min(col, len(current)))
    before, after = current[:col], current[col:]
    m = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", before)
    partial = m.group(0) if m else ""
    rest = before[: len(before) - len(partial)]
    r = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\.|::)\s*$", rest)
    return Cursor(
        line=line,
        col=col,
        prefix_lines=[*lines[:line], before],
        suffix_lines=[after, *lines[line + 1 :]],
        partial=partial,
        receiver=r.group(1) if r else None,
    )


def query_window(cursor: Cursor, n_lines: int = 10) -> str:
    """The last ``n_lines`` non-empty lines before the cursor, the cursor line's prefix
    included: the query RepoCoder and Copilot use for similar code."""
    picked: list[str] = []
    for text in reversed(cursor.prefix_lines):
        if text.strip():
            picked.append(text)
            if len(picked) >= n_lines:
                break
    return "\n".join(reversed(picked))


def nearby_identifiers(cursor: Cursor, above: int = 12, below: int = 3) -> dict[str, float]:
    """Identifiers near the cursor with a weight in (0, 1]: the nearer, the heavier.

    Lines above count more than lines below (the user writes downwards); keywords and
    one-letter names are dropped."""
    weights: dict[str, float] = {}

    def note(text: str, weight: float) -> None:
        for name in _IDENT.findall(text):
            if len(name) > 1 and name not in _KEYWORDS and weights.get(name, 0.0) < weight:
                weights[name] = weight

    seen = 0
    for text in reversed(cursor.prefix_lines):
        if not text.strip():
            continue
        note(text, 1.0 / (1.0 + 0.25 * seen))
        seen += 1
        if seen >= above:
            break
    seen = 0
    for text in cursor.suffix_lines:
        if not text.strip():
            continue
        note(text, 0.6 / (1.0 + 0.5 * seen))
        seen += 1
        if seen >= below:
            break
    return weights


def identifier_list(text: str) -> list[str]:
    """Every identifier occurrence in ``text``, in order."""
    return _IDENT.findall(text)


# Strings and comments of the common languages, roughly: a name mentioned in a docstring or
# a comment is not a use of it.
_NOISE = re.compile(
    r'"""[\s\S]*?(?:"""|$)|\'\'\'[\s\S]*?(?:\'\'\'|$)|/\*[\s\S]*?(?:\*/|$)'
    r'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
    r"|#[^\n]*|//[^\n]*"
)


_HASH_COMMENTS = frozenset({"python", "shell", "ruby", "yaml", "toml", "r", "julia", "elixir"})


def code_identifiers(text: str, language: str | None = None) -> list[str]:
    """Identifier occurrences outside strings and comments. ``#`` starts a comment only in
    the languages where it does (not C's ``#include``), ``//`` only where it is not
    Python's floor division."""
    return code_identifier_uses(text, language)[0]


# A member after ``.`` (not the last dot of ``...T``), ``->`` or ``::``.
_MEMBER = re.compile(r"(?:(?<!\.)\.|->|::)\s*([A-Za-z_][A-Za-z0-9_]*)")


def code_identifier_uses(text: str, language: str | None = None) -> tuple[list[str], list[str]]:
    """``code_identifiers`` and, apart, the occurrences that are members of something
    (``errors.New``, ``p->next``, ``Foo::bar``): those are not uses of a bare name in scope
    (``New`` of the file's own package is still unused after ``errors.New``)."""
    cleaned = _NOISE.sub(lambda m: _blank(m.group(0), language), text)
    return _IDENT.findall(cleaned), _MEMBER.findall(cleaned)


# ``Name `` (or ``Name *``, ``Name []``) alone before the cursor: a field or a parameter
# declared with its type to come, which in Go is often the same name (``Skipper Skipper``).
_DECLARED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s+[*&\[\]\s]*$")


def declared_name(cursor: Cursor) -> str | None:
    """The name the cursor's line declares before the cursor (``\tSkipper ``), which is no
    use of the same name in scope."""
    line = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    m = _DECLARED.match(line[: len(line) - len(cursor.partial)])
    return m.group(1) if m else None


# ``#include "cJSON.h"`` names a file, not the type ``cJSON``.
_INCLUDE = re.compile(r"#\s*(?:include|import)\b")


def _blank(match: str, language: str | None) -> str:
    hash_comments = language in _HASH_COMMENTS
    if match.startswith("#") and not hash_comments:
        return " " if _INCLUDE.match(match) else match
    if match.startswith("//") and hash_comments:
        return match
    return " "
