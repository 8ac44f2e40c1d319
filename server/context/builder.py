"""``build_context``: a cursor becomes ranked snippets within a token budget."""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from indexer.languages import language_for_path
from indexer.types import ParsedFile
from server.context.bm25 import code_terms
from server.context.buffer import current_entry
from server.context.cursor import (
    code_identifier_uses,
    declared_name,
    locate,
    nearby_identifiers,
    query_window,
)
from server.context.definitions import definition_candidates
from server.context.members import member_candidates
from server.context.names import names_at_cursor
from server.context.rank import Candidate, approx_tokens, fit, is_own_region, merge_overlapping
from server.context.receiver import Inference
from server.context.relevance import make_relevance
from server.context.similar import query_vector, similar_candidates
from server.context.snippet import ContextResult
from server.context.typefacts import warm_facts
from server.context.workspace import Layered, WorkspaceView

DEFAULT_BUDGET_TOKENS = 1024
QUERY_LINES = 10
MAX_DF = 0.2  # query terms in more chunks than this say little (see BM25.score_vector)

_views: weakref.WeakKeyDictionary[Any, WorkspaceView] = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()


def view_for(index: Any) -> WorkspaceView:
    """The in-memory view of ``index``, created on first use and kept with it."""
    with _views_lock:
        view = _views.get(index)
        if view is None:
            view = WorkspaceView()
            _views[index] = view
    view.sync_from(index)
    return view


def warm(index: Any, wait: bool = False) -> None:
    """Build the in-memory view now (seconds on a large workspace) rather than on the first
    completion: call it from a background thread after opening or refreshing the index.
    Each file's type facts are read too, on a thread of their own (``wait``: here), so the
    caller (the server's writer thread) is not held; cached by content, only changed files
    cost."""
    global _facts_thread
    view = view_for(index)
    with view.lock:
        entries = list(view.files.values())
    if wait:
        warm_facts(entries)
        return
    with _views_lock:
        if _facts_thread is not None and _facts_thread.is_alive():
            return  # the running pass reads the files it has not reached in their new state
        _facts_thread = threading.Thread(
            target=warm_facts, args=(entries,), name="tandem-facts", daemon=True
        )
        _facts_thread.start()


_facts_thread: threading.Thread | None = None


def build_context(
    index: Any,
    path: str,
    text: str,
    line: int,
    col: int,
    overlay: Mapping[str, ParsedFile] | None = None,
    k: int = 8,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    count_tokens: Callable[[str], int] | None = None,
    vectors: bool | None = None,
    names: bool = False,
) -> ContextResult:
    """Snippets for the cursor at 0-based (``line``, ``col``) of ``text`` in ``path``.

    ``text`` is the buffer as the user sees it; ``overlay`` maps other open buffers to their
    parse and replaces the index's rows for them. The cursor's own region (chunks of
    ``path`` overlapping or following the cursor line) is never returned. ``vectors=False``
    turns the vector channel off (it is on whenever the index holds vectors). With
    ``names``, the result also holds the identifiers that exist at the cursor."""
    t0 = time.perf_counter()
    view = view_for(index)
    with view.lock:  # one build at a time reads the view, and no refresh under it
        return _build(
            view, t0, path, text, line, col, overlay, k, budget_tokens, count_tokens, vectors, names
        )


def _build(
    view: WorkspaceView,
    t0: float,
    path: str,
    text: str,
    line: int,
    col: int,
    overlay: Mapping[str, ParsedFile] | None,
    k: int,
    budget_tokens: int,
    count_tokens: Callable[[str], int] | None,
    vectors: bool | None,
    names: bool = False,
) -> ContextResult:
    timings: dict[str, float] = {}
    t1 = time.perf_counter()
    timings["view"] = (t1 - t0) * 1000

    current = current_entry(view, path, text, overlay)
    layer = Layered(view, overlay, current)
    cursor = locate(text, line, col)
    cursor_line1 = cursor.line + 1
    t2 = time.perf_counter()
    timings["parse"] = (t2 - t1) * 1000

    nearby = nearby_identifiers(cursor)
    identifiers, members = code_identifier_uses(cursor.prefix, language_for_path(path))
    prefix_counts = Counter(identifiers)
    declared = declared_name(cursor)  # ``Skipper `` before ``Skipper``: not a use
    bare_counts = prefix_counts - Counter(members + ([declared] if declared else []))
    query = query_window(cursor, QUERY_LINES)
    lexical = view.bm25.score_vector(code_terms(query), max_df=MAX_DF)
    relevance = make_relevance(layer, cursor, lexical, path)
    cands: list[Candidate] = definition_candidates(
        layer, path, current, cursor, nearby, prefix_counts, relevance, bare_counts
    )
    t3 = time.perf_counter()
    timings["definitions"] = (t3 - t2) * 1000
    # After a dot: the members of the receiver's type (nothing when not after one).
    inference = Inference(layer)
    cands += member_candidates(inference, path, text, cursor.line, cursor.col)
    t3b = time.perf_counter()
    timings["members"] = (t3b - t3) * 1000
    t3 = t3b

    def keep(p: str, start: int, end: int) -> bool:
        return not (p == path and end >= cursor_line1)

    qvec = query_vector(layer, path, cursor_line1) if vectors is not False else None
    cands += similar_candidates(layer, query, keep, max(k, 8), qvec, lexical)
    t4 = time.perf_counter()
    timings["similar"] = (t4 - t3) * 1000

    cands = [c for c in cands if not is_own_region(c, path, cursor_line1)]
    snippets = fit(merge_overlapping(cands), k, budget_tokens, count_tokens or approx_tokens)
    t5 = time.perf_counter()
    timings["rank"] = (t5 - t4) * 1000
    found = None
    if names:
        found = names_at_cursor(layer, path, current, snippets, inference, text, cursor)
    if names:
        timings["names"] = (time.perf_counter() - t5) * 1000
    return ContextResult(snippets, (time.perf_counter() - t0) * 1000, timings, found)
