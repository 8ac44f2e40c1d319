"""File events: ``workspace/didChangeWatchedFiles`` from the client, registered dynamically
(``client/registerCapability``) where the client supports it, else a server-side
``watchfiles`` watcher per folder (Neovim and Helix often cannot watch for us).

Either way, events only enqueue paths on the folder's writer thread, which coalesces a
burst into one ``sync_paths`` batch. Creates, changes and deletes are all a "this path
changed" to ``sync_paths``; a rename arrives as a delete plus a create.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from server.lsp.server import TandemServer
    from server.lsp.workspaces import Folder

log = logging.getLogger("tandem.lsp.watched_files")


def client_can_watch(ls: TandemServer) -> bool:
    ws = ls.client_capabilities.workspace
    watched = ws.did_change_watched_files if ws else None
    return bool(watched and watched.dynamic_registration)


async def register_watchers(ls: TandemServer) -> bool:
    """Ask the client to watch every file; True when it agreed."""
    if not client_can_watch(ls):
        return False
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
    )
    registration = types.Registration(
        id=str(uuid.uuid4()),
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception as e:
        log.info("the client refused to watch files (%s); watching them here", e)
        return False
    log.info("the client watches files for us")
    return True


def dispatch(ls: TandemServer, uris: list[str]) -> int:
    """Queue each changed path on its folder's writer; returns how many were queued."""
    by_folder: dict[Path, tuple[Folder, list[str]]] = {}
    for uri in uris:
        located = ls.folders.locate(uri)
        if located is None:
            continue
        folder, rel = located
        by_folder.setdefault(folder.root, (folder, []))[1].append(rel)
    for folder, rels in by_folder.values():
        folder.indexer.submit_paths(rels)
    return sum(len(rels) for _, rels in by_folder.values())


class ServerWatcher:
    """A ``watchfiles`` thread for one folder, for clients that cannot watch files."""

    def __init__(self, ls: TandemServer, folder: Folder) -> None:
        self._ls = ls
        self._folder = folder
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tandem-watch-{folder.root.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        from watchfiles import watch

        root = self._folder.root
        try:
            for changes in watch(root, stop_event=self._stop, debounce=50, rust_timeout=500):
                uris = [Path(p).as_uri() for _, p in changes]
                dispatch(self._ls, uris)
        except Exception as e:  # a vanished folder, inotify limits
            log.warning("watching %s stopped: %s", root, e)


class Watchers:
    """Server-side watchers, started only when the client does not watch for us."""

    def __init__(self) -> None:
        self.client_watches = False
        self._watchers: dict[Path, ServerWatcher] = {}

    def ensure(self, ls: TandemServer, folder: Folder) -> None:
        if self.client_watches or folder.root in self._watchers:
            return
        watcher = ServerWatcher(ls, folder)
        self._watchers[folder.root] = watcher
        watcher.start()

    def drop(self, root: Path) -> None:
        watcher = self._watchers.pop(root, None)
        if watcher is not None:
            watcher.stop()

    def stop(self) -> None:
        for watcher in self._watchers.values():
            watcher.stop()
        self._watchers.clear()


def register(server: TandemServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: TandemServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        kinds: dict[str, int] = defaultdict(int)
        for change in params.changes:
            kinds[types.FileChangeType(change.type).name.lower()] += 1
        queued = dispatch(ls, [change.uri for change in params.changes])
        log.debug("file events %s: %d queued", dict(kinds), queued)
