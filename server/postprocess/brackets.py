"""Keep brackets balanced: a completion must not close what the suffix will close, nor
close what was never opened.

Decided with tree-sitter where the language has a grammar: the completion (or the longest
cut of it) is kept when inserting it between the prefix and the suffix adds no syntax error.
Elsewhere a bracket counter that skips strings and line comments decides.
"""

from __future__ import annotations

from typing import Any

_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPEN = set(_PAIRS.values())
_PREFIX_WINDOW_LINES = 60
_SUFFIX_WINDOW_LINES = 20


def _parser(language: str | None) -> Any | None:
    if not language:
        return None
    try:
        from indexer.languages import get_parser
    except ImportError:  # the grammar registry is not there: count brackets instead
        return None
    try:
        return get_parser(language)
    except Exception:
        return None


def _errors(parser: Any, text: str) -> int:
    """Number of ERROR and MISSING nodes in the parse of ``text``."""
    tree = parser.parse(text.encode("utf-8", "surrogatepass"))
    if not tree.root_node.has_error:
        return 0
    n = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            n += 1
        if node.has_error:
            stack.extend(node.children)
    return n


def _scan(text: str, stack: list[str], comment: str, stop_on_excess: bool) -> int | None:
    """Push and pop brackets of ``text`` onto ``stack``, skipping strings and comments.
    Returns the index of the first closer with no matching opener, if ``stop_on_excess``."""
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote or ch == "\n":
                quote = None
        elif ch in "\"'`":
            quote = ch
        elif text.startswith(comment, i):
            nl = text.find("\n", i)
            if nl < 0:
                break
            i = nl
            continue
        elif ch in _OPEN:
            stack.append(ch)
        elif ch in _PAIRS:
            if stack and stack[-1] == _PAIRS[ch]:
                stack.pop()
            elif stop_on_excess:
                return i
        i += 1
    return None


def _suffix_closers(suffix: str, comment: str) -> int:
    """How many brackets opened before the cursor the rest of the cursor's line closes."""
    line = suffix.split("\n", 1)[0]
    stack: list[str] = []
    closers = 0
    for ch in line:
        if ch in _OPEN:
            stack.append(ch)
        elif ch in _PAIRS:
            if stack:
                stack.pop()
            else:
                closers += 1
    return closers


def balance_by_counting(completion: str, prefix: str, suffix: str, language: str | None) -> str:
    """Cut the completion before its first closer that has no opener it may close."""
    comment = "#" if language in (None, "python", "ruby", "shell", "bash", "toml", "yaml") else "//"
    window = "\n".join(prefix.split("\n")[-_PREFIX_WINDOW_LINES:])
    open_before: list[str] = []
    _scan(window, open_before, comment, stop_on_excess=False)
    # Brackets the suffix's line will close stay reserved for it; the completion may close
    # the prefix's brackets only when the suffix closes none of them.
    stack = [] if _suffix_closers(suffix, comment) else open_before
    cut = _scan(completion, stack, comment, stop_on_excess=True)
    return completion if cut is None else completion[:cut]


def _cut_points(completion: str) -> list[int]:
    """Where to try cutting, longest first: before each closer and after each line."""
    points = {i for i, ch in enumerate(completion) if ch in _PAIRS}
    points |= {i for i, ch in enumerate(completion) if ch == "\n"}
    return sorted(points, reverse=True)


def balance(completion: str, prefix: str, suffix: str, language: str | None) -> str:
    """The longest cut of ``completion`` that keeps the code around it as well-formed as it
    was without it."""
    if not completion:
        return completion
    parser = _parser(language)
    if parser is None:
        return balance_by_counting(completion, prefix, suffix, language)
    before = "\n".join(prefix.split("\n")[-_PREFIX_WINDOW_LINES:])
    after = "\n".join(suffix.split("\n")[:_SUFFIX_WINDOW_LINES])
    baseline = _errors(parser, before + after)
    if _errors(parser, before + completion + after) <= baseline:
        return completion
    for cut in _cut_points(completion):
        candidate = completion[:cut]
        if candidate.strip() and _errors(parser, before + candidate + after) <= baseline:
            return candidate
    return balance_by_counting(completion, prefix, suffix, language)
