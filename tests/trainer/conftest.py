"""Fixtures for the trainer tests: the fixture workspace indexed for real (LanceDB,
tree-sitter, no embedder) and the tiny test model (SmolLM2's tokenizer, a 2-layer Llama)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_model import build_tiny_model
from trainer_workspace import index_workspace, write_workspace


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    index_workspace(root)
    return root
