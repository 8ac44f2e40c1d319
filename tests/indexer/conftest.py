"""Fixtures for the indexer tests: small real workspaces."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from index_helpers import SAMPLE, write


@pytest.fixture
def workspace(tmp_path: Path) -> Callable[..., Path]:
    """``workspace(files=SAMPLE)`` → a folder holding those files."""

    def make(files: dict[str, str | bytes] | None = None, name: str = "ws") -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        write(root, SAMPLE if files is None else files)
        return root

    return make
