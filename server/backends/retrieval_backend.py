"""The model-free backend: continue the current line the way the retrieved code does.

Useful offline and while a model loads. The current line's text before the cursor is matched
against every line of the retrieved snippets; the best match is the one whose preceding
lines also agree with the lines above the cursor. Its rest of line is proposed, followed by
the block it opens when multi-line completion is on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from server.backends.base import Generation

_CONTEXT_LINES = 3  # how many lines above a match are compared with the lines above the cursor
_MAX_BLOCK_LINES = 8
_PARTIAL_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class HasText(Protocol):
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Match:
    score: float
    snippet: int
    line: int
    rest: str


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _context_agreement(above: list[str], lines: list[str], j: int) -> int:
    """How many of the non-empty lines just above ``lines[j]`` equal those above the cursor."""
    theirs = [s for s in (ln.strip() for ln in lines[:j]) if s][-_CONTEXT_LINES:]
    ours = above[-_CONTEXT_LINES:]
    n = 0
    for a, b in zip(reversed(ours), reversed(theirs), strict=False):
        if a != b:
            break
        n += 1
    return n


def _best_match(prefix: str, snippets: Sequence[HasText]) -> _Match | None:
    head, _, current = prefix.rpartition("\n")
    key = current.lstrip(" \t")
    above = [s for s in (ln.strip() for ln in head.split("\n")) if s]
    best: _Match | None = None
    for si, snip in enumerate(snippets):
        lines = snip.text.split("\n")
        for j, line in enumerate(lines):
            stripped = line.lstrip(" \t")
            if not stripped.startswith(key) or len(stripped.rstrip()) <= len(key):
                continue
            agree = _context_agreement(above, lines, j)
            if len(key) < 2 and agree == 0:
                continue  # an empty or one-letter key matches anything: demand context
            # Longer key matches and agreeing context count most; earlier snippets rank higher.
            score = len(key) + 10.0 * agree - 0.01 * si
            if best is None or score > best.score:
                best = _Match(score, si, j, stripped[len(key) :].rstrip())
    return best


def _word_completion(prefix: str, snippets: Sequence[HasText]) -> str:
    """The rest of the identifier being typed, when no retrieved line continues the current
    one: the first name in the snippets (best snippet first) that extends the partial word,
    e.g. ``CENTIM`` -> ``ETRES_PER_INCH`` from a snippet holding only the definition."""
    partial = _PARTIAL_WORD.search(prefix)
    if partial is None or len(partial.group()) < 2:
        return ""
    word = partial.group()
    for snip in snippets:
        for name in _WORD.findall(snip.text):
            if len(name) > len(word) and name.startswith(word):
                return name[len(word) :]
    return ""


def _block_after(lines: list[str], j: int, indent_now: str) -> list[str]:
    """The lines of the block ``lines[j]`` belongs to (or opens) that follow it, up to a
    blank line or a dedent, re-indented to the cursor."""
    base = _indent(lines[j])
    out: list[str] = []
    for line in lines[j + 1 : j + 1 + _MAX_BLOCK_LINES]:
        if not line.strip() or _indent(line) < base:
            break
        out.append(indent_now + line[base:])
    return out


def _indent_for(prefix: str, lines: list[str], j: int) -> str:
    """The indentation the matched line should have at the cursor: its indentation
    relative to the line above it, applied to the line above the cursor."""
    head, _, current = prefix.rpartition("\n")
    ours_above = next((ln for ln in reversed(head.split("\n")) if ln.strip()), "")
    theirs_above = next((ln for ln in reversed(lines[:j]) if ln.strip()), "")
    width = _indent(ours_above) + _indent(lines[j]) - _indent(theirs_above)
    unit = "\t" if ours_above.startswith("\t") else " "
    return unit * max(width, len(current))


class RetrievalBackend:
    """Proposes continuations copied from retrieved code; never loads a model."""

    name = "retrieval"

    def propose(
        self, prefix: str, suffix: str, snippets: Sequence[HasText], multiline: bool
    ) -> Generation:
        t0 = time.perf_counter()
        match = _best_match(prefix, snippets)
        text = ""
        if match is not None:
            lines = snippets[match.snippet].text.split("\n")
            current = prefix.rpartition("\n")[2]
            indent_now = current[: _indent(current)]
            text = match.rest
            if not current.strip():
                # On a blank line: the match was found by the lines above; indent it.
                indent_now = _indent_for(prefix, lines, match.line)
                text = indent_now[len(current) :] + match.rest
            if multiline:
                block = _block_after(lines, match.line, indent_now)
                if block:
                    text += "\n" + "\n".join(block)
        else:
            text = _word_completion(prefix, snippets)
        ms = (time.perf_counter() - t0) * 1000
        return Generation(
            text=text,
            model_ms=ms,
            first_token_ms=ms,
            finish_reason="stop" if text else "no_match",
        )
