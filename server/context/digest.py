"""A header's API as one compact snippet: the declarations of the in-scope names most
likely next, without their comments, blank lines and macro bodies.

A C file sees hundreds of names through its includes (curl's ``lib/``: ~2,500), and
nothing on the line says which comes next. Shown one 30-line chunk of the header each,
five snippets hold the best few names and their neighbours, half of it comments; the
prototypes alone put three times as many of the likely names in the same tokens. The
snippet keeps one text line per file line (lines not shown are empty), so it merges with
other snippets of the header like any other, and ``Candidate.sparse`` drops the empty
lines when it is fitted into the prompt."""

from __future__ import annotations

import re
from collections.abc import Sequence

from indexer.types import SymbolDef
from server.context.rank import Candidate
from server.context.workspace import FileEntry

DIGEST_CHARS = 1200  # about 300 tokens: most of the prompt's snippet budget, not more
DEF_LINES = 4  # a declaration's first lines that are code (a long macro shows its head)
_COMMENT_STARTS = ("/*", "*", "//")
_CALLABLE = frozenset({"function", "method"})


_CACHE = 2048  # declarations kept, with the file rows they were read from
_cache: dict[tuple[int, int, int], tuple[FileEntry, dict[int, str]]] = {}


def declaration_lines(entry: FileEntry, d: SymbolDef) -> dict[int, str]:
    """The code lines of ``d`` (1-based line -> text), comments and blank lines left out,
    its first ``DEF_LINES`` at most; empty when no chunk holds its lines. Kept while the
    file's rows are the same objects (the same header's names come at every cursor)."""
    key = (id(entry), d.start_line, d.end_line)
    hit = _cache.get(key)
    if hit is not None and hit[0] is entry:
        return hit[1]
    out = _declaration_lines(entry, d)
    if len(_cache) >= _CACHE:
        _cache.pop(next(iter(_cache)))
    _cache[key] = (entry, out)
    return out


def _declaration_lines(entry: FileEntry, d: SymbolDef) -> dict[int, str]:
    out: dict[int, str] = {}
    last: tuple[int, str] | None = None  # where a long definition's name is, if at its end
    for c in entry.chunks:
        if c.kind == "class_summary" or not c.start_line <= d.start_line <= c.end_line:
            continue
        lines = c.text.split("\n")
        if len(lines) != c.end_line - c.start_line + 1:
            continue  # not one text line per file line
        in_comment = False
        for n in range(d.start_line, min(d.end_line, c.end_line) + 1):
            text = lines[n - c.start_line]
            stripped = text.strip()
            if in_comment:
                in_comment = "*/" not in stripped
                continue
            if not stripped:
                continue
            if stripped.startswith(_COMMENT_STARTS):
                in_comment = stripped.startswith("/*") and "*/" not in stripped
                continue
            if len(out) < DEF_LINES:
                out[n] = _squeeze(text)
                # A macro's head names it and its parameters, a function's ends at its
                # body's brace: the rest is not what a caller needs.
                if stripped.startswith("#") or (d.kind in _CALLABLE and "{" in stripped):
                    break
            elif d.name in text:
                last = (n, _squeeze(text))
        break
    if last is not None and not any(d.name in t for t in out.values()):
        del out[max(out)]  # ``typedef struct {`` … ``} name;``: the head and the name
        out[last[0]] = last[1]
    return out


_RUNS = re.compile(r"(?<=\S)[ \t]{2,}")


def _squeeze(line: str) -> str:
    """A line without its alignment: runs of blanks after its first word become one
    (``#define NAME(a)      BODY``), its indentation kept."""
    return _RUNS.sub(" ", line.rstrip())


def digest_candidate(
    entry: FileEntry,
    rows: Sequence[tuple[SymbolDef, float, str]],
    max_chars: int = DIGEST_CHARS,
) -> Candidate | None:
    """One snippet of ``entry`` (a header) showing the declarations of ``rows`` (definition,
    score, reason; best first) as long as they fit in ``max_chars``, in file order; scored
    as its best row. None when no row has code lines."""
    shown: dict[int, str] = {}
    used = 0
    reasons: list[str] = []
    groups: list[tuple[int, ...]] = []
    scores: list[float] = []
    for d, s, why in rows:
        lines = {n: t for n, t in declaration_lines(entry, d).items() if n not in shown}
        cost = sum(len(t) + 1 for t in lines.values())
        if not lines or (shown and used + cost > max_chars):
            continue
        shown.update(lines)
        groups.append(tuple(lines))
        used += cost
        scores.append(s)
        reasons.append(why)
    if not shown:
        return None
    score = max(scores)
    start, end = min(shown), max(shown)
    texts = [""] * (end - start + 1)  # a wide header's span is mostly lines not shown
    for n, t in shown.items():
        texts[n - start] = t
    text = "\n".join(texts)
    reason = reasons[0] if len(reasons) == 1 else f"{reasons[0]}; and {len(reasons) - 1} more"
    return Candidate(
        entry.path, start, end, text, score, "definition", reason, sparse=True, rows=tuple(groups)
    )
