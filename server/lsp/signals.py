"""Copilot-style telemetry, kept local: how many suggestions were shown, accepted, or
partly accepted. The counts live in memory, appear in ``tandem.status``, and are never sent
anywhere."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.lsp.server import TandemServer

DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
ACCEPT_COMMAND = "tandem.acceptCompletion"


@dataclass
class SignalCounts:
    offered: int = 0  # items returned to the editor
    shown: int = 0  # didShowCompletion
    accepted: int = 0  # the item's command ran
    partially_accepted: int = 0  # didPartiallyAcceptCompletion
    accepted_chars: int = 0  # characters kept by partial accepts


class Signals:
    """Thread-safe counters plus the ids of items offered, so an acceptance counts once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._counts = SignalCounts()
        self._accepted: set[str] = set()

    def new_id(self) -> str:
        with self._lock:
            self._counts.offered += 1
            return f"t{next(self._ids)}"

    def shown(self) -> None:
        with self._lock:
            self._counts.shown += 1

    def accepted(self, item_id: str | None) -> bool:
        """Count an acceptance; a second acceptance of the same item is ignored."""
        with self._lock:
            if item_id is not None:
                if item_id in self._accepted:
                    return False
                self._accepted.add(item_id)
            self._counts.accepted += 1
            return True

    def partially_accepted(self, length: int) -> None:
        with self._lock:
            self._counts.partially_accepted += 1
            self._counts.accepted_chars += max(0, length)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return asdict(self._counts)


def _accepted_length(params: Any) -> int:
    """``acceptedLength`` from Copilot's notification, tolerant of shape."""
    value = params.get("acceptedLength") if isinstance(params, dict) else None
    if value is None:
        value = getattr(params, "acceptedLength", getattr(params, "accepted_length", 0))
    return value if isinstance(value, int) else 0


def register(server: TandemServer) -> None:
    @server.feature(DID_SHOW)
    def did_show(ls: TandemServer, params: Any) -> None:
        ls.signals.shown()

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: TandemServer, params: Any) -> None:
        ls.signals.partially_accepted(_accepted_length(params))
