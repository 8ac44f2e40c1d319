"""Keep an index current from file events (watchfiles), debounced into batches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from indexer.sync import SyncReport, sync, sync_paths
from indexer.walk import ALWAYS_SKIPPED_DIRS, IgnoreRules
from server.settings import IndexSettings


def _event_filter(root: Path, settings: IndexSettings) -> Callable[[object, str], bool]:
    """Drop events under ignored folders before they wake the indexer. Ignore files are
    re-read for each batch by ``sync_paths``; this filter only needs to be cheap."""
    rules = IgnoreRules(root, settings)

    def keep(_change: object, path: str) -> bool:
        try:
            rel = Path(path).relative_to(root).as_posix()
        except ValueError:
            return False
        parts = rel.split("/")
        if any(p in ALWAYS_SKIPPED_DIRS for p in parts[:-1]) or parts[-1] in ALWAYS_SKIPPED_DIRS:
            return False
        if parts[-1] in (".gitignore", ".tandemignore"):
            return True
        return all(rules.reason("/".join(parts[:i]), True) is None for i in range(1, len(parts)))

    return keep


def watch(
    root: Path | str,
    settings: IndexSettings,
    on_sync: Callable[[SyncReport], None] | None = None,
    debounce_ms: int = 300,
    stop: threading.Event | None = None,
    initial: bool = True,
) -> None:
    """Sync once (unless ``initial`` is false), then re-sync the paths of each debounced
    batch of file events until ``stop`` is set (or Ctrl-C)."""
    from watchfiles import watch as watch_files

    root = Path(root).resolve()
    pending_initial = initial
    # the initial sync runs once the watcher is live (its first, empty, timeout yield), so
    # no change made while it runs, or just after, is missed
    for changes in watch_files(
        root,
        watch_filter=_event_filter(root, settings),
        debounce=debounce_ms,
        stop_event=stop,
        yield_on_timeout=True,
        rust_timeout=500,
    ):
        if pending_initial:
            pending_initial = False
            report = sync(root, settings)
            if on_sync:
                on_sync(report)
        paths = sorted({p for _change, p in changes})
        if paths:
            report = sync_paths(root, settings, paths)
            if on_sync:
                on_sync(report)
