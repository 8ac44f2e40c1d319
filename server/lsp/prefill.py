"""Background prefill, as llama.vim does it: when an edit settles and no completion was
asked for yet, read the stable part of the next prompt (snippets and the lines above the
cursor) into the model's KV cache, so the request that follows reads only its last tokens.

It runs on the completion thread, so it never competes with a completion for the model,
and it gives way between chunks as soon as a request arrives. After a ``didChange`` the
cursor is where the last change ended (the notification carries no cursor; a full-text
change says nothing about it, so it starts nothing). After a ``didOpen`` (no cursor either)
it is the last one known for that document in this session (an edit's end or a request's
position, kept after the document closes), else the end of the file, where a new or short
file grows.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from server.lsp.completion import CompletionService

log = logging.getLogger("tandem.lsp.prefill")

SETTLE_S = 0.12  # quiet time after an edit before the cache is warmed


def end_of_change(changes: Sequence[Any]) -> types.Position | None:
    """Where the cursor is after the last incremental change (client units), or None."""
    if not changes:
        return None
    last = changes[-1]
    rng = getattr(last, "range", None)
    if rng is None:
        return None
    text: str = last.text
    lines = text.split("\n")
    if len(lines) == 1:
        return types.Position(rng.start.line, rng.start.character + _units(text))
    return types.Position(rng.start.line + len(lines) - 1, _units(lines[-1]))


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Prefiller:
    """Schedules one background prefill per document after its edits settle."""

    def __init__(self, service: CompletionService) -> None:
        self._service = service
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._cursors: dict[str, types.Position] = {}  # the last known cursor per document
        self._stop = threading.Event()  # set: the running prefill gives way
        self._lock = threading.Lock()
        self.counts = {"scheduled": 0, "ran": 0, "tokens": 0, "skipped": 0, "failed": 0}

    def _bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def changed(self, uri: str, changes: Sequence[Any]) -> None:
        """An edit in ``uri`` (on the event loop): warm the cache once it settles."""
        position = end_of_change(changes)
        if position is None:
            self._cancel(uri)
            return
        self._cursors[uri] = position
        self._schedule(uri, position)

    def opened(self, uri: str) -> None:
        """``uri`` was opened (on the event loop): warm the cache at its last known cursor,
        or at its end (None) when this session has not seen one."""
        self._schedule(uri, self._cursors.get(uri))

    def request_arrived(self, uri: str, position: types.Position | None = None) -> None:
        """A completion was asked for: it reads the prompt itself, so stop warming."""
        if position is not None:
            self._cursors[uri] = position
        self._cancel(uri)
        self._stop.set()

    def _cancel(self, uri: str) -> None:
        old = self._timers.pop(uri, None)
        if old is not None:
            old.cancel()

    def _schedule(self, uri: str, position: types.Position | None) -> None:
        self._cancel(uri)
        loop = self._service.loop()
        if loop is None:
            return
        self._timers[uri] = loop.call_later(SETTLE_S, self._start, uri, position)
        self._bump("scheduled")

    def _start(self, uri: str, position: types.Position | None) -> None:
        self._timers.pop(uri, None)
        job = self._service.prefill_job(uri, position)
        if job is None:
            self._bump("skipped")
            return
        self._stop = stop = threading.Event()
        self._service.submit(lambda: self._run(job, stop))

    def _run(self, job: Any, stop: threading.Event) -> None:
        if stop.is_set():
            self._bump("skipped")
            return
        try:
            tokens = job(stop)
        except Exception:  # only a head start: the next request reads the prompt anyway
            log.exception("background prefill failed")
            self._bump("failed")
            return
        self._bump("ran" if tokens else "skipped")
        self._bump("tokens", tokens)

    def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._stop.set()
