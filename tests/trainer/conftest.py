"""Fixtures for the trainer tests: the fixture workspace indexed for real (LanceDB,
tree-sitter, no embedder) and the tiny test model (SmolLM2's tokenizer, a 2-layer Llama)."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from helpers.tiny_model import build_tiny_model
from trainer_workspace import Trained, index_workspace, write_workspace


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    index_workspace(root)
    return root


TRAIN_ARGS = ["--max-steps", "8", "--lr", "2e-2", "--seq-len", "64", "--batch-size", "2"]


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Trained:
    """The fixture workspace, indexed, with one adapter trained by ``tandem train`` (the
    files of 4 eval points kept out). Tests that change it work on a copy."""
    from server.cli import main

    root = write_workspace(tmp_path_factory.mktemp("trained") / "ws")
    index_workspace(root)
    out = io.StringIO()
    argv = ["train", str(root), "--model", str(tiny_model), *TRAIN_ARGS, "--eval-points", "4"]
    with contextlib.redirect_stdout(out):
        assert main([*argv, "--json"]) == 0
    manifest = json.loads(out.getvalue())
    (adapter,) = (root / ".tandem" / "adapters").iterdir()
    return Trained(root, adapter, manifest, tiny_model)


@pytest.fixture
def trained_copy(trained: Trained, tmp_path: Path) -> Trained:
    root = tmp_path / "ws"
    shutil.copytree(trained.root, root)
    adapter = root / ".tandem" / "adapters" / trained.adapter.name
    return Trained(root, adapter, trained.manifest, trained.tiny_model)
