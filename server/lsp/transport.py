"""The stdio transport's guards.

``protect_stdout()`` keeps stdout for the protocol alone: it moves file descriptor 1 out of
the way so a stray ``print`` or a native library writing to fd 1 lands on stderr instead of
corrupting the JSON-RPC stream. ``BoundedReader`` keeps one absurd ``Content-Length`` header
from making the server allocate gigabytes or wait forever for a body that never comes.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import BinaryIO

log = logging.getLogger("tandem.lsp.transport")

MAX_BODY = 64 * 1024 * 1024  # bytes; larger claims are treated as a broken header
MAX_LINE = 64 * 1024  # a header line longer than this is garbage, read in pieces


class BoundedReader:
    """Wraps the protocol's input stream with limits on header lines and body sizes."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw

    def readline(self) -> bytes:
        return self._raw.readline(MAX_LINE)

    def read(self, n: int) -> bytes:
        if n > MAX_BODY:
            log.warning("ignoring a message header claiming %d bytes", n)
            return b" "  # not JSON: the message is dropped and reading resumes at the header
        return self._raw.read(n)

    def close(self) -> None:
        self._raw.close()


def protect_stdout() -> tuple[BoundedReader, BinaryIO]:
    """(input, output) for the protocol, after pointing fd 1 and ``sys.stdout`` at stderr
    so that nothing else can write to the protocol stream."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    proto_out = os.fdopen(proto_fd, "wb", buffering=0)
    return BoundedReader(sys.stdin.buffer), proto_out
