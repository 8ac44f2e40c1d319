"""A ``Progress`` callback for the indexer drawn as rich progress bars on stderr."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from indexer.sync import Progress

_LABELS = {"scan": "scanning", "index": "indexing", "embed": "embedding"}


@contextmanager
def progress_bars(enabled: bool = True) -> Iterator[Progress | None]:
    """Yields a callback (or None when disabled or stderr is not a terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

    bars = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int, message: str) -> None:
        task = tasks.get(phase)
        if task is None:
            task = tasks[phase] = bars.add_task(_LABELS.get(phase, phase), total=total or None)
        bars.update(task, completed=done, total=total or None)

    with bars:
        yield update
