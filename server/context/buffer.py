"""The cursor's own buffer: its rows for the context builder, without a full re-parse.

The editor usually sends the buffer parsed (the overlay); when it does not, the indexed rows
of the file are used with the buffer's own imports, since an import just typed is the best
hint of what comes next. For Python only the import lines are parsed, which costs a
fraction of parsing the whole buffer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping

from indexer.types import ImportRef, ParsedFile, content_hash
from server.context.workspace import FileEntry, WorkspaceView

_cache: OrderedDict[tuple[str, str], list[ImportRef]] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 32


def buffer_imports(path: str, text: str) -> list[ImportRef]:
    """The imports of an unsaved buffer: a tree-sitter parse and the import query, without
    chunking (the costly part); cached, so a cursor moving in an unchanged buffer is free."""
    from indexer.languages import get_parser, language_for_path

    key = (path, content_hash(text))
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
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
    with _cache_lock:
        _cache[key] = imports
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
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
        buffer_imports(path, text),
    )
