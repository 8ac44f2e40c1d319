"""Fixtures for the team tests: one local S3 server (moto, authentication on) per session,
a fresh bucket and a git workspace per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import S3Server, git_workspace

# Every test starts real processes (moto, the tandem CLI or server): seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    return s3.new_bucket()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout of main (the LSP fixture workspace, committed to git)."""
    return git_workspace(tmp_path / "main")
