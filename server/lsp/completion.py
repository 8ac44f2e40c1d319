"""``textDocument/inlineCompletion`` (ghost text) and ``textDocument/completion`` (for
clients without inline completion): thin handlers over ``server.completion.Completer``.

Requests run on one dedicated thread, so the model sees one request at a time. A newer
request for the same document supersedes an older one: the older one's ``cancel`` event is
set, and if it has not started it never reaches the model (it returns an empty result).
``$/cancelRequest`` cancels the handler's task, which sets the same event.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lsprotocol import types

from server.lsp.prefill import Prefiller
from server.lsp.signals import ACCEPT_COMMAND

if TYPE_CHECKING:
    from server.completion import Completer, CompletionResult
    from server.lsp.server import TandemServer
    from server.lsp.workspaces import Folder

log = logging.getLogger("tandem.lsp.completion")

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
MAX_SYMBOLS = 20
MAX_MEMBERS = 200
BARRIER_TIMEOUT_S = 0.3  # longest a completion waits for other buffers' parses
HOLD_ENV = "TANDEM_TEST_HOLD_FILE"
HOLD_MAX_S = 30.0


def _test_hold() -> None:
    """Test hook: while the file that ``TANDEM_TEST_HOLD_FILE`` names exists, the completion
    thread waits (at most 30 s) before it takes a job, so tests can queue requests behind a
    busy one without depending on how fast this machine is."""
    hold = os.environ.get(HOLD_ENV)
    if not hold:
        return
    deadline = time.monotonic() + HOLD_MAX_S
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.01)


@dataclass
class Cursor:
    """A request's document snapshot and cursor in Python string units."""

    uri: str
    text: str
    line: int
    col: int
    line_text: str
    position: types.Position  # as the client sent it


def cursor_at(ls: TandemServer, uri: str, position: types.Position) -> Cursor | None:
    """The open document's cursor, or None for an unknown document or a position outside
    it (both give an empty result rather than an error the editor would show)."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    if doc is None:
        return None
    lines = doc.lines
    if position.line > len(lines) or position.line < 0 or position.character < 0:
        return None
    if position.line == len(lines):
        if position.character != 0:
            return None
        return Cursor(uri, doc.source, position.line, 0, "", position)
    line_text = lines[position.line].rstrip("\r\n")
    if position.character > doc.position_codec.client_num_units(line_text):
        return None
    server_pos = doc.position_codec.position_from_client_units(lines, position)
    return Cursor(uri, doc.source, server_pos.line, server_pos.character, line_text, position)


def end_of_document(ls: TandemServer, uri: str) -> types.Position | None:
    """The position after the open document's last character (client units), or None."""
    doc = ls.workspace.text_documents.get(unquote(uri))
    if doc is None:
        return None
    lines = doc.lines
    if not lines or lines[-1].endswith("\n"):
        return types.Position(len(lines), 0)
    return types.Position(len(lines) - 1, doc.position_codec.client_num_units(lines[-1]))


class CompletionService:
    """Runs completions off the event loop, newest request per document first."""

    def __init__(self, server: TandemServer) -> None:
        self._server = server
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tandem-complete")
        self._latest: dict[str, tuple[int, threading.Event]] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._outside: Completer | None = None
        self.counts = {"requests": 0, "completed": 0, "superseded": 0, "cancelled": 0}
        self.prefill = Prefiller(self)

    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._server.loop

    def submit(self, fn: Any) -> None:
        """Run ``fn`` on the completion thread (after the requests queued before it)."""
        self._executor.submit(fn)

    def prefill_job(self, uri: str, position: types.Position | None) -> Any:
        """A background prefill for a settled cursor (None: the end of the document), run on
        the completion thread with a stop Event; None when a request for ``uri`` is already
        on its way or the document is unknown."""
        from server.completion import CompletionRequest

        if not self._server.options.settings.completion.enabled:
            return None
        with self._lock:
            if uri in self._latest:
                return None
        if position is None:
            position = end_of_document(self._server, uri)
        cursor = cursor_at(self._server, uri, position) if position is not None else None
        if cursor is None:
            return None
        located = self._server.folders.locate(uri)
        folder, rel = located if located else (None, _outside_name(uri))
        request = CompletionRequest(path=rel, text=cursor.text, line=cursor.line, col=cursor.col)
        documents = self._server.documents

        def job(stop: threading.Event) -> int:
            overlay = documents.overlay(folder.root) if folder else None
            return self.completer_for(folder).prefill(request, overlay, stop)

        return job

    def _bump(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def completer_for(self, folder: Folder | None) -> Completer:
        from server.completion import Completer

        settings = self._server.options.settings
        if folder is None:
            if self._outside is None:
                # Outside every folder: the model alone, no index (see workspaces.py).
                self._outside = Completer(
                    Path.cwd(), None, settings, on_load_error=self._model_failed
                )
            return self._outside
        if folder.completer is None:
            folder.completer = Completer(
                folder.root, folder.indexer.index, settings, on_load_error=self._model_failed
            )
        completer: Completer = folder.completer
        return completer

    def _model_failed(self, error: str) -> None:
        """Say once, where the user looks, why completions come from retrieval alone."""
        message = f"Tandem: the model could not be loaded; completing from retrieval. {error}"
        params = types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        self._server.post(self._server.window_show_message, params)

    def completers(self) -> list[Completer]:
        """The completers created so far (one per folder, one for files outside)."""
        found = [f.completer for f in self._server.folders if f.completer is not None]
        if self._outside is not None:
            found.append(self._outside)
        return found

    def reload(self) -> None:
        settings = self._server.options.settings
        for completer in self.completers():
            completer.reload(settings)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": dict(self.counts), "prefill": dict(self.prefill.counts)}
        for folder in self._server.folders:
            if folder.completer is not None:
                out[folder.name] = folder.completer.status()
        if self._outside is not None:
            out["outside_folders"] = self._outside.status()
        return out

    async def complete(self, cursor: Cursor) -> CompletionResult | None:
        """The pipeline's result, or None when superseded, disabled or cancelled."""
        from server.completion import CompletionRequest

        if not self._server.options.settings.completion.enabled:
            return None
        self._bump("requests")
        self.prefill.request_arrived(cursor.uri, cursor.position)
        located = self._server.folders.locate(cursor.uri)
        folder, rel = located if located else (None, _outside_name(cursor.uri))
        documents = self._server.documents
        barrier = documents.flush_others(cursor.uri) if folder else None
        request = CompletionRequest(path=rel, text=cursor.text, line=cursor.line, col=cursor.col)
        seq, cancel = next(self._seq), threading.Event()
        with self._lock:
            previous = self._latest.get(cursor.uri)
            self._latest[cursor.uri] = (seq, cancel)
        if previous is not None:
            previous[1].set()

        def job() -> CompletionResult | None:
            _test_hold()
            if cancel.is_set():  # superseded while queued: never reaches the model
                return None
            if barrier is not None:  # let other buffers' just-flushed edits land first
                with contextlib.suppress(Exception):
                    barrier.result(timeout=BARRIER_TIMEOUT_S)
            overlay = documents.overlay(folder.root) if folder else None
            completer = self.completer_for(folder)
            return completer.complete(request, overlay, cancel)

        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, job)
        except asyncio.CancelledError:
            cancel.set()
            self._bump("cancelled")
            raise
        finally:
            with self._lock:
                if self._latest.get(cursor.uri, (0,))[0] == seq:
                    del self._latest[cursor.uri]
        if result is None or (cancel.is_set() and not result.text):
            self._bump("superseded")
            return None
        self._bump("completed")
        if result.error:
            log.debug("completion note: %s", result.error)
        return result

    def stop(self) -> None:
        self.prefill.stop()
        with self._lock:
            for _, event in self._latest.values():
                event.set()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _outside_name(uri: str) -> str:
    path = unquote(uri).rsplit("/", 1)[-1]
    return path or "untitled"


def accept_command(item_id: str) -> types.Command:
    return types.Command(title="Tandem: accepted", command=ACCEPT_COMMAND, arguments=[item_id])


def inline_items(ls: TandemServer, cursor: Cursor, text: str) -> list[types.InlineCompletionItem]:
    if not text:
        return []
    item_id = ls.signals.new_id()
    return [
        types.InlineCompletionItem(
            insert_text=text,
            range=types.Range(start=cursor.position, end=cursor.position),
            command=accept_command(item_id),
        )
    ]


def word_before(cursor: Cursor) -> str:
    match = _WORD.search(cursor.line_text[: cursor.col])
    return match.group(0) if match else ""


def completion_items(
    ls: TandemServer, cursor: Cursor, suggestion: str, symbols: list[types.CompletionItem]
) -> list[types.CompletionItem]:
    """The model's suggestion as one item (replacing the word being typed, so the client's
    filtering keeps it), followed by workspace symbols matching that word."""
    items: list[types.CompletionItem] = []
    word = word_before(cursor)
    if suggestion:
        start = types.Position(
            line=cursor.position.line,
            character=cursor.position.character - len(word.encode("utf-16-le")) // 2,
        )
        new_text = word + suggestion
        first_line = new_text.strip().splitlines()[0] if new_text.strip() else new_text
        items.append(
            types.CompletionItem(
                label=first_line[:80] or suggestion[:80],
                kind=types.CompletionItemKind.Text,
                detail="Tandem",
                sort_text="0",
                filter_text=new_text,
                preselect=True,
                text_edit=types.TextEdit(
                    range=types.Range(start=start, end=cursor.position), new_text=new_text
                ),
                command=accept_command(ls.signals.new_id()),
            )
        )
    items.extend(symbols)
    return items


_KIND = {
    "function": types.CompletionItemKind.Function,
    "method": types.CompletionItemKind.Method,
    "class": types.CompletionItemKind.Class,
    "struct": types.CompletionItemKind.Struct,
    "interface": types.CompletionItemKind.Interface,
    "enum": types.CompletionItemKind.Enum,
    "type": types.CompletionItemKind.TypeParameter,
    "const": types.CompletionItemKind.Constant,
    "variable": types.CompletionItemKind.Variable,
}


def symbol_items(ls: TandemServer, cursor: Cursor) -> list[types.CompletionItem]:
    """Workspace symbols whose name starts with the identifier being typed: from the open
    buffers' overlay first, then from the folder's index."""
    word = word_before(cursor)
    located = ls.folders.locate(cursor.uri)
    if len(word) < 2 or located is None:
        return []
    folder, _rel = located
    found: dict[str, tuple[str, str, int]] = {}  # name → (kind, path, line)
    overlaid = ls.documents.overlay(folder.root)
    for path, parsed in overlaid.items():
        for d in parsed.definitions:
            if d.name.startswith(word) and d.name != word:
                found.setdefault(d.name, (d.kind, path, d.start_line))
    index = folder.indexer.index()
    if index is not None:
        for name, kind, path, line in index_symbols(index, word):
            if name.startswith(word) and name != word and path not in overlaid:
                found.setdefault(name, (kind, path, line))
    items = []
    for name, (kind, path, line) in sorted(found.items())[:MAX_SYMBOLS]:
        items.append(
            types.CompletionItem(
                label=name,
                kind=_KIND.get(kind, types.CompletionItemKind.Reference),
                detail=f"{path}:{line}",
                sort_text=f"1{name}",
            )
        )
    return items


_MEMBER_KIND = {
    "method": types.CompletionItemKind.Method,
    "field": types.CompletionItemKind.Field,
    "property": types.CompletionItemKind.Property,
    "class": types.CompletionItemKind.Class,
}


def member_items(ls: TandemServer, cursor: Cursor) -> list[types.CompletionItem] | None:
    """After ``receiver.``: the members of the receiver's inferred type (signature and
    defining file), the open buffers' edits included; None when the cursor is not after a
    dot or the type is unknown (then workspace symbols are listed instead)."""
    from server.context.members import members_at_cursor

    located = ls.folders.locate(cursor.uri)
    index = located[0].indexer.index() if located is not None else None
    if located is None or index is None:
        return None
    folder, rel = located
    overlay = ls.documents.overlay(folder.root)
    members = members_at_cursor(index, rel, cursor.text, cursor.line, cursor.col, overlay)
    if not members:
        return None
    return [
        types.CompletionItem(
            label=m.name,
            kind=_MEMBER_KIND.get(m.kind, types.CompletionItemKind.Reference),
            detail=m.signature,
            label_details=types.CompletionItemLabelDetails(description=f"{m.path}:{m.line}"),
            documentation=f"{m.owner} ({m.path}:{m.line})",
            sort_text=f"1{i:04d}",
        )
        for i, m in enumerate(members[:MAX_MEMBERS])
    ]


def index_symbols(index: Any, prefix: str) -> list[tuple[str, str, str, int]]:
    """(name, kind, path, line) of indexed definitions whose name starts with ``prefix``:
    a scan of the in-memory definitions (milliseconds for tens of thousands)."""
    out = []
    for path in sorted(index.known_paths()):
        for d in index.file_definitions(path):
            if d.name.startswith(prefix):
                out.append((d.name, d.kind, path, d.start_line))
    return out


def register(server: TandemServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: TandemServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        cursor = cursor_at(ls, params.text_document.uri, params.position)
        if cursor is None:
            return types.InlineCompletionList(items=[])
        result = await ls.completion.complete(cursor)
        text = result.text if result is not None else ""
        return types.InlineCompletionList(items=inline_items(ls, cursor, text))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(ls: TandemServer, params: types.CompletionParams) -> types.CompletionList:
        cursor = cursor_at(ls, params.text_document.uri, params.position)
        if cursor is None:
            return types.CompletionList(is_incomplete=False, items=[])
        result = await ls.completion.complete(cursor)
        text = result.text if result is not None else ""
        loop = asyncio.get_running_loop()
        symbols = await loop.run_in_executor(None, member_items, ls, cursor)
        if symbols is None:
            symbols = await loop.run_in_executor(None, symbol_items, ls, cursor)
        items = completion_items(ls, cursor, text, symbols)
        return types.CompletionList(is_incomplete=True, items=items)
