"""Retrieval hit@k on cross-file points: the context builder beside BM25 and Jaccard.

A method hits at k when one of its first k results contains the line that opens the
definition of the name about to be typed. Every method sees only the buffer up to the
cursor (the name itself and everything after it are cut), and no method may return the
query file's own code after the cursor: the context builder excludes its own region, and
the baselines exclude every window of the query file (which can only help them, since the
targets are always in other files).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.context import build_context
from server.context.builder import view_for
from server.context.cursor import locate, query_window
from server.evaluation.baselines import WindowCorpus
from server.evaluation.points import Point

KS = (1, 5, 10)
METHODS = ("context", "bm25", "jaccard")
LABELS = {
    "context": "context builder",
    "bm25": "BM25 (20-line windows)",
    "jaccard": "Jaccard (20-line windows)",
}


@dataclass
class RetrievalReport:
    """hit@k per method, over ``points`` points in ``files`` files."""

    points: int
    files: int
    indexed_files: int
    hits: dict[str, dict[int, float]] = field(default_factory=dict)
    context_ms_p50: float = 0.0
    context_ms_p95: float = 0.0
    misses: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "files": self.files,
            "indexed_files": self.indexed_files,
            "hit": {m: {f"hit@{k}": v for k, v in h.items()} for m, h in self.hits.items()},
            "context_ms": {"p50": self.context_ms_p50, "p95": self.context_ms_p95},
        }


def prefix_at(text: str, line: int, col: int) -> str:
    """The buffer cut at the cursor: what the user has when the completion is asked for."""
    lines = text.split("\n")
    return "\n".join([*lines[:line], lines[line][:col]])


def _rank_of(
    results: list[tuple[str, int, int]],
    point: Point,
    texts: list[str] | None = None,
    shown: list[tuple[int, ...]] | None = None,
) -> int | None:
    """The 1-based rank of the first result holding the definition's header line (and,
    with ``texts``, naming it: a class summary spans its whole class but lists only some
    members; with ``shown``, showing that line when the result leaves lines of its span
    out, as a header's digest of prototypes does)."""
    targets = point.targets()
    for i, (path, start, end) in enumerate(results):
        named = texts is None or re.search(rf"\b{re.escape(point.name)}\b", texts[i])
        lines = shown[i] if shown is not None else ()
        if named and any(
            path == p and start <= line <= end and (not lines or line in lines)
            for p, line in targets
        ):
            return i + 1
    return None


def evaluate_retrieval(
    root: str | Path, index: Any, points: list[Point], k: int = max(KS)
) -> RetrievalReport:
    """Run every method on every point and count hits at 1, 5 and 10."""
    root = Path(root)
    view = view_for(index)
    corpus = WindowCorpus.from_root(root, sorted(view.files))
    texts: dict[str, str] = {}
    ranks: dict[str, list[int | None]] = {m: [] for m in METHODS}
    times: list[float] = []
    report = RetrievalReport(
        points=len(points), files=len({p.path for p in points}), indexed_files=len(view.files)
    )
    for p in points:
        if p.path not in texts:
            texts[p.path] = (root / p.path).read_text(encoding="utf-8")
        prefix = prefix_at(texts[p.path], p.line, p.col)
        result = build_context(index, p.path, prefix, p.line, p.col, k=k, budget_tokens=10**9)
        times.append(result.ms)
        got = [(s.path, s.start_line, s.end_line) for s in result.snippets]
        leaked = [g for g in got if g[0] == p.path and g[2] >= p.line + 1]
        if leaked:  # the eval would be reading the answer off the file itself
            raise AssertionError(f"snippets overlap or follow the cursor {p}: {leaked}")
        # A member point (no import line) also needs the member named in the snippet.
        named = [s.text for s in result.snippets] if p.import_line == 0 else None
        shown = [s.shown for s in result.snippets]
        ranks["context"].append(_rank_of(got, p, named, shown))
        query = query_window(locate(prefix, p.line, p.col))
        for name, top in (("bm25", corpus.bm25_top), ("jaccard", corpus.jaccard_top)):
            wins = top(query, k, p.path)
            ranks[name].append(_rank_of([(w.path, w.start_line, w.end_line) for w in wins], p))
        if ranks["context"][-1] is None and len(report.misses) < 50:
            report.misses.append({**p.to_json(), "got": got[:5]})
    n = max(1, len(points))
    for m in METHODS:
        report.hits[m] = {
            kk: round(sum(1 for r in ranks[m] if r is not None and r <= kk) / n, 3) for kk in KS
        }
    if times:
        report.context_ms_p50 = round(statistics.median(times), 2)
        report.context_ms_p95 = round(_percentile(times, 95), 2)
    return report


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    i = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[i]
