"""Helpers for the language server tests: the real ``tandem serve`` over stdio, driven by
pytest-lsp with VS Code's and Neovim's client capabilities, on a copy of
tests/fixtures/lsp_workspace in a temporary folder (indexing writes ``.tandem/`` into it)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lsp_workspace"
REPO = Path(__file__).resolve().parents[2]

SERVER_CMD = [sys.executable, "-m", "server.cli.serve_cmd", "--stdio"]  # TEMP
SERVER_ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO),
    "LANCEDB_LOG": "error",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
}

# Fast settings for most tests: no embedder (symbol + full-text retrieval only) and the
# retrieval backend (the model path is tested by the completion tests).
FAST_OPTIONS: dict[str, Any] = {
    "index": {"embedder": "none"},
    "model": {"backend": "retrieval"},
    "completion": {"debounce_ms": 20},
}

VSCODE = "visual-studio-code"
NEOVIM = "neovim"


def make_client() -> LanguageClient:
    """pytest-lsp's test client, plus ``client/registerCapability`` as VS Code answers it
    (pytest-lsp leaves it out), recording what the server registered."""
    client = pytest_lsp.make_test_lsp_client()
    client.registrations = []  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register_capability(ls: LanguageClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    return client


CONFIG = ClientServerConfig(
    server_command=SERVER_CMD, server_env=SERVER_ENV, client_factory=make_client
)


def init_params(
    root: Path | None, preset: str = VSCODE, options: Any = None
) -> types.InitializeParams:
    folders = [types.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None
    return types.InitializeParams(
        capabilities=client_capabilities(preset),
        workspace_folders=folders,
        root_uri=root.as_uri() if root else None,
        initialization_options=FAST_OPTIONS if options is None else options,
    )


async def wait_for(
    predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05
) -> Any:
    """Poll ``predicate`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        await asyncio.sleep(interval)


def progress_kinds(client: LanguageClient) -> list[list[str]]:
    """The kinds (begin/report/end) of each progress token's reports, in order."""
    out = []
    for reports in client.progress_reports.values():
        out.append([r.kind for r in reports])
    return out


async def wait_indexed(client: LanguageClient, count: int = 1, timeout: float = 60.0) -> None:
    """Wait until ``count`` indexing progress sequences have ended."""

    def ended() -> bool:
        return sum(1 for kinds in progress_kinds(client) if kinds and kinds[-1] == "end") >= count

    await wait_for(ended, timeout)


async def status(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tandem.status")
    )


async def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri,
                language_id="python",
                version=1,
                text=path.read_text() if text is None else text,
            )
        )
    )
    return uri


async def inline(client: LanguageClient, uri: str, line: int, character: int) -> Any:
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
