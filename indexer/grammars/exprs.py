"""Read the small expressions that say what a receiver is, in any of the languages: access
chains (``self.jar.cookies(…)[0]``, ``new Session()``, ``X::new()``, ``&Server{}``) and type
texts (``Optional[Session]``, ``*Server``, ``Array<Item>``, ``[]Item``, ``Vec<Item>``).

Plain text on purpose: the receiver before a dot the user is typing sits in a buffer that
does not parse yet, and a declaration's type or value is one short node whose text is at
hand. Anything this reader does not understand gives None (unknown), never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from indexer.grammars.base import TypeSyntax

# A step of an access chain: ("name", "x") first, then ("attr", "m"), ("call", ""),
# ("index", ""), ("await", "") for an awaited value.
Step = tuple[str, str]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPEN = {"(": ")", "[": "]", "{": "}", "<": ">"}
_PREFIXES = ("await ", "new ", "&mut ", "&", "*", "yield ", "try ", "(")
_SEPARATORS = ("?.", "->", "::", ".", "!.")
MAX_STEPS = 12


def _close(text: str, i: int) -> int:
    """Index just after the bracket group opening at ``i`` (strings skipped); -1 if open."""
    depth = 0
    quote = ""
    j = i
    while j < len(text):
        ch = text[j]
        if quote:
            if ch == "\\":
                j += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _skip_generics(text: str, i: int) -> int:
    """After an identifier: skip ``<T, U>`` (or Rust's ``::<T>``) when a call, a literal or
    a path follows it; else stay."""
    j = i + 2 if text.startswith("::<", i) else i
    if j >= len(text) or text[j] != "<":
        return i
    depth = 0
    for k in range(j, len(text)):
        if text[k] == "<":
            depth += 1
        elif text[k] == ">":
            depth -= 1
            if depth == 0:
                rest = text[k + 1 :].lstrip()
                return k + 1 if rest[:1] in ("(", "{", ":") or rest == "" else i
        elif not (text[k].isalnum() or text[k] in "_ ,.:[]&*'"):
            return i
    return i


def parse_chain(text: str) -> list[Step] | None:
    """The access chain of an expression, or None when it is anything else (an operator,
    a literal, a lambda)."""
    text = text.strip()
    steps: list[Step] = []
    awaited = False
    changed = True
    while changed:  # prefixes: await, new, &, *, a parenthesised expression
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                if prefix == "(":
                    end = _close(text, 0)
                    if end != len(text):
                        return _paren_then(text)
                    text = text[1:-1].strip()
                else:
                    awaited = awaited or prefix in ("await ", "yield ")
                    text = text[len(prefix) :].strip()
                changed = True
    m = _IDENT.match(text)
    if m is None:
        return None
    steps.append(("name", m.group(0)))
    i = _skip_generics(text, m.end())
    while i < len(text):
        if len(steps) > MAX_STEPS:
            return None
        ch = text[i]
        if ch in " \t\n":
            i += 1
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep is not None:
            m = _IDENT.match(text, i + len(sep))
            if m is None:
                return None
            steps.append(("attr", m.group(0)))
            i = _skip_generics(text, m.end())
            continue
        if ch in "([{":
            end = _close(text, i)
            if end < 0:
                return None
            steps.append(("call" if ch in "({" else "index", ""))
            i = end
            continue
        if ch in "!?":  # TypeScript's non-null assertion, Rust's `?`
            i += 1
            continue
        return None
    if awaited:
        steps.append(("await", ""))
    return steps


def _paren_then(text: str) -> list[Step] | None:
    """``(expr).rest``: the chain of expr followed by the rest."""
    end = _close(text, 0)
    if end < 0:
        return None
    inner = parse_chain(text[1 : end - 1])
    rest = parse_chain("x" + text[end:])
    if inner is None or rest is None:
        return None
    return inner + rest[1:]


_RECEIVER_CHARS = re.compile(r"[A-Za-z0-9_$]")


def receiver_text(before: str) -> tuple[str, str] | None:
    """(receiver expression, partial member) when ``before`` (the cursor line up to the
    cursor) ends with ``receiver.partial``, ``receiver?.partial`` or ``receiver->partial``;
    None when the cursor is not after a member access."""
    m = re.search(r"[A-Za-z_$][A-Za-z0-9_$]*$", before)
    partial = m.group(0) if m else ""
    rest = before[: len(before) - len(partial)]
    sep = next((s for s in ("?.", "->", ".") if rest.endswith(s)), None)
    if sep is None or rest.endswith(".."):
        return None
    i = len(rest) - len(sep)
    end = i
    while i > 0:
        ch = rest[i - 1]
        if _RECEIVER_CHARS.match(ch) or ch in ".?":
            i -= 1
        elif rest.endswith("->", 0, i) or rest.endswith("::", 0, i):
            i -= 2
        elif ch in ")]":
            depth = 0
            j = i - 1
            while j >= 0:
                if rest[j] in ")]}":
                    depth += 1
                elif rest[j] in "([{":
                    depth -= 1
                    if depth == 0:
                        break
                j -= 1
            if j < 0:
                return None
            i = j
        else:
            break
    receiver = rest[i:end].strip(".?")
    if not receiver or receiver[0].isdigit():
        return None
    # `new Foo().` and `await foo().`: the keyword belongs to the receiver.
    head = rest[:i].rstrip()
    for word in ("new", "await"):
        if not head.endswith(word):
            continue
        starts = len(head) == len(word) or not head[-len(word) - 1].isalnum()
        if starts and rest[i - 1 : i] == " ":
            receiver = f"{word} {receiver}"
    return receiver, partial


# --- type texts ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type as written: its name (possibly dotted, ``models.Session``) and arguments."""

    name: str
    args: tuple[TypeRef, ...] = ()


_STRIP_WORDS = ("readonly ", "const ", "mut ", "dyn ", "impl ", "final ", "unique ", "typeof ")
_ARRAY = "[]"


def _split_top(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>" and not (ch == ">" and i > 0 and text[i - 1] == "="):
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_type(text: str, syntax: TypeSyntax, depth: int = 0) -> TypeRef | None:
    """The type a type text names, wrappers and empty union members removed; None when it
    is not one named type (a union of two classes, a function type, a literal)."""
    text = text.strip().strip("\"'").strip()
    if not text or depth > 6:
        return None
    changed = True
    while changed:
        changed = False
        for prefix in ("&'", "&", "*", "?", "^", ":"):
            if text.startswith(prefix):
                text = text[len(prefix) :].lstrip()
                if prefix == "&'":  # a lifetime: &'a T
                    text = text.split(" ", 1)[1] if " " in text else ""
                changed = True
        for word in _STRIP_WORDS:
            if text.startswith(word):
                text = text[len(word) :].lstrip()
                changed = True
        if text.endswith("?") or text.endswith("!"):
            text = text[:-1].rstrip()
            changed = True
    parts = [p for p in _split_top(text, "|") if p and p not in syntax.empty]
    if len(parts) != 1:
        return None
    text = parts[0]
    if text.startswith("[]"):  # Go slice
        inner = parse_type(text[2:], syntax, depth + 1)
        return TypeRef(_ARRAY, (inner,)) if inner else None
    if text.startswith("map[") and "]" in text:  # Go map
        close = _close(text, 3)
        value = parse_type(text[close:], syntax, depth + 1) if close > 0 else None
        return TypeRef("map", (TypeRef("?"), value)) if value else None
    if text.startswith("[") and text.endswith("]"):  # Rust array/slice [T; N], [T]
        inner = parse_type(_split_top(text[1:-1], ";")[0], syntax, depth + 1)
        return TypeRef(_ARRAY, (inner,)) if inner else None
    if text.endswith("[]"):  # TypeScript/Java array
        inner = parse_type(text[:-2], syntax, depth + 1)
        return TypeRef(_ARRAY, (inner,)) if inner else None
    m = re.match(r"[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*", text)
    if m is None:
        return None
    name = m.group(0).replace("::", ".")
    rest = text[m.end() :].strip()
    args: tuple[TypeRef, ...] = ()
    if rest[:1] in ("[", "<"):
        close = _close_angle(rest) if rest[0] == "<" else _close(rest, 0)
        if close < 0 or rest[close:].strip():
            return None
        raw = _split_top(rest[1 : close - 1], ",")
        args = tuple(
            (parse_type(a, syntax, depth + 1) or TypeRef("?")) for a in raw if a and a != "..."
        )
    elif rest:
        return None
    short = name.rsplit(".", 1)[-1]
    if short in syntax.firsts and args and args[0].name != "?":
        return args[0]
    if short in syntax.wrappers or name in syntax.wrappers:
        real = [a for a in args if a.name not in syntax.empty and a.name != "?"]
        return real[0] if len(real) == 1 else None
    return TypeRef(name, args)


def _close_angle(text: str) -> int:
    depth = 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">" and not (i > 0 and text[i - 1] == "="):
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def element_of(ref: TypeRef, syntax: TypeSyntax, index: bool) -> TypeRef | None:
    """What iterating (or, with ``index``, subscripting) a value of this type gives: the
    element of an array or container, a mapping's value when indexed; None otherwise."""
    short = ref.name.rsplit(".", 1)[-1]
    known = [a for a in ref.args if a.name != "?"]
    if ref.name == _ARRAY or short in syntax.containers:
        return known[0] if known else None
    if short in syntax.mappings or ref.name == "map":
        if index:
            return ref.args[-1] if ref.args and ref.args[-1].name != "?" else None
        return ref.args[0] if ref.args and ref.args[0].name != "?" else None
    return None


def awaited(ref: TypeRef, syntax: TypeSyntax) -> TypeRef | None:
    """What awaiting a value of this type gives (``Promise<T>`` → T); None if not one."""
    if ref.name.rsplit(".", 1)[-1] in syntax.awaitables and ref.args:
        return ref.args[-1] if ref.args[-1].name != "?" else None
    return None
