"""Logs go to stderr (or a file) and, for Tandem's own loggers, to ``window/logMessage``;
never to stdout, which carries only the protocol (see ``transport.protect_stdout``)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from lsprotocol import types

# Loggers whose records may be forwarded to the editor. pygls' own loggers are excluded:
# they log every message sent, and forwarding that would loop.
FORWARDED = ("tandem", "indexer", "server")

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class LspLogHandler(logging.Handler):
    """Forwards log records to the client as ``window/logMessage`` notifications."""

    def __init__(self, send: Callable[[types.LogMessageParams], None], level: int) -> None:
        super().__init__(level)
        self._send = send
        self._busy = threading.local()
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.split(".")[0] in FORWARDED

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "on", False):  # a log call made while sending one
            return
        self._busy.on = True
        try:
            kind = _LEVELS.get(record.levelno, types.MessageType.Log)
            if record.levelno >= logging.ERROR:
                kind = types.MessageType.Error
            self._send(types.LogMessageParams(type=kind, message=self.format(record)))
        except Exception:
            self.handleError(record)
        finally:
            self._busy.on = False


def setup_logging(log_file: str | None = None, level: int = logging.INFO) -> None:
    """Send every log record to stderr or to ``log_file``, never to stdout."""
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # pygls logs each message it sends at INFO; keep that out of the log unless debugging.
    logging.getLogger("pygls").setLevel(max(level, logging.WARNING))


def attach_lsp_handler(
    send: Callable[[types.LogMessageParams], None], level: int = logging.INFO
) -> LspLogHandler:
    handler = LspLogHandler(send, level)
    logging.getLogger().addHandler(handler)
    return handler
