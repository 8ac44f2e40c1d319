"""Background indexing: one writer thread per workspace folder.

The editor never waits for it. Every write to a folder's index (the first full sync, saves,
file events, forgets) goes through that folder's single thread, so LanceDB sees one writer.
Events arriving in a burst (a branch switch, a formatter touching 200 files) are coalesced:
the thread waits until events stop for ``QUIET_S`` (at most ``MAX_WAIT_S``) and then makes
one ``sync_paths`` call for all of them.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.memory import release_memory
from indexer.storage import StorageError
from server.settings import Settings

log = logging.getLogger("tandem.lsp.indexing")

QUIET_S = 0.05
MAX_WAIT_S = 0.5
REFRESH_EVERY_S = 2.0  # how often readers catch up while a long sync runs
STORE_RETRY_S = 10.0  # after an object store failed to open, wait this long to try again


@dataclass
class Progress:
    """What the writer is doing, for ``$/progress`` and ``tandem.status``."""

    kind: str  # begin | report | end
    title: str = ""
    message: str = ""
    percentage: int | None = None


ProgressSink = Callable[[Progress], None]
ErrorSink = Callable[[str], None]
"""Shows the user one line (``window/showMessage``): a store that cannot be read."""


@dataclass
class _Pending:
    full: bool = False
    paths: set[str] = field(default_factory=set)
    forget: set[str] = field(default_factory=set)
    embed: bool = False  # vectors for what the lexical sync wrote; runs last

    def __bool__(self) -> bool:
        return self.full or bool(self.paths) or bool(self.forget) or self.embed


def percent(done: int, total: int) -> int:
    return 100 if total <= 0 else max(0, min(100, round(100 * done / total)))


class FolderIndexer:
    """The single writer of one folder's index, plus a reader handle for retrieval."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        on_progress: ProgressSink,
        on_error: ErrorSink | None = None,
    ) -> None:
        self.root = root
        self.settings = settings
        self._on_progress = on_progress
        self._on_error = on_error
        self._shown_errors: set[str] = set()
        self.base_checks = 0  # polls for a newer base index
        self._retry_open_at = 0.0
        self._cond = threading.Condition()
        self._pending = _Pending()
        self._last_event = 0.0
        self._first_event = 0.0
        self._stop = False
        self._thread: threading.Thread | None = None
        self._index: Any = None
        self._index_lock = threading.Lock()
        self.state = "idle"  # idle | indexing | syncing | error | stopped
        self.last_error: str | None = None
        self.last_report: Any = None
        self.batches = 0  # sync_paths calls made, for tests of coalescing
        self.events = 0  # paths submitted
        self.full_syncs = 0
        self._fallbacks_logged: dict[str, str] = {}  # path -> reason, each logged once
        self._idle = threading.Event()
        self._idle.set()

    # -- submitting work ------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"tandem-index-{self.root.name}", daemon=True
        )
        self._thread.start()
        self.request_full_sync()

    def request_full_sync(self) -> None:
        with self._cond:
            self._pending.full = True
            self._touch()

    def submit_paths(self, relpaths: list[str]) -> None:
        with self._cond:
            self._pending.paths.update(relpaths)
            self.events += len(relpaths)
            self._touch()

    def submit_forget(self, relpaths: list[str]) -> None:
        with self._cond:
            self._pending.forget.update(relpaths)
            self._touch()

    def _touch(self) -> None:
        now = time.monotonic()
        if not self._first_event:
            self._first_event = now
        self._last_event = now
        self._idle.clear()
        self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.state = "stopped"

    def wait_idle(self, timeout: float) -> bool:
        """For tests and the bench: block until no work is pending or running."""
        return self._idle.wait(timeout)

    def update_settings(self, settings: Settings) -> None:
        reindex = settings.index != self.settings.index
        self.settings = settings
        if reindex:
            with self._index_lock:
                self._index = None
                self._retry_open_at = 0.0  # new settings (a fixed endpoint?): try at once
            self.request_full_sync()

    # -- reading --------------------------------------------------------------------------
    def index(self) -> Any:
        """The folder's ``indexer.search.Index`` (opened on first use), or None while no
        index exists yet."""
        with self._index_lock:
            if self._index is None:
                from indexer.search import open_index
                from indexer.storage import StorageError

                # An unreachable store costs seconds per attempt: not at every keystroke.
                if time.monotonic() < self._retry_open_at:
                    return None
                try:
                    self._index = open_index(self.root, settings=self.settings.index)
                except StorageError as e:
                    self._report(str(e))
                    self._retry_open_at = time.monotonic() + STORE_RETRY_S
                    return None
                except Exception as e:
                    log.debug("index of %s not readable yet: %s", self.root, e)
                    return None
            return self._index

    def _report(self, message: str) -> None:
        """Say it once where the user looks (the log has every occurrence)."""
        log.warning("%s", message)
        if message in self._shown_errors or self._on_error is None:
            return
        self._shown_errors.add(message)
        self._on_error(f"Tandem: {message}")

    def _refresh_reader(self) -> None:
        with self._index_lock:
            index = self._index
        if index is None:
            self.index()
            return
        try:
            index.refresh()
        except Exception as e:
            log.warning("refreshing the index of %s failed: %s", self.root, e)
            with self._index_lock:
                self._index = None

    def _warm_context(self) -> None:
        """Bring the context builder's in-memory view up to the new index here, on the
        writer thread, rather than in the next completion (seconds after a full index)."""
        index = self.index()
        if index is None:
            return
        try:
            from server.context import warm

            warm(index)
        except Exception as e:  # the completion path retries and reports it
            log.debug("warming the context view of %s failed: %s", self.root, e)

    def _base_changed(self) -> bool:
        """CI wrote a newer base: the delta must be computed against it again."""
        self.base_checks += 1
        index = self.index()
        if index is None:
            return False
        from indexer.storage import StorageError

        try:
            return bool(index.base_changed())
        except StorageError as e:
            self._report(str(e))
            return False

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "root": str(self.root),
            "state": self.state,
            "full_syncs": self.full_syncs,
            "batches": self.batches,
            "events": self.events,
        }
        if self.last_error:
            out["error"] = self.last_error
        index = self.index()
        if index is not None:
            try:
                out["index"] = _plain(index.status())
            except Exception as e:
                out["index"] = {"error": str(e)}
        return out

    # -- the writer thread ----------------------------------------------------------------
    def _take(self) -> _Pending | None:
        with self._cond:
            while not self._pending and not self._stop:
                self._idle.set()
                poll = self.settings.index.base_poll_s if self.settings.index.base else None
                if not self._cond.wait(poll) and poll is not None:
                    self._cond.release()  # the check reads the object store: not under the lock
                    try:
                        newer = self._base_changed()
                    finally:
                        self._cond.acquire()
                    if newer:
                        self._pending.full = True
                        self._first_event = self._last_event = time.monotonic()
                        self._idle.clear()
            if self._stop:
                return None
            # Coalesce: wait for a quiet gap, bounded so a stream of events still flushes.
            while True:
                now = time.monotonic()
                quiet_left = self._last_event + QUIET_S - now
                cap_left = self._first_event + MAX_WAIT_S - now
                wait = min(quiet_left, cap_left)
                if wait <= 0 or self._stop:
                    break
                self._cond.wait(wait)
            taken, self._pending = self._pending, _Pending()
            if taken.embed and (taken.full or taken.paths or taken.forget):
                taken.embed, self._pending.embed = False, True  # file events go first
            self._first_event = 0.0
            return taken

    def _run(self) -> None:
        while True:
            job = self._take()
            if job is None:
                return
            ends: list[Progress] = []
            try:
                self._do(job, ends)
                self.last_error = None
                self.state = "idle"
            except StorageError as e:  # the store, not a bug: one line, no traceback
                self._report(str(e))
                self.last_error = str(e)
                self.state = "error"
            except Exception as e:
                log.exception("indexing %s failed", self.root)
                self.last_error = f"{type(e).__name__}: {e}"
                self.state = "error"
            try:
                self._refresh_reader()
            except Exception:
                log.exception("reopening the index of %s failed", self.root)
            # "end" only once readers see the new rows: a client may query right away.
            for end in ends:
                self._on_progress(end)
            self._warm_context()
            if job.full or job.embed:
                # the old snapshot's rows and the load's temporaries (read with the cyclic
                # GC paused) are garbage now: ~120 MB of a 30 MB workspace's, handed back
                gc.collect()
                release_memory()
            with self._cond:
                if not self._pending:
                    self._idle.set()

    def _do(self, job: _Pending, ends: list[Progress]) -> None:
        from indexer import sync as sync_mod

        index_settings = self.settings.index
        if job.forget:
            self.state = "syncing"
            removed = sync_mod.forget(self.root, sorted(job.forget), index_settings)
            log.info("forgot %d indexed file(s) in %s", len(removed), self.root.name)
        if job.full:
            self.state = "indexing"
            self._full_sync(sync_mod, ends)
        elif job.paths:
            self.state = "syncing"
            self.batches += 1
            report = sync_mod.sync_paths(self.root, index_settings, sorted(job.paths))
            self.last_report = report
            self._log_fallbacks(report)
            log.info("synced %d changed path(s) in %s", len(job.paths), self.root.name)
        elif job.embed:
            self.state = "embedding"
            self._embed(sync_mod, ends)

    def _full_sync(self, sync_mod: Any, ends: list[Progress]) -> None:
        """Lexical first (chunks, symbols, full-text): completion can use it at once. The
        vectors follow as a separate job, after any file events that queued meanwhile."""
        title = f"Tandem: indexing {self.root.name}"
        self._on_progress(Progress("begin", title=title, message="scanning files", percentage=0))
        ok = False
        if self._index is None:  # the base's rows load while the delta is computed
            from indexer.search import prefetch_base

            prefetch_base(self.settings.index)
        try:
            report = sync_mod.sync(
                self.root, self.settings.index, self._progress_reporter(), embed=False
            )
            self.last_report = report
            self.full_syncs += 1
            self._log_fallbacks(report)
            ok = True
        finally:
            message = summarize(self.last_report) if ok else "failed (see the log)"
            ends.append(Progress("end", message=message, percentage=100))
        if ok and self.settings.index.embedder != "none":
            with self._cond:
                self._pending.embed = True
                self._touch()

    def _log_fallbacks(self, report: Any) -> None:
        """A file a grammar failed on is worth a warning, once (not at every save)."""
        for fallback in getattr(report, "fallbacks", ()):
            if self._fallbacks_logged.get(fallback.path) == fallback.reason:
                continue
            self._fallbacks_logged[fallback.path] = fallback.reason
            log.warning(
                "%s: parsing failed, indexed as line windows (%s)", fallback.path, fallback.reason
            )

    def _embed(self, sync_mod: Any, ends: list[Progress]) -> None:
        title = f"Tandem: embedding {self.root.name}"
        self._on_progress(Progress("begin", title=title, message="embedding", percentage=0))
        ok = False
        try:
            self.last_report = sync_mod.sync(
                self.root, self.settings.index, self._progress_reporter(), embed=True
            )
            ok = True
        finally:
            message = "vectors ready" if ok else "failed (see the log)"
            ends.append(Progress("end", message=message, percentage=100))

    def _progress_reporter(self) -> Callable[[str, int, int, str], None]:
        last = [0.0]
        refreshed = [time.monotonic()]

        def progress(phase: str, done: int, total: int, message: str) -> None:
            now = time.monotonic()
            if phase == "index" and now - refreshed[0] > REFRESH_EVERY_S:
                # Completion works with what is indexed so far: let readers see the
                # batches committed up to now.
                refreshed[0] = now
                try:
                    self._refresh_reader()
                except Exception as e:
                    log.debug("refresh during indexing failed: %s", e)
            if now - last[0] < 0.1 and done != total:  # at most ten reports a second
                return
            last[0] = now
            self._on_progress(
                Progress(
                    "report",
                    message=progress_message(phase, done, total, message),
                    percentage=percent(done, total) if total else 0,
                )
            )

        return progress


def progress_message(phase: str, done: int, total: int, message: str) -> str:
    verb = {"scan": "scanning", "index": "indexing", "embed": "embedding"}.get(phase, phase)
    count = f"{done}/{total} files" if total else f"{done} files"
    if phase == "embed":
        count = f"{done}/{total} chunks"
    return f"{verb} {count}" + (f": {message}" if message else "")


def summarize(report: Any) -> str:
    if report is None:
        return "done"
    fields = (
        "total_files",
        "indexed",
        "unchanged",
        "deleted",
        "skipped",
        "total_chunks",
        "total_fallbacks",
    )
    parts = []
    for name in fields:
        value = getattr(report, name, None)
        if isinstance(value, int | list | tuple | set | dict):
            n = value if isinstance(value, int) else len(value)
            if name == "total_fallbacks" and not n:
                continue  # parse failures are named only when there are some
            parts.append(f"{n} {name.replace('total_', '')}")
    return ", ".join(parts) or "done"


def _plain(obj: Any) -> Any:
    """A JSON-friendly copy of a status object (dataclass, dict, or anything else)."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [_plain(v) for v in obj]
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)
