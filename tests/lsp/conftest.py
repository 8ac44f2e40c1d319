"""Fixtures for the language server tests: the real ``tandem serve`` over stdio, driven by
pytest-lsp, on a copy of tests/fixtures/lsp_workspace in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import CONFIG, FIXTURE, init_params
from pytest_lsp import LanguageClient


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(FIXTURE, root)
    return root


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, workspace: Path):
    """A VS Code-like client, initialized on the fixture workspace."""
    await lsp_client.initialize_session(init_params(workspace))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=CONFIG)
async def bare_client(lsp_client: LanguageClient):
    """A started server that the test initializes itself."""
    yield
    await lsp_client.shutdown_session()
