"""Turn a model's raw continuation into what the editor shows."""

from __future__ import annotations

from server.postprocess.brackets import balance
from server.postprocess.repetition import cut_char_loops, cut_line_loops


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _cut_at_dedent(completion: str, prefix: str) -> str:
    """In multi-line mode, stop at the first line that leaves the cursor's block (less
    indented than the cursor's line) or after two blank lines."""
    current = prefix.rpartition("\n")[2]
    first_line, *rest = completion.split("\n")
    base = _indent(current + first_line) if (current + first_line).strip() else len(current)
    kept = [first_line]
    blanks = 0
    for line in rest:
        if not line.strip():
            blanks += 1
            if blanks >= 2:
                break
            kept.append(line)
            continue
        blanks = 0
        if _indent(line) < base:
            break
        kept.append(line)
    return "\n".join(kept)


def _cut_at_suffix(completion: str, suffix: str) -> str:
    """Stop where the completion starts repeating the code after the cursor."""
    rest_of_line, _, after = suffix.partition("\n")
    # A multi-line completion that reaches the suffix's next non-empty line stops before it.
    next_line = next((ln.strip() for ln in after.split("\n") if ln.strip()), "")
    lines = completion.split("\n")
    if next_line:
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == next_line:
                lines = lines[:i]
                break
    completion = "\n".join(lines)
    # The completion's first line must not end with what already follows the cursor.
    tail = rest_of_line.strip()
    if tail:
        first, nl, more = completion.partition("\n")
        stripped = first.rstrip()
        if stripped.endswith(tail) and len(stripped) > len(tail):
            first = stripped[: -len(tail)]
        elif stripped == tail:
            first = ""
        completion = first + nl + more
    return completion


def postprocess(
    completion: str, prefix: str, suffix: str, language: str | None, multiline: bool
) -> str:
    """Cut to one line (or to the cursor's block), at the suffix, before loops and
    unbalanced closers; whitespace-only results become empty."""
    text = completion.replace("\r\n", "\n")
    text = text.split("\n", 1)[0] if not multiline else _cut_at_dedent(text, prefix)
    text = _cut_at_suffix(text, suffix)
    text = cut_line_loops(text)
    text = cut_char_loops(text)
    text = balance(text, prefix, suffix, language)
    text = "\n".join(line.rstrip() for line in text.split("\n")).rstrip("\n")
    if not text.strip():
        return ""
    if not multiline and text.strip() == suffix.split("\n", 1)[0].strip():
        return ""
    return text
