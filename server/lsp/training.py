"""``tandem.train`` from the editor: a LoRA run in the background with cancellable
``$/progress``, and completion kept on the newest adapter.

The command answers at once (``{"started": ...}``); the run reports ``$/progress`` until it
ends, and the user can cancel it from the progress notification (a checkpoint is kept, so
the same command resumes it). When it ends, the completers load the new adapter. A timer
also notices adapters written outside the server (``tandem train`` in a terminal,
``tandem forget --retrain``) or deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams, JsonRpcInvalidRequest

if TYPE_CHECKING:
    from server.lsp.indexing import ProgressSink
    from server.lsp.server import TandemServer
    from server.trainer import TrainingHandle, TrainProgress

log = logging.getLogger("tandem.lsp.training")

TRAIN = "tandem.train"
PROGRESS_KIND = "train"  # $/progress tokens are "tandem-train-<n>"
ADAPTER_POLL_S = 5.0


class TrainingService:
    """At most one training run per server, and the adapter poll."""

    def __init__(self, server: TandemServer) -> None:
        self._server = server
        self._lock = threading.Lock()
        self._handle: TrainingHandle | None = None
        self._starting = False  # between the checks and the handle, see start()
        self._state: dict[str, Any] = {}  # folder, model, progress, outcome, adapter
        self._poller: asyncio.Task[None] | None = None

    # -- the command ------------------------------------------------------------------

    def start(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """Start a run on the first workspace folder; options as ``tandem train``'s, with
        the base model defaulting to the one completion uses."""
        from server.lsp.indexing import Progress

        try:
            from server.trainer import TrainOptions, start_training
        except ImportError as e:  # pragma: no cover - the trainer ships with the server
            raise JsonRpcInternalError(f"{TRAIN}: the trainer is not available ({e})") from e
        folders = list(self._server.folders)
        if not folders:
            raise JsonRpcInvalidParams(f"{TRAIN}: no workspace folder is open")
        if args and args[0] is not None and not isinstance(args[0], dict):
            raise JsonRpcInvalidParams(f"{TRAIN}: the argument must be an object of train options")
        raw = dict(args[0]) if args and args[0] else {}
        raw.setdefault("model", self._server.options.settings.model.model)
        try:
            options = TrainOptions.from_mapping(raw)
        except (TypeError, ValueError) as e:
            raise JsonRpcInvalidParams(f"{TRAIN}: {e}") from None
        problems = options.validate()
        if problems:
            raise JsonRpcInvalidParams(f"{TRAIN}: {'; '.join(problems)}")
        folder = folders[0]
        with self._lock:
            if self._starting or (self._handle is not None and not self._handle.done):
                raise JsonRpcInvalidRequest(
                    f"{TRAIN}: a training run is already in progress on "
                    f"{self._state.get('folder')}; cancel it from its progress notification"
                )
            self._starting = True
            self._state = {"folder": folder.name, "model": options.model}
        # Not under the lock: beginning the progress waits for the client's answer, and the
        # event loop may meanwhile ask for the status or deliver a cancel.
        sink = self._server.progress_sink(PROGRESS_KIND, cancellable=True)
        try:
            sink(Progress("begin", title=f"Tandem: training on {folder.name}", message="starting"))
            handle = start_training(
                folder.root,
                options,
                progress_cb=lambda p: self._report(sink, p),
                on_done=lambda h: self._finished(sink, h),
                index=folder.indexer.index(),  # wherever index.db puts it
            )
        except Exception as e:
            sink(Progress("end", message=f"training failed: {e}", percentage=100))
            with self._lock:
                self._starting = False
                self._state["outcome"] = f"training failed: {e}"
            raise JsonRpcInternalError(f"{TRAIN}: {type(e).__name__}: {e}") from e
        with self._lock:
            self._handle, self._starting = handle, False
        log.info("training started on %s (%s)", folder.root, options.model)
        return {"started": True, "folder": str(folder.root), "model": options.model}

    def cancel(self) -> bool:
        """Stop the run after its current step (a checkpoint makes it resumable)."""
        with self._lock:
            handle = self._handle
        if handle is None or handle.done:
            return False
        handle.cancel()
        return True

    def status(self) -> dict[str, Any]:
        with self._lock:
            running = self._starting or (self._handle is not None and not self._handle.done)
            return {"running": running, **self._state}

    def _report(self, sink: ProgressSink, p: TrainProgress) -> None:
        from server.lsp.indexing import Progress

        message = p.describe()
        with self._lock:
            self._state["progress"] = message
        if p.phase != "done":
            sink(Progress("report", message=message, percentage=round(100 * p.fraction)))

    def _finished(self, sink: ProgressSink, handle: TrainingHandle) -> None:
        from server.lsp.indexing import Progress

        error = handle.error
        if error is None and handle.manifest is not None:
            h = handle.manifest.holdout
            scores = ""
            if h.bits_per_token_before is not None and h.bits_per_token_after is not None:
                scores = (
                    f" (held-out bits/token {h.bits_per_token_before:.2f} → "
                    f"{h.bits_per_token_after:.2f})"
                )
            outcome, failed = f"adapter saved to {handle.adapter}{scores}", False
        elif handle.cancelled:
            outcome, failed = "cancelled; run Tandem: Train Adapter again to resume", False
        else:
            outcome, failed = f"training failed: {error}", True
        with self._lock:
            self._state["outcome"] = outcome
            self._state["adapter"] = str(handle.adapter) if handle.adapter else None
        sink(Progress("end", message=outcome, percentage=100))
        log.log(logging.ERROR if failed else logging.INFO, "training: %s", outcome)
        kind = types.MessageType.Error if failed else types.MessageType.Info
        self._server.post(
            self._server.window_show_message,
            types.ShowMessageParams(type=kind, message=f"Tandem: {outcome}"),
        )
        self.refresh_adapters()

    # -- the adapter completion uses --------------------------------------------------

    def refresh_adapters(self) -> None:
        """Let every completer switch to a new, rewritten or deleted adapter."""
        for completer in self._server.completion.completers():
            with contextlib.suppress(Exception):  # a bad adapter is reported on load
                if completer.refresh_adapter():
                    log.info("adapter changed for %s: reloading the model", completer.root)

    def start_polling(self) -> None:
        if self._poller is None and self._server.loop is not None:
            self._poller = self._server.loop.create_task(self._poll())

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(ADAPTER_POLL_S)
            with contextlib.suppress(Exception):
                await loop.run_in_executor(None, self.refresh_adapters)

    def stop(self) -> None:
        self.cancel()
        if self._poller is not None:
            self._poller.cancel()


def register(server: TandemServer) -> None:
    from server.lsp.server import TandemServer as _TandemServer

    # pygls resolves command handlers' annotations at run time (see commands.py).
    globals()["TandemServer"] = _TandemServer

    @server.command(TRAIN)
    async def cmd_train(ls: TandemServer, *args: Any) -> dict[str, Any]:
        # Off the event loop: starting the progress waits for the client's answer.
        return await asyncio.get_running_loop().run_in_executor(None, ls.training.start, args)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def on_progress_cancel(ls: TandemServer, params: types.WorkDoneProgressCancelParams) -> None:
        if str(params.token).startswith(f"tandem-{PROGRESS_KIND}-") and ls.training.cancel():
            log.info("training cancelled by the user; run tandem.train again to resume")
