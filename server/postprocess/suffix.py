"""Stop where the completion starts re-typing the code after the cursor."""

from __future__ import annotations

_MIN_INLINE_TAIL = 3  # a shorter rest of line found mid-completion may be a coincidence


def cut_at_suffix(completion: str, prefix: str, suffix: str) -> str:
    """Cut the completion where the suffix resumes: the suffix's next non-empty line (in
    multi-line mode, or as the first line on a line that is still blank), or the rest of
    the cursor's line (at the end of the first line, or inside it when long enough)."""
    rest_of_line, _, after = suffix.partition("\n")
    next_line = next((ln.strip() for ln in after.split("\n") if ln.strip()), "")
    lines = completion.split("\n")
    if next_line:
        blank_cursor_line = not prefix.rpartition("\n")[2].strip() and not rest_of_line.strip()
        start = 0 if blank_cursor_line else 1
        for i, line in enumerate(lines[start:], start=start):
            if line.strip() == next_line:
                lines = lines[:i]
                break
    completion = "\n".join(lines)
    tail = rest_of_line.strip()
    if not tail:
        return completion
    first, nl, more = completion.partition("\n")
    stripped = first.rstrip()
    if stripped == tail:
        first = ""
    elif stripped.endswith(tail):
        first = stripped[: -len(tail)]
    elif len(tail) >= _MIN_INLINE_TAIL and tail in stripped:
        # The model wrote the rest of the line and went on past it: keep what comes first.
        first = stripped[: stripped.index(tail)]
        nl = more = ""
    return first + nl + more
