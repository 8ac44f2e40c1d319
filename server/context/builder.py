"""``build_context``: a cursor becomes ranked snippets within a token budget."""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from indexer.languages import language_for_path
from indexer.types import ImportRef, ParsedFile, content_hash
from server.context.bm25 import code_terms
from server.context.cursor import code_identifiers, locate, nearby_identifiers, query_window
from server.context.definitions import definition_candidates
from server.context.rank import Candidate, approx_tokens, fit, is_own_region, merge_overlapping
from server.context.relevance import make_relevance
from server.context.similar import query_vector, similar_candidates
from server.context.snippet import ContextResult
from server.context.workspace import FileEntry, Layered, WorkspaceView

DEFAULT_BUDGET_TOKENS = 1024
QUERY_LINES = 10
MAX_DF = 0.2  # query terms in more chunks than this say little (see BM25.score_vector)

_views: weakref.WeakKeyDictionary[Any, WorkspaceView] = weakref.WeakKeyDictionary()
_views_lock = threading.Lock()
_imports_cache: OrderedDict[tuple[str, str], list[ImportRef]] = OrderedDict()


def view_for(index: Any) -> WorkspaceView:
    """The in-memory view of ``index``, created on first use and kept with it."""
    with _views_lock:
        view = _views.get(index)
        if view is None:
            view = WorkspaceView()
            _views[index] = view
    view.sync_from(index)
    return view


def warm(index: Any) -> None:
    """Build the in-memory view now (seconds on a large workspace) rather than on the first
    completion: call it from a background thread after opening or refreshing the index."""
    view_for(index)


def _buffer_imports(path: str, text: str) -> list[ImportRef]:
    """The imports of an unsaved buffer: a tree-sitter parse and the import query, without
    chunking (the costly part); cached, so a cursor moving in an unchanged buffer is free."""
    from indexer.languages import get_parser, language_for_path

    key = (path, content_hash(text))
    hit = _imports_cache.get(key)
    if hit is not None:
        _imports_cache.move_to_end(key)
        return hit
    language = language_for_path(path)
    parser = get_parser(language) if language else None
    imports: list[ImportRef] = []
    try:
        from indexer.grammars import extract_imports
    except ImportError:  # the grammar package moved: the full parse has them too
        from indexer.chunker import parse_file

        imports = parse_file(path, text).imports
    else:
        if parser is not None and language is not None:
            source = python_import_lines(text) if language == "python" else text
            tree = parser.parse(source.encode("utf-8", "surrogatepass"))
            imports = extract_imports(language, path, tree.root_node)
    _imports_cache[key] = imports
    if len(_imports_cache) > 32:
        _imports_cache.popitem(last=False)
    return imports


_PY_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]")


def python_import_lines(text: str) -> str:
    """Only the import statements of a Python buffer, dedented, each on its own lines and
    every other line blank: parses in a fraction of the time of the whole buffer and gives
    the same imports at the same line numbers (nested ones included; lines inside
    triple-quoted strings, such as doctest examples, are skipped)."""
    lines = text.split("\n")
    out = [""] * len(lines)
    out[0] = "pass"  # the module node then starts at byte 0, whatever follows
    in_string = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if in_string or not _PY_IMPORT.match(line):
            if (line.count('"""') + line.count("'''")) % 2:
                in_string = not in_string
            i += 1
            continue
        depth = 0
        while i < len(lines):
            stmt = lines[i].strip()
            out[i] = stmt
            depth += stmt.count("(") - stmt.count(")")
            i += 1
            if depth <= 0 and not stmt.endswith("\\"):
                break
    return "\n".join(out)


def current_entry(
    view: WorkspaceView, path: str, text: str, overlay: Mapping[str, ParsedFile] | None
) -> FileEntry:
    """The rows of the cursor's own file: the overlay's parse when the editor sent one; the
    indexed rows when the buffer is what was indexed; else the indexed rows with the
    buffer's own imports (an import just typed is the best hint of what comes next)."""
    if overlay and path in overlay:
        return FileEntry.from_parsed(overlay[path])
    indexed = view.files.get(path)
    if indexed is not None and indexed.signature == content_hash(text):
        return indexed
    return FileEntry(
        path,
        list(indexed.chunks) if indexed else [],
        list(indexed.definitions) if indexed else [],
        _buffer_imports(path, text),
    )


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
) -> ContextResult:
    """Snippets for the cursor at 0-based (``line``, ``col``) of ``text`` in ``path``.

    ``text`` is the buffer as the user sees it; ``overlay`` maps other open buffers to their
    parse and replaces the index's rows for them. The cursor's own region (chunks of
    ``path`` overlapping or following the cursor line) is never returned. ``vectors=False``
    turns the vector channel off (it is on whenever the index holds vectors)."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    view = view_for(index)
    t1 = time.perf_counter()
    timings["view"] = (t1 - t0) * 1000

    current = current_entry(view, path, text, overlay)
    layer = Layered(view, overlay, current)
    cursor = locate(text, line, col)
    cursor_line1 = cursor.line + 1
    t2 = time.perf_counter()
    timings["parse"] = (t2 - t1) * 1000

    nearby = nearby_identifiers(cursor)
    prefix_counts = Counter(code_identifiers(cursor.prefix, language_for_path(path)))
    query = query_window(cursor, QUERY_LINES)
    lexical = view.bm25.score_vector(code_terms(query), max_df=MAX_DF)
    relevance = make_relevance(layer, cursor, lexical)
    cands: list[Candidate] = definition_candidates(
        layer, path, current, cursor, nearby, prefix_counts, relevance
    )
    t3 = time.perf_counter()
    timings["definitions"] = (t3 - t2) * 1000

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
    return ContextResult(snippets, (t5 - t0) * 1000, timings)
