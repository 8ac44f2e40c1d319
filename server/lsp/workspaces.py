"""Workspace folders: one index (and one writer thread) per folder.

A file belongs to the deepest folder containing it. A document outside every folder is
never indexed and never enters an overlay; it is still completed, from its own text alone
(the model sees its prefix and suffix, and retrieval is skipped), so opening a stray file
never leaks code from, or into, a project's index.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.uris import to_fs_path

from server.lsp.indexing import ErrorSink, FolderIndexer, ProgressSink

if TYPE_CHECKING:
    from server.lsp.server import TandemServer
    from server.settings import Settings

log = logging.getLogger("tandem.lsp.workspaces")

# Never indexed, whatever the ignore rules say: the index itself and VCS internals.
PRIVATE_DIRS = (".tandem", ".git", ".hg", ".svn")


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a ``file:`` URI, or None for other schemes (untitled:, …)."""
    if not uri.startswith("file:"):
        return None
    fs = to_fs_path(uri)
    return Path(fs).resolve() if fs else None


@dataclass
class Folder:
    uri: str
    name: str
    root: Path
    indexer: FolderIndexer
    completer: Any = None  # server.completion.Completer, made on first completion

    def relpath(self, path: Path) -> str | None:
        """Workspace-relative POSIX path, or None when ``path`` is outside or private."""
        try:
            rel = path.relative_to(self.root)
        except ValueError:
            return None
        if rel.parts and rel.parts[0] in PRIVATE_DIRS:
            return None
        return rel.as_posix() if rel.parts else None


class Workspaces:
    def __init__(self) -> None:
        self._folders: dict[Path, Folder] = {}

    def __iter__(self) -> Iterator[Folder]:
        return iter(list(self._folders.values()))

    def __len__(self) -> int:
        return len(self._folders)

    def add(
        self,
        uri: str,
        name: str,
        settings: Settings,
        progress: ProgressSink,
        on_error: ErrorSink | None = None,
    ) -> Folder | None:
        root = uri_to_path(uri)
        if root is None or not root.is_dir():
            log.warning("ignoring workspace folder %s: not a local folder", uri)
            return None
        if root in self._folders:
            return self._folders[root]
        indexer = FolderIndexer(root, settings, progress, on_error)
        folder = Folder(uri, name or root.name, root, indexer)
        self._folders[root] = folder
        folder.indexer.start()
        log.info("workspace folder added: %s", root)
        return folder

    def remove(self, uri: str) -> None:
        root = uri_to_path(uri)
        folder = self._folders.pop(root, None) if root else None
        if folder is not None:
            folder.indexer.stop()
            log.info("workspace folder removed: %s", root)

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """(folder, relpath) for a document inside a folder, else None."""
        path = uri_to_path(uri)
        if path is None:
            return None
        best: tuple[Folder, str] | None = None
        for folder in self._folders.values():
            rel = folder.relpath(path)
            if rel is not None and (
                best is None or len(folder.root.parts) > len(best[0].root.parts)
            ):
                best = (folder, rel)
        return best

    def stop(self) -> None:
        for folder in list(self._folders.values()):
            folder.indexer.stop()


def initial_folders(params: types.InitializeParams) -> list[tuple[str, str]]:
    """(uri, name) of the folders to index: workspaceFolders, else rootUri/rootPath."""
    if params.workspace_folders:
        return [(f.uri, f.name) for f in params.workspace_folders]
    if params.root_uri:
        return [(params.root_uri, "")]
    if params.root_path:
        return [(Path(params.root_path).resolve().as_uri(), "")]
    return []


def register(server: TandemServer) -> None:
    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: TandemServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            ls.folders.remove(removed.uri)
            root = uri_to_path(removed.uri)
            if root is not None:
                ls.watchers.drop(root)
            ls.documents.drop_folder(removed.uri)
        for added in params.event.added or []:
            ls.add_folder(added.uri, added.name)
