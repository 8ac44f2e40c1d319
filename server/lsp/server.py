"""The ``tandem`` language server: state shared by the feature modules, the protocol's
robustness fixes, and the lifecycle (initialize → initialized → shutdown).

Each feature lives in its own module with a ``register(server)`` function; handlers there
are thin and call plain functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from server.lsp import (
    commands,
    completion,
    documents,
    indexing,
    logging_setup,
    options,
    signals,
    training,
    watched_files,
    workspaces,
)
from server.settings import Settings

log = logging.getLogger("tandem.lsp.server")

NAME = "tandem"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tandem")
    except Exception:
        return "0"


class _BadRequest:
    """A request whose params did not fit its method: answered with an error."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, error: JsonRpcException) -> None:
        self.id = msg_id
        self.error = error


class TandemProtocol(LanguageServerProtocol):
    """pygls' protocol, but a request with malformed params gets a JSON-RPC error
    response (pygls only logs it, leaving the client waiting forever)."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as e:
            msg_id = data.get("id")
            if "method" in data and isinstance(msg_id, str | int) and not isinstance(msg_id, bool):
                return _BadRequest(msg_id, e)
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _BadRequest):
            error = message.error
            if not isinstance(error, JsonRpcInvalidParams):
                error = JsonRpcInvalidParams(str(error) or "invalid params")
            self._send_response(message.id, None, error.to_response_error())
            return
        if not hasattr(message, "jsonrpc"):
            raise JsonRpcInvalidRequest(f"not a JSON-RPC message: {type(message).__name__}")
        if getattr(message, "method", None) == types.EXIT and isinstance(
            self.writer, asyncio.StreamWriter
        ):
            # Over TCP, pygls would sys.exit() inside asyncio's connection callback, which
            # asyncio reports as an unhandled exception: stop the server's loop instead;
            # `tandem serve` then exits with the LSP exit code.
            self.writer.close()
            self._server.shutdown()
            return
        super().handle_message(message)


class TandemServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(NAME, _version(), protocol_cls=TandemProtocol, max_workers=4)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.options = options.Options()
        self.folders = workspaces.Workspaces()
        self.documents = documents.Documents(self)
        self.signals = signals.Signals()
        self.completion = completion.CompletionService(self)
        self.training = training.TrainingService(self)
        self.watchers = watched_files.Watchers()
        self.progress_enabled = False
        self._progress_tokens = 0
        self.init_params: types.InitializeParams | None = None

    # -- sending from any thread ----------------------------------------------------------
    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop: pygls' writers are not thread-safe."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
            loop.call_soon_threadsafe(fn, *args)

    def log_to_client(self, params: types.LogMessageParams) -> None:
        self.post(self.window_log_message, params)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request (a malformed message, a failing notification) are
        logged, not shown: a burst of bad input must not flood the user with pop-ups."""
        log.warning("ignored bad input or a failing notification: %s", error)

    # -- folders and progress -------------------------------------------------------------
    def add_folder(self, uri: str, name: str) -> None:
        folder = self.folders.add(
            uri, name, self.options.settings, self.progress_sink(), self.show_warning
        )
        if folder is not None and self.loop is not None:
            self.watchers.ensure(self, folder)
        if folder is not None and self.options.settings.completion.enabled:
            # The model starts loading now, in the background, not at the first keystroke.
            self.completion.completer_for(folder)

    def show_warning(self, message: str) -> None:
        """``window/showMessage`` from any thread."""
        params = types.ShowMessageParams(type=types.MessageType.Warning, message=message)
        self.post(self.window_show_message, params)

    def progress_sink(
        self, kind: str = "index", cancellable: bool = False
    ) -> indexing.ProgressSink:
        """A callback, callable from any thread, that turns begin/report/end records into
        work-done ``$/progress`` with tokens ``tandem-<kind>-<n>`` (or log lines when the
        client has no progress UI)."""
        state: dict[str, Any] = {"token": None}

        def sink(p: indexing.Progress) -> None:
            if not self.progress_enabled or self.loop is None:
                log.info("%s %s %s", p.title or "indexing", p.message, p.percentage or "")
                return
            if p.kind == "begin":
                self._progress_tokens += 1
                token = f"tandem-{kind}-{self._progress_tokens}"
                begin = self._begin(token, p, cancellable)
                fut = asyncio.run_coroutine_threadsafe(begin, self.loop)
                try:
                    state["token"] = token if fut.result(timeout=10) else None
                except Exception:
                    state["token"] = None
                return
            token = state["token"]
            if token is None:
                return
            if p.kind == "report":
                value: Any = types.WorkDoneProgressReport(
                    message=p.message, percentage=p.percentage
                )
                self.post(self.work_done_progress.report, token, value)
            else:
                value = types.WorkDoneProgressEnd(message=p.message)
                self.post(self.work_done_progress.end, token, value)
                state["token"] = None

        return sink

    async def _begin(self, token: str, p: indexing.Progress, cancellable: bool) -> bool:
        try:
            await self.work_done_progress.create_async(token)
        except Exception as e:
            log.info("the client refused a progress token: %s", e)
            return False
        self.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=p.title, message=p.message, percentage=0, cancellable=cancellable
            ),
        )
        return True

    # -- settings -------------------------------------------------------------------------
    def settings_changed(self, old: Settings, new: Settings) -> None:
        for folder in self.folders:
            folder.indexer.update_settings(new)
        if new.model != old.model or new.completion != old.completion:
            self.completion.reload()

    def stop_all(self) -> None:
        self.watchers.stop()
        self.folders.stop()
        self.documents.stop()
        self.training.stop()
        self.completion.stop()


def create_server() -> TandemServer:
    server = TandemServer()

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: TandemServer, params: types.InitializeParams) -> None:
        ls.init_params = params
        ls.options.init_raw = options.unwrap(params.initialization_options)
        settings, errors = ls.options.compute()
        ls.options.settings, ls.options.errors = settings, errors
        options.show_errors(ls, errors, "initializationOptions")
        window = params.capabilities.window
        ls.progress_enabled = bool(window and window.work_done_progress)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: TandemServer, params: types.InitializedParams) -> None:
        ls.loop = asyncio.get_running_loop()
        logging_setup.attach_lsp_handler(ls.log_to_client)
        ls.documents.warm_up()
        await options.pull(ls)
        ls.watchers.client_watches = await watched_files.register_watchers(ls)
        ls.training.start_polling()
        init = ls.init_params
        for uri, name in workspaces.initial_folders(init) if init else []:
            ls.add_folder(uri, name)
        if not len(ls.folders):
            log.info("no workspace folder: completions use the open buffer only")

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: TandemServer, params: Any) -> None:
        ls.stop_all()

    features = (options, workspaces, documents, watched_files, completion, commands, training)
    for module in (*features, signals):
        module.register(server)
    return server
