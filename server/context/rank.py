"""From candidates to the final list: drop the cursor's own region, merge overlaps, order,
and fit the token budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from server.context.snippet import Snippet


@dataclass(slots=True)
class Candidate:
    """A snippet before ranking: mutable, so overlapping candidates can be merged."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    source: str
    reason: str
    aligned: bool = field(init=False)  # one text line per span line (not a class summary)
    second: float = 0.0  # after a merge: the best score among the other candidates merged
    # Lines not shown are empty (a header's digest): dropped when the snippet is fitted.
    sparse: bool = False
    # A digest's rows, best first (each the file lines of one declaration): when the
    # snippet must be cut to fit, the best rows stay rather than the first lines.
    rows: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        self.aligned = self.text.count("\n") == self.end_line - self.start_line

    def lines(self) -> dict[int, str]:
        return {self.start_line + i: t for i, t in enumerate(self.text.split("\n"))}


def approx_tokens(text: str) -> int:
    """About four characters a token for code; used when the caller has no tokenizer."""
    return max(1, (len(text) + 3) // 4)


def is_own_region(c: Candidate, path: str, cursor_line1: int) -> bool:
    """A chunk of the cursor's file that overlaps or follows the cursor line (1-based)."""
    return c.path == path and c.end_line >= cursor_line1


def merge_overlapping(cands: Iterable[Candidate]) -> list[Candidate]:
    """Merge candidates of the same file whose line ranges overlap: one snippet
    per region, with the best score, its source, and every reason."""
    by_path: dict[str, list[Candidate]] = {}
    for c in cands:
        by_path.setdefault(c.path, []).append(c)
    out: list[Candidate] = []
    for group in by_path.values():
        group.sort(key=lambda c: (c.start_line, c.end_line))
        current: Candidate | None = None
        for c in group:
            if current is not None and c.start_line <= current.end_line:
                current = _merge(current, c)
            else:
                if current is not None:
                    out.append(current)
                current = c
        if current is not None:
            out.append(current)
    return out


MERGE_BONUS = 0.25


def _merge(a: Candidate, b: Candidate) -> Candidate:
    """One candidate for two overlapping ones. Two signals for one region are worth more
    than either alone, but only the best two count: a class holding many methods named
    near the cursor is not thereby the best snippet."""
    base_a, base_b = _base(a), _base(b)
    best, other = (a, b) if base_a >= base_b else (b, a)
    top, rest = max(base_a, base_b), min(base_a, base_b)
    second = max(rest, a.second, b.second)
    score = top + MERGE_BONUS * second
    reasons = best.reason if other.reason in best.reason else f"{best.reason}; {other.reason}"
    if not (a.aligned and b.aligned):  # a summary's lines cannot be spliced: keep the best
        merged = Candidate(
            best.path, best.start_line, best.end_line, best.text, score, best.source, reasons
        )
        merged.second = second
        return merged
    lines = a.lines()
    for n, t in b.lines().items():
        if not lines.get(n):  # a sparse snippet's empty line: the other's text, if any
            lines[n] = t
    start, end = min(a.start_line, b.start_line), max(a.end_line, b.end_line)
    text = "\n".join(lines.get(n, "") for n in range(start, end + 1))
    sparse = a.sparse or b.sparse
    rows = best.rows + other.rows if best.rows and other.rows else best.rows or other.rows
    merged = Candidate(
        a.path, start, end, text, score, best.source, reasons, sparse=sparse, rows=rows
    )
    merged.second = second
    return merged


def _base(c: Candidate) -> float:
    """A candidate's own score, without the bonus a merge added."""
    return c.score - MERGE_BONUS * c.second


def fit(
    cands: list[Candidate],
    k: int,
    budget_tokens: int,
    count_tokens: Callable[[str], int],
    min_tokens: int = 24,
) -> list[Snippet]:
    """The best ``k`` candidates that fit ``budget_tokens`` together, best first.

    A candidate too long for what remains is cut to its first lines (a definition's header
    and docstring matter most) when at least ``min_tokens`` remain; else it is skipped."""
    ordered = sorted(cands, key=lambda c: (-c.score, c.path, c.start_line))
    out: list[Snippet] = []
    left = budget_tokens
    for c in ordered:
        if len(out) >= k or left <= 0:
            break
        shown: tuple[int, ...] = ()
        if c.sparse:
            c, shown = _compact(c)
        text, end = c.text, c.end_line
        cost = count_tokens(text)
        if cost > left and shown and c.rows:
            if left < min_tokens:
                continue
            text, shown = _best_rows(c, shown, left, count_tokens)
            if not text:
                continue
            end = shown[-1]
            cost = count_tokens(text)
        elif cost > left:
            if left < min_tokens:
                continue
            text, end = _head(c, left, count_tokens)
            if not text:
                continue
            if shown:
                shown = shown[: text.count("\n") + 1]
                end = shown[-1]
            cost = count_tokens(text)
        score = round(c.score, 4)
        out.append(Snippet(c.path, c.start_line, end, text, score, c.source, c.reason, shown))
        left -= cost
    return out


def _compact(c: Candidate) -> tuple[Candidate, tuple[int, ...]]:
    """A sparse candidate without its empty lines (not shown, so not paid for), and the
    file lines it still shows; its span is still the lines it was taken from."""
    kept = [(n, t) for n, t in c.lines().items() if t.strip()]
    text = "\n".join(t for _, t in kept)
    out = Candidate(
        c.path, c.start_line, c.end_line, text, c.score, c.source, c.reason, rows=c.rows
    )
    out.second = c.second
    return out, tuple(n for n, _ in kept)


def _best_rows(
    c: Candidate, shown: tuple[int, ...], budget: int, count_tokens: Callable[[str], int]
) -> tuple[str, tuple[int, ...]]:
    """A compacted digest cut to ``budget`` tokens by dropping its worst rows (not its last
    lines): the text of the best rows that fit, in file order, and the lines it shows."""
    text_of = dict(zip(shown, c.text.split("\n"), strict=True))
    kept: set[int] = set()
    used = 0
    for row in c.rows:
        lines = [n for n in row if n in text_of and n not in kept]
        cost = count_tokens("\n".join(text_of[n] for n in lines)) if lines else 0
        if not lines or used + cost > budget:
            continue
        kept.update(lines)
        used += cost
    order = tuple(sorted(kept))
    return "\n".join(text_of[n] for n in order), order


def _head(c: Candidate, budget: int, count_tokens: Callable[[str], int]) -> tuple[str, int]:
    """The longest run of leading lines within ``budget`` tokens."""
    lines = c.text.split("\n")
    lo, hi = 0, len(lines)
    while lo < hi:  # largest n with count(lines[:n]) <= budget
        mid = (lo + hi + 1) // 2
        if count_tokens("\n".join(lines[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        return "", c.start_line
    return "\n".join(lines[:lo]), c.start_line + lo - 1
