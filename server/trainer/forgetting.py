"""What ``tandem forget`` and ``tandem status`` ask of the trainer.

Retrieval forgets a file the moment it leaves the index; an adapter cannot. These functions
name the adapters that have seen a file, retrain one without it (in place, so whatever
loads that folder picks up the replacement), and say how stale the active adapter is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from server.trainer.manifest import (
    Manifest,
    active_adapter,
    adapters_containing,
    read_manifest,
    staleness,
)
from server.trainer.options import TrainOptions
from server.trainer.progress import ProgressCallback


def workspace_relpaths(root: Path, paths: Iterable[str]) -> list[str]:
    """Paths as the index stores them (relative to ``root``, POSIX), from what a user typed
    (absolute, or relative to the current folder or to the root)."""
    out = []
    for raw in paths:
        p = Path(raw).expanduser()
        candidates = [p] if p.is_absolute() else [Path.cwd() / p, root / p]
        for c in candidates:
            try:
                rel = Path(os.path.normpath(c.absolute())).relative_to(root)
            except ValueError:
                continue
            out.append(rel.as_posix())
            break
        else:
            out.append(p.as_posix().strip("/"))
    return sorted(set(out))


def adapters_with(root: Path, paths: Iterable[str]) -> list[dict[str, Any]]:
    """The adapters under ``<root>/.tandem/adapters`` trained on any of ``paths``:
    ``[{"adapter": folder, "files": [matching training files]}]``."""
    rel = workspace_relpaths(root, paths)
    return [
        {"adapter": str(folder), "files": files} for folder, files in adapters_containing(root, rel)
    ]


def retrain_without(
    root: Path,
    adapter: Path,
    paths: Iterable[str],
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Manifest:
    """Train a replacement for ``adapter`` with its recorded settings, minus ``paths``, and
    write it over the old one (the swap is atomic: no reader sees a mix)."""
    from server.trainer.train import train

    old = read_manifest(adapter)
    options = TrainOptions.from_hyperparameters(old.hyperparameters)
    options.model = old.base_model
    options.out = str(adapter)
    options.exclude = sorted({*old.excluded_files, *workspace_relpaths(root, paths)})
    return train(root, options, progress=progress, should_stop=should_stop)


def adapter_status(root: Path, indexed: Iterable[str] | None, configured: str | None = None) -> Any:
    """For the active adapter: its folder and how many training files changed or were
    deleted (or forgotten) since it was trained; None when there is no adapter."""
    folder = active_adapter(root, configured)
    if folder is None:
        return None
    try:
        manifest = read_manifest(folder)
    except ValueError as e:
        return {"path": str(folder), "error": str(e)}
    s = staleness(root, manifest, indexed)
    return {
        "path": str(folder),
        "trained": manifest.created,
        "training_files": s.total,
        "changed": len(s.changed),
        "deleted": len(s.deleted),
    }
