"""A local delta over a shared base index: which files of the working tree differ from it.

The base (``index.base``, e.g. ``s3://bucket/repo``, built by CI at a known commit) is only
read. A walked file is *clean* when its content hash equals the base's row for that path
(content, not commit ancestry: a dirty base, a rebased branch or no git at all give the
right answer); every other walked file is in the delta and indexed locally; a base file
that the walk no longer finds (deleted, or now ignored) is recorded in the delta's
``deleted`` table, which hides it. ``indexer.search.Index`` layers the two.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.secrets import redact
from indexer.store import FILES, FileRow, Store
from indexer.types import Skipped, content_hash
from indexer.walk import WalkEntry, read_source
from server.settings import IndexSettings


@dataclass
class Base:
    """What the delta is computed against: the base's files at one version."""

    store: Store
    files: dict[str, FileRow]
    meta: dict[str, str]
    version: str

    @property
    def vector_slug(self) -> str:
        """The base's embedder and precision (its vectors table): the delta embeds alike."""
        return self.meta.get("embedder_slug", "")


def open_base(settings: IndexSettings) -> Base | None:
    """The configured base, read once (None when no base is configured)."""
    if not settings.base:
        return None
    store = Store.open(settings.base, settings.storage_options)
    with store.errors():
        table = store.table(FILES)
        if table is None:
            raise FileNotFoundError(f"no index at {store.display_uri()} (the base index)")
        table.checkout_latest()
        version = str(int(table.version))
        return Base(store, store.files(), store.meta(), version)


def adopt_embedder(settings: IndexSettings, base: Base | None) -> IndexSettings:
    """The delta embeds with the base's embedder, so their vectors are comparable."""
    if base is None:
        return settings
    return dataclasses.replace(settings, embedder=base.meta.get("embedder") or "none")


def split(
    entries: list[WalkEntry], base: Base, stored: dict[str, FileRow], max_bytes: int
) -> tuple[list[WalkEntry], list[str]]:
    """(entries that differ from the base, paths identical to it). A file whose local row
    still matches its stat is judged by that row's hash, without reading it."""
    delta: list[WalkEntry] = []
    clean: list[str] = []
    for entry in entries:
        theirs = base.files.get(entry.path)
        if theirs is None:
            delta.append(entry)
            continue
        ours = stored.get(entry.path)
        if ours is not None and (ours.mtime_ns, ours.size) == (entry.mtime_ns, entry.size):
            h = ours.content_hash
        else:
            text = read_source(entry.abspath, max_bytes, rel=entry.path)
            if isinstance(text, Skipped):
                delta.append(entry)  # the sync reports it skipped (and so deleted)
                continue
            h = content_hash(redact(text))
        if h == theirs.content_hash:
            clean.append(entry.path)
        else:
            delta.append(entry)
    return delta, clean


def base_meta(base: Base) -> dict[str, str]:
    """Meta keys of the delta naming the base it was computed against."""
    return {
        "base_uri": base.store.display_uri(),  # never credentials (see indexer.storage)
        "base_version": base.version,
        "base_commit": base.meta.get("commit", ""),
        "delta_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def git_commit(root: Path) -> tuple[str, bool] | None:
    """(HEAD, dirty) of the git work tree at ``root``, or None outside git."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return (head, bool(status.strip())) if head else None
