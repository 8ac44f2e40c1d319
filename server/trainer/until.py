"""``train --until REV``: the tree committed at REV, indexed in a scratch folder.

Training on it instead of the files on disk gives a temporal split: nothing committed after
REV (the answers of ``tandem eval --history`` on later commits) can reach the adapter. The
user's working tree, ``.git`` and index are only read (see ``server.gitsnapshot``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.gitsnapshot import GitError, Snapshot, repo_root, resolve_commit
from server.trainer.progress import ProgressCallback, TrainProgress


class UntilError(ValueError):
    """REV cannot be trained on (not a git repository, no such revision)."""


@dataclass(frozen=True)
class TreeAt:
    path: Path  # the workspace's folder inside the scratch clone
    index: Any  # that folder's index (lexical: examples need chunks, not vectors)
    commit: str


@contextmanager
def tree_at(root: Path, rev: str, report: ProgressCallback) -> Iterator[TreeAt]:
    """The workspace ``root`` as committed at ``rev``, indexed; removed afterwards."""
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    try:
        top = repo_root(root)
        commit = resolve_commit(top, rev)
    except GitError as e:
        raise UntilError(f"--until {rev}: {e}") from None
    scratch = Path(tempfile.mkdtemp(prefix="tandem-until-"))
    try:
        snapshot = Snapshot(top, scratch, ignore_from=root)
        report(TrainProgress("examples", message=f"indexing the tree at {commit[:12]}"))
        source = snapshot.checkout(commit) / root.relative_to(top)
        if not source.is_dir():
            raise UntilError(f"--until {rev}: {root.relative_to(top)} does not exist there")
        sync(source, IndexSettings(embedder="none", db=snapshot.index_db))
        yield TreeAt(source, open_index(source, snapshot.index_db), commit)
    finally:
        Snapshot.remove_dir(scratch)
