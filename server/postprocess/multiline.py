"""Single-line or multi-line, from the text around the cursor."""

from __future__ import annotations

_OPENERS_PY = (":",)
_OPENERS_BRACE = ("{", "(", "[", "=>")


def _openers(language: str | None) -> tuple[str, ...]:
    return (*_OPENERS_PY, "(", "[", "{") if language == "python" else _OPENERS_BRACE


def decide_multiline(prefix: str, suffix: str, language: str | None) -> bool:
    """Multi-line right after a block opener (``:`` in Python, ``{`` elsewhere), or on an
    empty line below one; single-line anywhere mid-line."""
    rest_of_line = suffix.split("\n", 1)[0]
    if rest_of_line.strip():
        return False
    head, _, current = prefix.rpartition("\n")
    openers = _openers(language)
    if current.strip():
        return current.rstrip().endswith(openers)
    for line in reversed(head.split("\n")):
        if line.strip():
            return line.rstrip().endswith(openers)
    return False
