"""Where TypeScript expects a type: what stands before a name on its line (and the bracket
left open above it) says whether the name is a type (``x: T``, ``Record<K, T>``,
``extends T``, ``as T``, ``| T``) or a value; JavaScript's lines never match these."""

from __future__ import annotations

import re

TYPES = frozenset({"class", "interface", "type", "enum"})
NOTHING: frozenset[str] = frozenset()

# On the line itself: an optional member's or a function's result annotation (``x?: ``,
# ``): ``), a generic's argument (``Map<``, ``Record<K, ``: no space before ``<``, unlike
# a comparison), a heritage or type operator, an assertion, a type alias's right side, a
# union or intersection's next member.
_ON_LINE = re.compile(
    r"\w\?:\s*$"
    r"|\)\s*:\s*$"
    r"|\b(?:let|const|var)\s+\w+\s*:\s*$"
    r"|\w<(?:[^<>()]*,)?\s*$"
    r"|\b(?:extends|implements|keyof|satisfies|infer)\s+$"
    r"|[\w)\]]\s+as\s+$"
    r"|^\s*(?:export\s+)?(?:declare\s+)?type\s+\w+(?:<.*>)?\s*=\s*$"
    r"|(?:^|[^|&])[|&]\s*$"
    r"|:\s*[\w.<>\[\]]+\s*[|&]\s*$"
)
# A plain ``name: `` is a type only inside a parameter list or a type's body (not an
# object literal's key, nor a ternary's ``a ? b : c``).
_ANNOTATED = re.compile(r"(?:^|[(,{;]|\breadonly|\bprivate|\bprotected|\bpublic)\s*#?\w+\s*:\s*$")
_TYPE_BODY = re.compile(r"\b(?:interface|class|type)\b[^=]*(?:=\s*)?\{\s*$")


def expected_kinds(lines: list[str]) -> frozenset[str]:
    """Type kinds when ``lines[-1]`` (cut before the name) puts a type next, else none."""
    line = lines[-1] if lines else ""
    if _ON_LINE.search(line):
        return TYPES
    if not _ANNOTATED.search(line):
        return NOTHING
    opener = _innermost_open(lines)
    if opener is None:
        return NOTHING
    text, bracket = opener
    if bracket == "(" or _TYPE_BODY.search(text):
        return TYPES
    return NOTHING


def _innermost_open(lines: list[str], limit: int = 40) -> tuple[str, str] | None:
    """The text up to the innermost ``(`` or ``{`` left open (within ``limit`` lines) and
    that bracket."""
    depth = 0
    for text in reversed(lines[-limit:]):
        for i in range(len(text) - 1, -1, -1):
            ch = text[i]
            if ch in ")}":
                depth += 1
            elif ch in "({":
                depth -= 1
                if depth < 0:
                    return text[: i + 1], ch
    return None
