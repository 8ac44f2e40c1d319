"""Open documents and the overlay of unsaved buffers.

pygls keeps each open buffer current from incremental ``didChange`` events. Retrieval must
see those buffers too, but rewriting the on-disk index on every keystroke would be slow and
would index text the user may throw away. So each change (debounced by
``completion.debounce_ms``) re-parses the buffer with ``indexer.chunker.parse_file`` into an
in-memory overlay that is handed to the completer; only ``didSave`` (and file events)
write to the index.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

if TYPE_CHECKING:
    from indexer.types import ParsedFile
    from server.lsp.server import TandemServer
    from server.settings import IndexSettings

log = logging.getLogger("tandem.lsp.documents")


class Documents:
    """Overlays per workspace folder: relpath → the parsed unsaved buffer."""

    def __init__(self, server: TandemServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._overlays: dict[Path, dict[str, ParsedFile]] = {}
        self._versions: dict[str, int] = {}  # uri → version last parsed
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-parse")
        self.parses = 0
        self._queued = 0  # parses submitted and not finished
        self.last_parse_ms = 0.0

    def warm_up(self) -> None:
        """Load the parser and grammar now, not on the user's first keystroke."""
        self._parser.submit(_warm_up)

    def overlay(self, root: Path) -> dict[str, ParsedFile]:
        """A snapshot of one folder's overlay, safe to hand to another thread."""
        with self._lock:
            return dict(self._overlays.get(root, {}))

    def overlay_sizes(self) -> dict[str, int]:
        with self._lock:
            return {str(root): len(files) for root, files in self._overlays.items()}

    def schedule(self, uri: str, delay_s: float) -> None:
        """Re-parse ``uri`` after ``delay_s`` of quiet (each change restarts the clock)."""
        loop = self._server.loop
        old = self._timers.pop(uri, None)
        if old is not None:
            old.cancel()
        if loop is None:
            return
        if delay_s <= 0:
            self._submit(uri)
        else:
            self._timers[uri] = loop.call_later(delay_s, self._submit, uri)

    def flush_others(self, uri: str) -> Future[None] | None:
        """A completion in ``uri`` means typing elsewhere has paused: parse the other
        buffers' pending changes now instead of after their debounce. Returns a future
        done when every parse queued so far is done (None if none is queued)."""
        pending = [u for u in self._timers if u != uri]
        for other in pending:
            self._timers.pop(other).cancel()
            self._submit(other)
        with self._lock:
            queued = self._queued
        return self._parser.submit(_barrier) if queued else None

    def _submit(self, uri: str) -> None:
        self._timers.pop(uri, None)
        located = self._server.folders.locate(uri)
        doc = self._server.workspace.text_documents.get(unquote(uri))
        if located is None or doc is None:
            return
        folder, rel = located
        with self._lock:
            self._queued += 1
        settings = folder.indexer.settings.index
        self._parser.submit(
            self._parse, uri, folder.root, rel, doc.source, doc.version or 0, settings
        )

    def _parse(
        self, uri: str, root: Path, rel: str, text: str, version: int, settings: IndexSettings
    ) -> None:
        from indexer.chunker import parse_file
        from indexer.secrets import redact
        from indexer.walk import IgnoreRules

        t0 = time.perf_counter()
        try:
            # The overlay holds only what the index would: an ignored, forgotten or secret
            # file open in the editor stays out of retrieval, and tokens are redacted.
            # (Ignore files are read afresh, as sync_paths does: a .gitignore edit or a
            # forget applies at the next keystroke; a fraction of a millisecond.)
            size = len(text.encode("utf-8", "replace"))
            skip = IgnoreRules(root, settings).skip_reason(rel, size)
            parsed = None if skip else parse_file(rel, redact(text))
        except Exception:
            log.exception("parsing the buffer of %s failed", rel)
            with self._lock:
                self._queued -= 1
            return
        with self._lock:
            self._queued -= 1
            if uri not in self._versions:  # closed while we parsed
                return
            if parsed is None:
                self._overlays.get(root, {}).pop(rel, None)
            else:
                self._overlays.setdefault(root, {})[rel] = parsed
            self._versions[uri] = version
        self.parses += 1
        self.last_parse_ms = (time.perf_counter() - t0) * 1000

    def opened(self, uri: str) -> None:
        with self._lock:
            self._versions.setdefault(uri, -1)
        self.schedule(uri, 0)

    def closed(self, uri: str) -> None:
        timer = self._timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        located = self._server.folders.locate(uri)
        with self._lock:
            self._versions.pop(uri, None)
            if located is not None:
                folder, rel = located
                self._overlays.get(folder.root, {}).pop(rel, None)

    def drop_folder(self, uri: str) -> None:
        from server.lsp.workspaces import uri_to_path

        root = uri_to_path(uri)
        with self._lock:
            if root is not None:
                self._overlays.pop(root, None)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._parser.shutdown(wait=False, cancel_futures=True)


def _barrier() -> None:
    """Queued behind pending parses: its future completes once they have."""


def _warm_up() -> None:
    from indexer.chunker import parse_file

    try:
        parse_file("warm_up.py", "def warm_up():\n    return 1\n")
    except Exception as e:  # only a head start: a failure here shows up on real use
        log.debug("parser warm-up failed: %s", e)


def debounce_s(ls: TandemServer) -> float:
    return max(0, ls.options.settings.completion.debounce_ms) / 1000


def register(server: TandemServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TandemServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.documents.opened(params.text_document.uri)
        ls.completion.prefill.opened(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.documents.schedule(params.text_document.uri, debounce_s(ls))
        ls.completion.prefill.changed(params.text_document.uri, params.content_changes)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TandemServer, params: types.DidSaveTextDocumentParams) -> None:
        located = ls.folders.locate(params.text_document.uri)
        if located is not None:
            folder, rel = located
            folder.indexer.submit_paths([rel])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TandemServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.documents.closed(params.text_document.uri)


def document_text(ls: TandemServer, uri: str) -> Any:
    """The open buffer for ``uri``, or None when the document is not open."""
    return ls.workspace.text_documents.get(unquote(uri))
