"""What each file says about types (``indexer.grammars`` ``TypeRules.facts``), read from the
rows already in the view: a file's text is put back together from its line-aligned chunks
and parsed once per content, so no new table and no type checker are needed.

Cached by (path, content hash): a file parsed for one request is free for the next, and an
edited file (index or open buffer) is parsed again only when its text changed."""

from __future__ import annotations

import threading
from collections import OrderedDict

from indexer.grammars import type_rules
from indexer.grammars.base import FileFacts, TypeRules
from indexer.languages import get_parser, language_for_path
from indexer.lazy_rows import LazyChunks, chunk_column, chunk_lines
from indexer.types import content_hash
from server.context.workspace import FileEntry

CACHE_FILES = 4096
_cache: OrderedDict[tuple[str, str], FileFacts] = OrderedDict()
_lock = threading.Lock()
stats = {"parsed": 0, "failed": 0}  # failures are counted, and tested not to happen


def entry_language(entry: FileEntry) -> str | None:
    """The language the file was chunked as (a C++ header says cpp), else by its name."""
    if isinstance(entry.chunks, LazyChunks):
        languages = entry.chunks.column("language") if len(entry.chunks) else []
        return languages[0] if languages else language_for_path(entry.path)
    for c in entry.chunks:
        return c.language
    return language_for_path(entry.path)


def entry_text(entry: FileEntry) -> str:
    """The file's text from its chunks (every non-blank line is in one; class summaries,
    which are synthetic, are skipped); blank lines stay blank. Stored rows are read as
    columns: warming every file's facts leaves them lazy (no ``Chunk`` objects kept)."""
    lines: list[str] = []
    chunks = entry.chunks
    spans = chunk_lines(chunks).tolist()
    columns = zip(spans, chunk_column(chunks, "kind"), chunk_column(chunks, "text"), strict=True)
    for (start, end), kind, chunk_text in columns:
        if kind == "class_summary":
            continue
        if len(lines) < end:
            lines.extend([""] * (end - len(lines)))
        for i, text in enumerate(chunk_text.split("\n")):
            lines[start - 1 + i] = text
    return "\n".join(lines)


def rules_for(entry: FileEntry) -> TypeRules | None:
    language = entry_language(entry)
    return type_rules(language) if language else None


def facts_of(entry: FileEntry) -> FileFacts | None:
    """The type facts of one file (None for a language without rules)."""
    language = entry_language(entry)
    rules = type_rules(language) if language else None
    parser = get_parser(language) if language and rules else None
    if rules is None or parser is None or language is None:
        return None
    # An indexed file is keyed by its stored content hash (no text to rebuild on a hit);
    # an open buffer by the hash of its text.
    text = "" if entry.signature else entry_text(entry)
    key = (entry.path, str(entry.signature or content_hash(text)))
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    text = text or entry_text(entry)
    try:
        facts = rules.facts(parser.parse(text.encode("utf-8", "surrogatepass")).root_node)
    except (Exception, RecursionError):  # counted: a rule that trips on odd code
        stats["failed"] += 1
        facts = FileFacts()
    stats["parsed"] += 1
    with _lock:
        _cache[key] = facts
        while len(_cache) > CACHE_FILES:
            _cache.popitem(last=False)
    return facts


def warm_facts(entries: list[FileEntry]) -> None:
    """Parse the facts of these files now (a background thread after indexing), so the
    first member access into a large file does not pay for its parse."""
    for entry in entries:
        facts_of(entry)
