"""A small real workspace (tests/context/workspace), indexed with the real indexer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

WORKSPACE = Path(__file__).parent / "workspace"


def index_copy(dest: Path, embedder: str) -> Any:
    """Copy the fixture workspace to ``dest``, index it, and open the index."""
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    shutil.copytree(WORKSPACE, dest)
    sync(dest, IndexSettings(embedder=embedder))
    return open_index(dest)


@pytest.fixture(scope="session")
def ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """(root, index) of the fixture workspace, lexical only."""
    root = tmp_path_factory.mktemp("ctx") / "ws"
    return root, index_copy(root, "none")


@pytest.fixture(scope="session")
def ws_minilm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """(root, index) of the fixture workspace with MiniLM vectors."""
    root = tmp_path_factory.mktemp("ctx_minilm") / "ws"
    return root, index_copy(root, "minilm")
