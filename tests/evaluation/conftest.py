"""The context tests' fixture workspace, indexed for the evaluation tests; the tiny test
model; a small git history (``history_repo.py``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

WORKSPACE = Path(__file__).parent.parent / "context" / "workspace"


@pytest.fixture(scope="module")
def eval_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    root = tmp_path_factory.mktemp("eval") / "ws"
    shutil.copytree(WORKSPACE, root)
    sync(root, IndexSettings(embedder="none"))
    return root, open_index(root)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
