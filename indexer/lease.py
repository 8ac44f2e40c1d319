"""One writer at a time for an index in object storage, without a lock service.

A local index is guarded by a file lock (``indexer.sync``); a file lock means nothing to
two machines writing one ``s3://`` prefix, and Lance's commit retries do not make the
sync's delete-then-append of a path idempotent (two runs appending the same file give its
chunks twice). So writers of a remote index take a lease: one row in a ``writer_lease``
table, claimed by a conditional update (``holder = '' OR expires < now``) that Lance
commits atomically (its conditional put; a conflicting commit is retried, re-evaluating
the condition), renewed by a heartbeat, released at the end. A writer that died (or lost
the store) leaves a lease that expires after ``ttl``; the next writer then takes over and,
since the sync is crash-safe, completes what the dead one left.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pyarrow as pa

from indexer.storage import StorageError

LEASE = "writer_lease"
LEASE_SCHEMA = pa.schema(
    [("key", pa.string()), ("holder", pa.string()), ("expires_ns", pa.int64())]
)
log = logging.getLogger("tandem.lease")

DEFAULT_TTL_S = 60.0
DEFAULT_WAIT_S = 900.0
_SETTLE_S = 1.0


def _ttl() -> float:
    return float(os.environ.get("TANDEM_LEASE_TTL", DEFAULT_TTL_S))


def _max_wait() -> float:
    return float(os.environ.get("TANDEM_LEASE_WAIT", DEFAULT_WAIT_S))


def _table(db: Any) -> Any:
    """The lease table, created with its single row by whoever comes first (creating a
    table is one atomic commit: the loser of a race opens the winner's)."""
    try:
        return db.open_table(LEASE)
    except (ValueError, FileNotFoundError):
        pass
    row = pa.table({"key": ["writer"], "holder": [""], "expires_ns": [0]}, schema=LEASE_SCHEMA)
    with suppress(ValueError, OSError, RuntimeError):
        db.create_table(LEASE, data=row, mode="create")
    # Two first writers can both create it (on S3 the loser's create lands as an overwrite):
    # let that settle before anyone claims, so no claim is overwritten.
    time.sleep(_SETTLE_S)
    return db.open_table(LEASE)


def _claim(table: Any, holder: str, ttl: float) -> bool:
    now = time.time_ns()
    try:
        table.checkout_latest()
    except (ValueError, OSError, RuntimeError):
        return False
    try:
        result = table.update(
            where=f"key = 'writer' AND (holder = '' OR holder = '{holder}' OR expires_ns < {now})",
            values={"holder": holder, "expires_ns": now + int(ttl * 1e9)},
        )
    except (ValueError, OSError, RuntimeError) as e:  # a conflicting commit: not ours
        log.info("claiming the writer lease conflicted: %s", type(e).__name__)
        return False
    return int(getattr(result, "rows_updated", 0)) == 1


def current_holder(db: Any) -> tuple[str, int] | None:
    """Who holds the lease and until when (ns), or None when free or absent."""
    try:
        table = db.open_table(LEASE)
    except (ValueError, FileNotFoundError):
        return None
    table.checkout_latest()
    rows = table.to_arrow().to_pylist()
    live = [r for r in rows if r["holder"] and r["expires_ns"] > time.time_ns()]
    return (live[0]["holder"], live[0]["expires_ns"]) if live else None


@contextmanager
def writer_lease(db: Any, where: str) -> Iterator[str]:
    """Hold the writer lease of the index ``db`` for the block (waiting for another
    writer to finish, up to ``TANDEM_LEASE_WAIT`` seconds)."""
    ttl = _ttl()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    table = _table(db)
    deadline = time.monotonic() + _max_wait()
    delay = 0.1
    while not _claim(table, holder, ttl):
        if time.monotonic() > deadline:
            other = current_holder(db)
            raise StorageError(
                f"{where}: another writer ({other[0] if other else 'unknown'}) has held the "
                f"index for over {_max_wait():.0f} s"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 2.0)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(ttl / 3):
            try:
                _claim(table, holder, ttl)
            except Exception as e:  # unreachable: the writer's own calls fail too
                # (the writer's own next call fails with the one line that says why)
                log.info("renewing the writer lease failed (retrying): %s", type(e).__name__)

    beat = threading.Thread(target=heartbeat, name="tandem-lease", daemon=True)
    beat.start()
    try:
        yield holder
    finally:
        stop.set()
        beat.join(timeout=5)
        try:
            table.update(where=f"holder = '{holder}'", values={"holder": "", "expires_ns": 0})
        except Exception as e:  # unreachable store: the lease expires after ttl
            log.info("releasing the writer lease failed (it expires): %s", type(e).__name__)
