"""``workspace/executeCommand``: reindex, forget, status, acceptCompletion (``tandem.train``
lives in training.py).

Arguments are taken raw (``*args``) and checked here, so a wrong argument gives a clear
JSON-RPC error instead of a converter traceback.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

if TYPE_CHECKING:
    from server.lsp.server import TandemServer
    from server.lsp.workspaces import Folder

log = logging.getLogger("tandem.lsp.commands")

REINDEX = "tandem.reindex"
FORGET = "tandem.forget"
STATUS = "tandem.status"


def _folder_and_rel(ls: TandemServer, target: str) -> tuple[Folder, str]:
    """Resolve a URI, absolute path, or path relative to the only folder."""
    from server.lsp.workspaces import Folder

    folders = list(ls.folders)
    if target.startswith("file:"):
        located = ls.folders.locate(target)
    else:
        path = Path(target)
        if not path.is_absolute():
            if len(folders) != 1:
                raise JsonRpcInvalidParams(
                    f"{FORGET}: {target!r} is relative; give an absolute path or a file URI "
                    "when several folders are open"
                )
            path = folders[0].root / path
        located = ls.folders.locate(path.resolve().as_uri())
    if located is None:
        raise JsonRpcInvalidParams(f"{FORGET}: {target!r} is not inside a workspace folder")
    folder, rel = located
    assert isinstance(folder, Folder)
    return folder, rel


def reindex(ls: TandemServer, args: tuple[Any, ...]) -> dict[str, Any]:
    """Queue a full sync of every folder (or of the folder named by a URI argument)."""
    folders = list(ls.folders)
    if args and isinstance(args[0], str):
        located = ls.folders.locate(args[0]) if args[0].startswith("file:") else None
        folders = [f for f in folders if located and f is located[0]] or [
            f for f in folders if f.uri == args[0]
        ]
        if not folders:
            raise JsonRpcInvalidParams(f"{REINDEX}: {args[0]!r} is not a workspace folder")
    for folder in folders:
        folder.indexer.request_full_sync()
    return {"queued": [str(f.root) for f in folders]}


def forget(ls: TandemServer, args: tuple[Any, ...]) -> dict[str, Any]:
    """Remove paths (files or folders) from the index; they stay out until un-ignored."""
    targets = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not targets or not all(isinstance(t, str) and t for t in targets):
        raise JsonRpcInvalidParams(f"{FORGET}: expected one or more paths (strings)")
    queued: list[str] = []
    for target in targets:
        folder, rel = _folder_and_rel(ls, target)
        folder.indexer.submit_forget([rel])
        queued.append(rel)
    return {"forgetting": queued}


def status(ls: TandemServer) -> dict[str, Any]:
    return {
        "server": {"name": ls.name, "version": ls.version},
        "folders": [folder.indexer.status() for folder in ls.folders],
        "completer": ls.completion.status(),
        "signals": ls.signals.counts(),
        "overlay": {
            "files": ls.documents.overlay_sizes(),
            "parses": ls.documents.parses,
            "last_parse_ms": round(ls.documents.last_parse_ms, 2),
        },
        "settings_errors": list(ls.options.errors),
        "file_events": "client" if ls.watchers.client_watches else "server",
        "training": ls.training.status(),
    }


def register(server: TandemServer) -> None:
    from server.lsp.server import TandemServer as _TandemServer
    from server.lsp.signals import ACCEPT_COMMAND

    # pygls resolves a command handler's annotations (typing.get_type_hints) whenever the
    # command comes with arguments, so the name must exist at run time too.
    globals()["TandemServer"] = _TandemServer

    @server.command(REINDEX)
    def cmd_reindex(ls: TandemServer, *args: Any) -> dict[str, Any]:
        return reindex(ls, args)

    @server.command(FORGET)
    def cmd_forget(ls: TandemServer, *args: Any) -> dict[str, Any]:
        return forget(ls, args)

    @server.command(STATUS)
    async def cmd_status(ls: TandemServer, *args: Any) -> dict[str, Any]:
        # Status opens LanceDB tables and counts rows: keep it off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, status, ls)

    @server.command(ACCEPT_COMMAND)
    def cmd_accept(ls: TandemServer, *args: Any) -> None:
        item_id = args[0] if args and isinstance(args[0], str) else None
        ls.signals.accepted(item_id)
