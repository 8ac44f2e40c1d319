"""Definitions worth showing at the cursor: of the names the file imports from the
workspace (resolved through re-exports) and of the identifiers around the cursor.

An imported name that the file has not used yet is the strongest signal there is: people
import a name because they are about to use it."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from indexer.grammars import scope as language_scope
from indexer.languages import language_for_path
from indexer.scope import Meaning, Resolver
from indexer.types import ImportRef, SymbolDef
from server.context.bm25 import BM25
from server.context.cursor import Cursor
from server.context.digest import digest_candidate
from server.context.rank import Candidate
from server.context.workspace import FileEntry, Layered

MAX_DEF_LINES = 40
LISTING_LINES = 30  # a chunk of declarations this long at most is shown whole (a header's)
RELEVANCE_WEIGHT = 0.5
MAX_AMBIGUOUS = 4  # a bare name defined in more files than this says too little
MAX_DEPTH = 6  # re-export hops


class Relevance(Protocol):
    """How well a definition fits the cursor (``server.context.relevance``): about [0, 1]
    for (name, path, chunk index, local name); ``usage`` weighs the vote of the code most
    similar to the cursor's, ``sequence`` that of the names that follow the line above
    elsewhere (among a package's names, where nothing else names the next one) and
    ``together`` that of the code using the names of the lines above (a header's names)."""

    def __call__(
        self,
        name: str,
        def_path: str,
        chunk: int,
        local: str | None = None,
        usage: float = ...,
        sequence: float = ...,
        together: float = ...,
    ) -> float: ...


def resolve_ref(layer: Layered, ref: ImportRef, importer: str) -> Meaning | None:
    """Follow an import to the definition it binds, or to the module it names
    (``indexer.scope``)."""
    return Resolver(layer).resolve_ref(ref, importer)


def definition_span(entry: FileEntry, d: SymbolDef) -> tuple[int, int, str, int] | None:
    """The lines of a definition, from the chunk that holds its header: the class summary
    for a class, cut to ``MAX_DEF_LINES``. (start, end, text, chunk index); a summary's
    text has fewer lines than its span."""
    best = None
    for i, c in enumerate(entry.chunks):
        if not c.start_line <= d.start_line <= c.end_line:
            continue
        rank = (
            0 if d.qualified in c.symbols else 1,
            0 if c.kind == "class_summary" and d.kind == "class" else 1,
            c.end_line - c.start_line,
        )
        if best is None or rank < best[0]:
            best = (rank, i)
    if best is None:
        return None
    index = best[1]
    c = entry.chunks[index]
    lines = c.text.split("\n")
    if c.kind == "class_summary":
        return c.start_line, c.end_line, c.text, index
    start, end = _group(entry, d, c.start_line, c.end_line)
    listed = c.kind == "module" and c.end_line - c.start_line < LISTING_LINES
    if listed and language_scope(language_for_path(entry.path)).listing(entry.path):
        start, end = c.start_line, c.end_line  # a header's run of declarations, whole
    end = min(end, start + MAX_DEF_LINES - 1, c.start_line + len(lines) - 1)
    text = "\n".join(lines[start - c.start_line : end - c.start_line + 1])
    return start, end, text, index


RENAMED = 4.0  # weight of the name renamed at the cursor (``x as ‸``) among those near by
KIND_FIT = 0.5  # a definition of the kind the language says goes here (``&T{``: a struct)


def expected_kinds(path: str, cursor: Cursor) -> frozenset[str]:
    """The kinds of definition the name at the cursor can be, by the rules of the file's
    language (``Scope.expected_kinds``), on the line cut before the name and its qualifier;
    empty when the rules say nothing."""
    rule = language_scope(language_for_path(path)).expected_kinds
    lines = cursor.prefix_lines
    if not lines:
        return frozenset()
    before = lines[-1][: len(lines[-1]) - len(cursor.partial)]
    if cursor.receiver is not None:
        before = _QUALIFIER_END.sub("", before)
    return rule([*lines[-60:-1], before])


_QUALIFIER_END = re.compile(r"[A-Za-z_]\w*\s*(?:\.|::)\s*$")


def kind_fit(d: SymbolDef, kinds: frozenset[str]) -> float:
    """``KIND_FIT`` for a definition of a kind that goes here (a type where a type goes)."""
    return KIND_FIT if d.kind in kinds else 0.0


GROUP_LINES = 12  # a one-line definition is shown with its run of siblings, this long at most
SHORT_DEF = 2  # lines


def _group(entry: FileEntry, d: SymbolDef, lo: int, hi: int) -> tuple[int, int]:
    """The lines to show for ``d`` within its chunk's lines ``lo``..``hi``: its own, or,
    for a short definition among short siblings of its kind on adjacent lines (a block of
    constants, a row of type aliases, an enum's values), the run around it, so that one
    snippet shows the family and a sibling's candidate lands on the same lines."""
    start, end = max(d.start_line, lo), min(d.end_line, hi)
    if d.end_line - d.start_line + 1 > SHORT_DEF:
        return start, end
    run = sorted(
        (x.start_line, x.end_line)
        for x in entry.definitions
        if x.kind == d.kind
        and x.end_line - x.start_line + 1 <= SHORT_DEF
        and lo <= x.start_line
        and x.end_line <= hi
    )
    first, last = d.start_line, d.end_line
    for a, b in run:  # forward from d
        if a > last and a <= last + 1:
            last = b
    for a, b in reversed(run):  # backward from d
        if b < first and b >= first - 1:
            first = a
    if first == d.start_line and last == d.end_line:
        return start, end
    half = GROUP_LINES // 2
    start = max(first, min(d.start_line - half, last - GROUP_LINES + 1))
    end = min(last, start + GROUP_LINES - 1)
    return start, max(end, d.end_line)


def definition_candidates(
    layer: Layered,
    path: str,
    current: FileEntry,
    cursor: Cursor,
    nearby: dict[str, float],
    prefix_counts: Counter[str],
    relevance: Relevance | None = None,
    bare_counts: Counter[str] | None = None,
) -> list[Candidate]:
    """Candidates from what the names around the cursor mean here (``indexer.scope``).

    Scores by kind of evidence: completing the typed prefix 3, a member of the receiver
    at the cursor (``pkg.``, ``Type::``) 2, an import not used yet 1.6, a name used near
    the cursor 1 to 1.5, a name the file sees without an import (its package, its star
    imports) and has not used yet about 1, a bare identifier defined somewhere less; plus
    up to ``RELEVANCE_WEIGHT`` from ``relevance`` to order candidates of the same kind.
    ``bare_counts`` counts the prefix's identifiers that are not members of something
    (``errors.New`` is no use of the package's ``New``); default ``prefix_counts``."""
    out: list[Candidate] = []
    resolver = Resolver(layer)
    kinds = expected_kinds(path, cursor)
    cursor_line1 = cursor.line + 1
    bound: dict[str, int] = Counter(r.local_name for r in current.imports)
    imported_files: set[str] = set()
    shown: dict[str, int] = {}  # qualified name -> its candidate in ``out``
    aliased = _renamed(cursor)

    def add(where: str, d: SymbolDef, local: str, score: float, reason: str, weight: float) -> None:
        if where == path and d.end_line >= cursor_line1:
            return
        entry = layer.file(where)
        span = definition_span(entry, d) if entry is not None else None
        if span is not None:
            start, end, text, index = span
            if relevance is not None and weight:
                score += weight * relevance(d.name, where, index, local)
            cand = Candidate(where, start, end, text, score, "definition", reason)
            # One snippet per name: a C function's declaration and implementation, a Go
            # name in two files behind build tags, a macro defined in several #if branches
            # would each fill a slot with the same answer.
            at = shown.get(d.qualified)
            if at is None:
                shown[d.qualified] = len(out)
                out.append(cand)
            elif score > out[at].score:
                out[at] = cand

    for ref in current.imports:
        if ref.line > cursor_line1 or ref.local_name == "*":
            continue
        res = resolver.resolve_ref(ref, path)
        if res is None:
            continue
        imported_files.update(res.files or (res.path,))
        name = ref.local_name
        if res.definition is None:
            continue  # a module: its members come with the receiver or the names near by
        weight = nearby.get(name, 0.0)
        uses = prefix_counts.get(name, 0) - bound.get(name, 0)
        qualified = res.definition.qualified
        what = f"`{qualified}`" + (f" as `{name}`" if name != qualified else "")
        where = f"imported at line {ref.line}"
        if cursor.partial and name != cursor.partial and name.startswith(cursor.partial):
            score, why = 3.0, f"`{name}` completes `{cursor.partial}`, {where}"
        elif uses <= 0:
            score, why = 1.6, f"defines {what}, {where}, not used yet"
        elif weight > 0:
            score, why = 1.0 + 0.5 * weight, f"defines {what}, used near the cursor, {where}"
        else:
            score, why = 0.5, f"defines {what}, {where}"
        score += kind_fit(res.definition, kinds)
        add(res.path, res.definition, name, score, why, RELEVANCE_WEIGHT)

    if cursor.receiver is not None:
        _receiver_members(resolver, path, cursor, relevance, add, kinds)
    for qualifier, name in _qualified_uses(cursor):
        for m in resolver.lookup(path, name, qualifier):
            if m.definition is not None and m.path != path:
                weight = nearby.get(name, 0.5)
                why = (
                    f"defines `{m.definition.qualified}`, `{qualifier}.{name}` used near the cursor"
                )
                add(m.path, m.definition, name, 1.0 + 0.5 * weight, why, RELEVANCE_WEIGHT)

    for name, weight in nearby.items():
        if name in bound:
            continue
        if name == aliased:  # ``{ x as ‸``: the new name is bound to ``x``'s definition
            weight += RENAMED
        meanings = [m for m in resolver.lookup(path, name) if m.definition is not None]
        if meanings:
            for m in meanings[:MAX_AMBIGUOUS]:
                assert m.definition is not None
                why = f"defines `{m.definition.qualified}`, named near the cursor ({m.how})"
                score = 0.6 * weight if m.how == "local" else 0.8 + 0.4 * weight
                add(m.path, m.definition, name, score + kind_fit(m.definition, kinds), why, 0.0)
            continue
        rows = [(p, d) for p, d in layer.definitions(name) if d.qualified == name and p != path]
        if not rows or len(rows) > MAX_AMBIGUOUS:
            continue
        for p, d in rows:
            bonus = 1.5 if p in imported_files else 1.0
            why = f"defines `{d.qualified}`, named near the cursor"
            add(p, d, name, 0.6 * weight * bonus / len(rows), why, 0.0)

    bare = prefix_counts if bare_counts is None else bare_counts
    _unused_in_scope(layer, resolver, path, bare, relevance, add, out.append, kinds)
    return out


Adder = Callable[[str, SymbolDef, str, float, str, float], None]
IN_SCOPE_SCORE = 0.9
IN_SCOPE_WEIGHT = 1.0
MAX_IN_SCOPE = 12  # unused in-scope names offered, best by relevance
MAX_LISTED = 30  # of which those a header declares are shown together (``digest``)
MAX_MEMBERS = 12
PAIR_BONUS = 0.3  # an in-scope name from the file this one tests (or is named after)
USED_ELSEWHERE = 0.2  # an in-scope name that many chunks name
# Among hundreds of in-scope names (a Go package, a C header's API) nothing names the next
# one; what the most similar code elsewhere uses counts twice as much as among imports.
IN_SCOPE_USAGE = 0.8
# Among them, what follows the line above's names elsewhere (``Description(…),`` then
# ``UsageOnError()``); it also picks which of a receiver's members are offered (``kong.``),
# but does not rank them: there, and among imports, it cost Python's hit@1.
SEQUENCE = 0.6
# A header's names: what the code elsewhere that uses this code's names also uses (its
# share of that vote) adds to the similar code's vote: an API's calls come in families.
TOGETHER = 0.8


def _subject(path: str) -> str:
    """What a file is about: its stem without test affixes (``context_test.go`` and
    ``context.go`` → ``context``; ``FooTest.java`` → ``Foo``)."""
    stem = path.rsplit("/", 1)[-1].split(".", 1)[0]
    for affix in ("_test", "Test", "Tests", "_spec"):
        if stem.endswith(affix) and len(stem) > len(affix):
            return stem[: -len(affix)]
    return stem.removeprefix("test_")


def _unused_in_scope(
    layer: Layered,
    resolver: Resolver,
    path: str,
    prefix_counts: Counter[str],
    relevance: Relevance | None,
    add: Adder,
    put: Callable[[Candidate], None],
    kinds: frozenset[str] = frozenset(),
) -> None:
    """Names the file sees without an import (its package, its star imports) and has not
    used yet, best by relevance: what a Go or Java file is likely to use next."""
    scope = [r for r in scope_rows(layer, resolver, path) if prefix_counts.get(r.d.name, 0) == 0]
    top_df = max((r.log_df for r in scope), default=0.0) or 1.0

    def prior(row: ScopeRow) -> float:
        """Code under test first (``x_test.go`` uses ``x.go``), names much used elsewhere
        next."""
        return row.pair + USED_ELSEWHERE * row.log_df / top_df

    def fit(row: ScopeRow) -> float:
        together = TOGETHER if _is_listing(row.path) else 0.0
        rel = (
            relevance(row.d.name, row.path, -1, None, IN_SCOPE_USAGE, SEQUENCE, together)
            if relevance is not None
            else 0.0
        )
        return IN_SCOPE_WEIGHT * rel + prior(row) + kind_fit(row.d, kinds)

    fits = {id(row): fit(row) for row in scope}
    scope.sort(key=lambda r: -fits[id(r)])
    # One row per name: a macro defined in several ``#if`` branches is one name to show.
    first: dict[str, ScopeRow] = {}
    for row in scope:
        first.setdefault(row.d.qualified, row)
    scope = list(first.values())
    listed: dict[str, list[tuple[SymbolDef, float, str]]] = {}
    for i, row in enumerate(scope[:MAX_LISTED]):
        why = f"defines `{row.d.qualified}`, in scope here, not used yet"
        score = IN_SCOPE_SCORE + fits[id(row)]
        if _is_listing(row.path):
            listed.setdefault(row.path, []).append((row.d, score, why))
        elif i < MAX_IN_SCOPE:
            add(row.path, row.d, row.d.name, score, why, 0.0)
    for where, rows in listed.items():
        entry = layer.file(where)
        digest = digest_candidate(entry, rows) if entry is not None else None
        if digest is not None:
            put(digest)


@lru_cache(maxsize=1 << 14)
def _is_listing(path: str) -> bool:
    """The file is a list of declarations (a C header): ``Scope.listing``."""
    return language_scope(language_for_path(path)).listing(path)


@dataclass(frozen=True, slots=True)
class ScopeRow:
    """An in-scope definition with what ranks it regardless of the cursor."""

    path: str
    d: SymbolDef
    log_df: float  # log1p of how many chunks name it
    pair: float  # PAIR_BONUS when it is in the file this one tests (or is named after)


SCOPE_CACHE = 64  # files (and states of their includes) kept per view
LOCAL_DF = 4  # a name in this few chunks may be named in its own file only


def _used_beyond(bm25: BM25[tuple[str, int]], d: SymbolDef, path: str) -> bool:
    """Whether a header's name is named by a chunk outside the header: one only its own
    header names (an include guard, ``#ifndef X_H`` / ``#define X_H`` / ``#endif /* X_H
    */``, a private helper) is nothing another file goes on to use. Other files' names
    (a Go package's, used by the file about to be written) are all kept."""
    if not _is_listing(path):
        return True
    return any(p != path for p, _ in bm25.holders(d.name.lower()))


def scope_rows(layer: Layered, resolver: Resolver, path: str) -> list[ScopeRow]:
    """What ``path`` sees without an import (``Resolver.in_scope``: its package, its star
    imports and headers, transitively), less its own names (x.h declares what x.c defines)
    and names no other chunk names (test functions) or, in a header, no other file's chunk
    (include guards).

    A C file's include closure holds thousands of names (curl: ~3,000), too many to walk
    at every keystroke; so the rows are kept on the view, which drops them whenever any
    file's rows change, keyed by the buffer's own imports and the open buffers' rows: an
    edit anywhere, saved or not, is seen at once."""
    current = layer.file(path)
    own_rows = current is not None and path in resolver.package(path)
    key = (
        path,
        tuple(current.imports) if current is not None else (),
        tuple(current.definitions) if own_rows and current is not None else (),
        tuple(
            (p, tuple(e.definitions), tuple(e.imports))
            for p, e in sorted(layer.overlay.items())
            if p != path
        ),
    )
    cache = layer.view.scope_rows
    found = cache.get(key)
    if found is not None:
        return list(found)
    bm25 = layer.view.bm25
    indexed = layer.view.files.get(path)
    own = {d.qualified for d in indexed.definitions} if indexed is not None else set()
    subject = _subject(path)
    name_df = layer.view.name_df
    pairs: dict[str, float] = {}  # per defining file
    rows: list[ScopeRow] = []
    for p, d in resolver.in_scope(path):
        df = name_df.get(d.name)
        if df is None:
            df = name_df[d.name] = bm25.df(d.name.lower())
        if df > 1 and d.qualified not in own and (df > LOCAL_DF or _used_beyond(bm25, d, p)):
            pair = pairs.get(p)
            if pair is None:
                pair = pairs[p] = PAIR_BONUS if _subject(p) == subject else 0.0
            rows.append(ScopeRow(p, d, math.log1p(df), pair))
    # A name a header declares is offered there, not also as its body in a source file
    # the file includes (a test including ``x.c``, which includes ``x.h``).
    declared = {r.d.qualified for r in rows if _is_listing(r.path)}
    rows = [r for r in rows if r.d.qualified not in declared or _is_listing(r.path)]
    if len(cache) >= SCOPE_CACHE:
        cache.pop(next(iter(cache)))
    cache[key] = rows
    return list(rows)


def _receiver_members(
    resolver: Resolver,
    path: str,
    cursor: Cursor,
    relevance: Relevance | None,
    add: Adder,
    kinds: frozenset[str] = frozenset(),
) -> None:
    """``pkg.|``, ``ns.Fo|``, ``Type::|``: the members of what the receiver means here."""
    receiver = cursor.receiver
    assert receiver is not None
    partial = cursor.partial
    rows: list[tuple[str, SymbolDef]] = []
    for owner in resolver.lookup(path, receiver):
        rows.extend(resolver.members_of(owner))
    rows = [(p, d) for p, d in rows if d.name.startswith(partial) and p != path]
    for p, d in _best(rows, relevance, MAX_MEMBERS, kinds):
        fits = kind_fit(d, kinds)
        if partial:
            why = f"`{receiver}.{d.name}` completes `{receiver}.{partial}`"
            add(p, d, d.name, 3.0 + fits, why, RELEVANCE_WEIGHT)
        else:
            add(p, d, d.name, 2.0 + fits, f"a member of `{receiver}`", RELEVANCE_WEIGHT)


def _best(
    rows: list[tuple[str, SymbolDef]],
    relevance: Relevance | None,
    n: int,
    kinds: frozenset[str] = frozenset(),
) -> list[tuple[str, SymbolDef]]:
    """The ``n`` rows whose names fit the cursor best (ignoring their code, which costs a
    chunk lookup each); all of them when there are few."""
    if relevance is None or len(rows) <= n:
        return rows[:n]

    def fit(r: tuple[str, SymbolDef]) -> float:
        return relevance(r[1].name, r[0], -1, None, sequence=SEQUENCE) + kind_fit(r[1], kinds)

    return sorted(rows, key=lambda r: -fit(r))[:n]


_QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\s*(?:\.|::|->)\s*([A-Za-z_]\w*)")


_RENAMING = re.compile(r"(?:^|[{,]|\btype)\s*([A-Za-z_$][\w$]*)\s+as\s+$")


def _renamed(cursor: Cursor) -> str | None:
    """``x`` when the cursor follows ``x as`` in an import or export list (``{ a, x as ‸``):
    the new name is bound to ``x``'s definition."""
    lines = cursor.prefix_lines
    if not lines:
        return None
    line = lines[-1][: len(lines[-1]) - len(cursor.partial)]
    found = _RENAMING.search(line)
    return found.group(1) if found is not None else None


def _qualified_uses(cursor: Cursor, n: int = 12) -> list[tuple[str, str]]:
    """``q.name`` / ``q::name`` pairs in the last lines above the cursor, nearest first."""
    seen: dict[tuple[str, str], None] = {}
    for text in reversed(cursor.prefix_lines[-n:]):
        for m in _QUALIFIED.finditer(text):
            seen.setdefault((m.group(1), m.group(2)), None)
    return list(seen)
