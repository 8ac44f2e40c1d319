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


_MAX_SEGMENT = 80
_MIN_SEGMENT_WORD_CHARS = 3  # "0, 0, 0" is data, not a loop


def _loop_start(line: str) -> tuple[int, int] | None:
    """(start, period) of the first segment written three times in a row (the last copy
    may be cut short by the end of the line), or None."""
    n = len(line)
    best: tuple[int, int] | None = None
    for period in range(2, min(_MAX_SEGMENT, n // 2) + 1):
        for i in range(0, n - 2 * period + 1):
            if best is not None and i + period >= sum(best):
                break
            if line[i] != line[i + period]:  # the cheap test first: this runs per keystroke
                continue
            unit = line[i : i + period]
            if line[i + period : i + 2 * period] != unit:
                continue
            third = line[i + 2 * period : i + 3 * period]
            if third != unit and not (third and unit.startswith(third) and i + 3 * period > n):
                continue
            if sum(ch.isalnum() or ch == "_" for ch in unit) < _MIN_SEGMENT_WORD_CHARS:
                continue
            best = (i, period)
            break
    return best


def _natural_end(line: str, start: int, period: int) -> int:
    """Where to end the kept copy: a loop has no first character of its own, so pick the
    first cut after one whole copy where the brackets are as balanced as at the line's
    start and the next character does not continue the same expression."""
    depth = 0
    for pos, ch in enumerate(line[: start + 2 * period]):
        depth += (ch in "([{") - (ch in ")]}")
        end = pos + 1
        if end < start + period:
            continue
        nxt = line[end] if end < len(line) else " "
        if depth <= 0 and not (nxt.isalnum() or nxt in "_([{\"'"):
            return end
    return start + period


def has_settled_loop(text: str) -> bool:
    """True once a line of ``text`` holds a segment written three whole times in a row:
    ``cut_segment_loops`` then drops that loop and everything after it, whatever follows,
    so a generation can stop there (the decoding loop asks every few tokens)."""
    for line in text.split("\n"):
        loop = _loop_start(line)
        if loop is not None:
            return loop[0] + 3 * loop[1] <= len(line)
    return False


def cut_segment_loops(text: str) -> str:
    """Inside one line, keep the first copy of a segment written three times in a row
    (``| Sequence["JsonTypeList"]`` six times, or ``.lower().lower().lower()``); what
    follows the loop is dropped with it."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        loop = _loop_start(line)
        if loop is not None:
            end = _natural_end(line, *loop)
            return "\n".join([*lines[:k], line[:end].rstrip()])
    return text
