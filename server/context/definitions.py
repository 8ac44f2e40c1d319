"""Definitions worth showing at the cursor: of the names the file imports from the
workspace (resolved through re-exports) and of the identifiers around the cursor.

An imported name that the file has not used yet is the strongest signal there is: people
import a name because they are about to use it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from indexer.resolve import follow_reexports, resolve_import
from indexer.types import ImportRef, SymbolDef
from server.context.cursor import Cursor
from server.context.rank import Candidate
from server.context.workspace import FileEntry, Layered

MAX_DEF_LINES = 40
RELEVANCE_WEIGHT = 0.5
MAX_AMBIGUOUS = 4  # a bare name defined in more files than this says too little
MAX_DEPTH = 6  # re-export hops


# relevance(name, path, chunk index, local name) in [0, 1]: how well a definition fits.
Relevance = Callable[[str, str, int, str | None], float]


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where an import leads: a definition, or (for ``import pkg.mod``) a module file."""

    path: str
    definition: SymbolDef | None = None


def resolve_ref(layer: Layered, ref: ImportRef, importer: str) -> Resolved | None:
    """Follow an import to the definition it binds, through re-exports and star imports
    (``indexer.resolve``); ``from pkg import mod`` and ``import pkg.mod`` lead to the
    module file. None for a module outside the workspace."""
    paths = layer.path_index()
    target = resolve_import(ref, paths, importer)
    if target is None or target == importer:
        return None
    if ref.name is None or ref.name == "*":
        return Resolved(target)
    origin = follow_reexports(
        ref.name, target, layer.imports_of, paths, layer.definitions_of, MAX_DEPTH
    )
    if origin is None:
        stem = target.rsplit("/", 1)[-1].split(".", 1)[0]
        if stem in ("__init__", "index", "mod"):
            stem = target.rsplit("/", 2)[-2] if "/" in target else ""
        return Resolved(target) if stem == ref.name else None
    if origin.name is None:
        return Resolved(origin.path)
    for d in layer.definitions_of(origin.path):
        if d.qualified == origin.name:
            return Resolved(origin.path, d)
    return None


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
    else:
        start = max(d.start_line, c.start_line)
        end = min(d.end_line, c.end_line)
    end = min(end, start + MAX_DEF_LINES - 1, c.start_line + len(lines) - 1)
    text = "\n".join(lines[start - c.start_line : end - c.start_line + 1])
    return start, end, text, index


def definition_candidates(
    layer: Layered,
    path: str,
    current: FileEntry,
    cursor: Cursor,
    nearby: dict[str, float],
    prefix_counts: Counter[str],
    relevance: Relevance | None = None,
) -> list[Candidate]:
    """Candidates from the current file's imports and the identifiers around the cursor.

    Scores by kind of evidence (completing the typed prefix 3, an import not used yet 1.6,
    a name used near the cursor 1 to 1.5, a bare identifier less), plus up to
    ``RELEVANCE_WEIGHT`` from ``relevance`` to order candidates of the same kind."""
    out: list[Candidate] = []
    cursor_line1 = cursor.line + 1
    bound: dict[str, int] = Counter(r.local_name for r in current.imports)
    imported_files: set[str] = set()

    def add(res: Resolved, local: str, score: float, reason: str) -> None:
        entry = layer.file(res.path)
        if entry is None or res.definition is None:
            return
        span = definition_span(entry, res.definition)
        if span is not None:
            start, end, text, index = span
            if relevance is not None:
                score += RELEVANCE_WEIGHT * relevance(res.definition.name, res.path, index, local)
            out.append(Candidate(res.path, start, end, text, score, "definition", reason))

    for ref in current.imports:
        if ref.line > cursor_line1 or ref.local_name == "*":
            continue
        res = resolve_ref(layer, ref, path)
        if res is None:
            continue
        imported_files.add(res.path)
        name = ref.local_name
        if res.definition is None:  # a module: its members named near the cursor
            out.extend(_module_members(layer, res.path, name, cursor, nearby, ref.line))
            continue
        weight = nearby.get(name, 0.0)
        uses = prefix_counts.get(name, 0) - bound.get(name, 0)
        qualified = res.definition.qualified
        what = f"`{qualified}`" + (f" as `{name}`" if name != qualified else "")
        where = f"imported at line {ref.line}"
        if cursor.partial and name != cursor.partial and name.startswith(cursor.partial):
            add(res, name, 3.0, f"`{name}` completes `{cursor.partial}`, {where}")
        elif uses <= 0:
            add(res, name, 1.6, f"defines {what}, {where}, not used yet")
        elif weight > 0:
            add(res, name, 1.0 + 0.5 * weight, f"defines {what}, used near the cursor, {where}")
        else:
            add(res, name, 0.5, f"defines {what}, {where}")

    for name, weight in nearby.items():
        if name in bound:
            continue
        rows = [
            (p, d)
            for p, d in layer.definitions(name)
            if d.qualified == name and not (p == path and d.end_line >= cursor_line1)
        ]
        if not rows or len(rows) > MAX_AMBIGUOUS:
            continue
        for p, d in rows:
            bonus = 1.5 if p in imported_files else 1.0
            score = 0.6 * weight * bonus / len(rows)
            entry = layer.file(p)
            span = definition_span(entry, d) if entry is not None else None
            if span is not None:
                start, end, text, _ = span
                why = f"defines `{d.qualified}`, named near the cursor"
                out.append(Candidate(p, start, end, text, score, "definition", why))
    return out


def _module_members(
    layer: Layered, path: str, local: str, cursor: Cursor, nearby: dict[str, float], line: int
) -> list[Candidate]:
    """For ``import pkg.mod as m``: the members of ``m`` named near the cursor, or being
    typed after ``m.``."""
    entry = layer.file(path)
    if entry is None:
        return []
    out: list[Candidate] = []
    for d in entry.definitions:
        if d.qualified != d.name:
            continue
        if cursor.receiver == local and cursor.partial and d.name.startswith(cursor.partial):
            score, why = 3.0, f"`{local}.{d.name}` completes `{local}.{cursor.partial}`"
        elif d.name in nearby and f"{local}.{d.name}" in _recent_text(cursor):
            score, why = 1.0 + 0.5 * nearby[d.name], f"`{local}.{d.name}` used near the cursor"
        else:
            continue
        span = definition_span(entry, d)
        if span is not None:
            why = f"{why} (import at line {line})"
            out.append(Candidate(path, span[0], span[1], span[2], score, "definition", why))
    return out


def _recent_text(cursor: Cursor, n: int = 12) -> str:
    return "\n".join(cursor.prefix_lines[-n:])
