"""Cut the loops small models fall into: the same line, or the same few characters, again
and again."""

from __future__ import annotations

_MIN_REPEATS = 3


def cut_line_loops(text: str, max_block: int = 3) -> str:
    """Keep the first copy of a block of 1-3 non-empty lines repeated three times in a row."""
    lines = text.split("\n")
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    keys = [lines[i].strip() for i in idx]
    for s in range(len(keys)):
        for k in range(1, max_block + 1):
            if s + _MIN_REPEATS * k > len(keys):
                break
            block = keys[s : s + k]
            if all(keys[s + r * k : s + (r + 1) * k] == block for r in range(1, _MIN_REPEATS)):
                return "\n".join(lines[: idx[s + k - 1] + 1])
    return text


def cut_char_loops(text: str, max_period: int = 24) -> str:
    """If the text ends with a unit repeated three or more times, keep one copy of it."""
    n = len(text)
    for period in range(1, min(max_period, n // _MIN_REPEATS) + 1):
        unit = text[n - period :]
        if not unit.strip():
            continue
        reps = 1
        while text[: n - reps * period].endswith(unit):
            reps += 1
        if reps >= _MIN_REPEATS and (period > 1 or reps >= 2 * _MIN_REPEATS):
            return text[: n - (reps - 1) * period]
    return text
