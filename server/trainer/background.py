"""Training from the editor: ``start_training`` runs ``train`` on a worker thread and
``AdapterWatch`` tells the server when the adapter it should use has changed.

For the language server (``tandem.train``)::

    handle = start_training(root, TrainOptions(...), progress_cb=report_to_client)
    handle.cancel()          # stop at the next step; a checkpoint makes it resumable
    handle.done / handle.wait(timeout) / handle.manifest / handle.error / handle.adapter

    watch = AdapterWatch(root, settings.model.adapter)
    if watch.poll():         # call on a timer or on didChangeWatchedFiles
        reload(watch.current)  # the new adapter folder (None: no adapter any more)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.trainer.manifest import MANIFEST_NAME, Manifest, active_adapter
from server.trainer.options import TrainOptions
from server.trainer.progress import ProgressCallback, TrainProgress

_WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin", "adapter_config.json")


@dataclass
class TrainingHandle:
    """A training run in the background."""

    root: Path
    options: TrainOptions
    thread: threading.Thread | None = None
    manifest: Manifest | None = None
    adapter: Path | None = None  # the folder written, once done
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        """Ask the run to stop after the current step (its checkpoint stays on disk)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


def start_training(
    root: Path,
    options: TrainOptions | Mapping[str, Any],
    progress_cb: ProgressCallback | None = None,
    on_done: Callable[[TrainingHandle], None] | None = None,
    index: Any = None,
) -> TrainingHandle:
    """Start ``train(root, options)`` on a daemon thread and return at once.

    ``index``: an open ``indexer.search.Index`` to train from (the language server's, which
    may live at a configured ``index.db``); None opens the default one.

    ``progress_cb`` receives every ``TrainProgress`` (from the worker thread: marshal to
    the event loop if needed); ``on_done`` runs once at the end, success or not, after
    ``handle.manifest``/``handle.adapter`` or ``handle.error`` are set.
    """
    if not isinstance(options, TrainOptions):
        options = TrainOptions.from_mapping(options)  # ValueError names a bad option
    handle = TrainingHandle(root=Path(root).resolve(), options=options)

    def work() -> None:
        from server.trainer.train import train

        try:
            handle.manifest = train(
                handle.root,
                options,
                progress=progress_cb,
                should_stop=handle._stop.is_set,
                index=index,
            )
            handle.adapter = _written_folder(handle.root, options)
        except BaseException as e:  # reported through the handle, never lost
            handle.error = e
            if progress_cb is not None:
                progress_cb(TrainProgress("done", message=f"training failed: {e}"))
        finally:
            handle._done.set()
            if on_done is not None:
                on_done(handle)

    handle.thread = threading.Thread(target=work, name="tandem-train", daemon=True)
    handle.thread.start()
    return handle


def _written_folder(root: Path, options: TrainOptions) -> Path | None:
    if options.out:
        return Path(options.out).expanduser().resolve()
    return active_adapter(root)


def adapter_signature(folder: Path | None) -> tuple[tuple[str, int, int], ...] | None:
    """What identifies an adapter's contents cheaply: names, sizes and mtimes of its files."""
    if folder is None or not folder.is_dir():
        return None
    parts = []
    for name in (*_WEIGHT_FILES, MANIFEST_NAME):
        path = folder / name
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        parts.append((name, st.st_size, st.st_mtime_ns))
    return tuple(parts) or None


class AdapterWatch:
    """Notices when the active adapter changes: a new adapter appears, the configured one
    is rewritten (e.g. ``forget --retrain``), or it is deleted."""

    def __init__(
        self, root: Path, configured: str | None = None, base_model: str | None = None
    ) -> None:
        self.root = root
        self.configured = configured
        self.base_model = base_model
        self.folder: Path | None = None  # what active_adapter chose, present or not
        self.current: Path | None = None  # that folder, if it holds an adapter
        self._key: tuple[Path | None, object] = (None, None)
        self._lock = threading.Lock()
        self.poll()

    def poll(self) -> bool:
        """True when ``self.current`` (the folder to load, or None) changed since last time.
        Safe to call from several threads."""
        with self._lock:
            folder = active_adapter(self.root, self.configured, self.base_model)
            signature = adapter_signature(folder)
            key = (folder, signature)
            if key == self._key:
                return False
            self._key = key
            self.folder = folder
            self.current = folder if signature is not None else None
            return True
