"""A local delta over a shared base index: which files of the working tree differ from it.

The base (``index.base``, e.g. ``s3://bucket/repo``, built by CI at a known commit) is only
read. A walked file is *clean* when it is the base's: when the base was built from a clean
checkout of a commit, git says which files differ from that commit (``git diff`` against
it, with git's own stat cache, so nothing else is read); otherwise, and for any path git
cannot vouch for (not tracked at that commit, no git, an unknown commit), the file's
content hash is compared with the base's row. Every other walked file is in the delta and
indexed locally; a base file that the walk no longer finds (deleted, or now ignored) is
recorded in the delta's ``deleted`` table, which hides it. ``indexer.search.Index`` layers
the two.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
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
    # A base changes when CI runs: its readers need not list its versions at each read
    # (the explicit checkout below sees the latest; ``Index.refresh`` polls for newer).
    consistency = timedelta(seconds=max(0.0, settings.consistency_s))
    store = Store.open(settings.base, settings.storage_options, consistency)
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
    entries: list[WalkEntry],
    base: Base,
    stored: dict[str, FileRow],
    max_bytes: int,
    unchanged: frozenset[str] = frozenset(),
    read: dict[str, tuple[str, str]] | None = None,
) -> tuple[list[WalkEntry], list[str]]:
    """(entries that differ from the base, paths identical to it). ``unchanged``: paths
    git vouches for (``git_unchanged``), clean without reading. A file whose local row
    still matches its stat is judged by that row's hash, without reading it. ``read``
    receives path → (redacted text, its hash) of the differing files read here, so that
    indexing them does not read and redact them again."""
    delta: list[WalkEntry] = []
    clean: list[str] = []
    for entry in entries:
        theirs = base.files.get(entry.path)
        if theirs is None:
            delta.append(entry)
            continue
        if entry.path in unchanged:
            clean.append(entry.path)
            continue
        ours = stored.get(entry.path)
        if ours is not None and (ours.mtime_ns, ours.size) == (entry.mtime_ns, entry.size):
            h = ours.content_hash
        else:
            text = read_source(entry.abspath, max_bytes, rel=entry.path)
            if isinstance(text, Skipped):
                delta.append(entry)  # the sync reports it skipped (and so deleted)
                continue
            text = redact(text)
            h = content_hash(text)
            if h != theirs.content_hash and read is not None:
                read[entry.path] = (text, h)
        if h == theirs.content_hash:
            clean.append(entry.path)
        else:
            delta.append(entry)
    return delta, clean


def git_unchanged(root: Path, base: Base) -> frozenset[str]:
    """The base's paths that git says are, in the working tree at ``root``, as they were at
    the commit the base was built from: tracked at that commit and not in ``git diff``
    against it (staged, unstaged or deleted). Empty when git cannot tell: no commit
    recorded, a base built from a dirty tree, not a git work tree, an unknown commit."""
    commit = base.meta.get("commit", "")
    if not commit or base.meta.get("commit_dirty") != "false":
        return frozenset()
    tracked = _git_paths(root, ["ls-tree", "-r", "--name-only", "-z", commit])
    changed = _git_paths(root, ["diff", "--name-only", "--relative", "--no-renames", "-z", commit])
    if tracked is None or changed is None:
        return frozenset()
    return frozenset(p for p in tracked if p in base.files and p not in changed)


def _git_paths(root: Path, args: list[str]) -> set[str] | None:
    """NUL-separated paths printed by a git command run in ``root`` (relative to it), or
    None when git fails (not a repository, unknown commit, no git)."""
    try:
        out = subprocess.run(
            ["git", "--no-optional-locks", "-C", str(root), *args],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


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
