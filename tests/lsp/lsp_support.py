"""Helpers for the language server tests: the real ``tandem serve`` over stdio, driven by
pytest-lsp with VS Code's and Neovim's client capabilities, on a copy of
tests/fixtures/lsp_workspace in a temporary folder (indexing writes ``.tandem/`` into it)."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lsp_workspace"
REPO = Path(__file__).resolve().parents[2]

SERVER_CMD = [sys.executable, "-m", "server", "serve", "--stdio"]
SERVER_ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO),
    "LANCEDB_LOG": "error",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    # While this file exists the server's completion thread waits (server/lsp/completion.py):
    # tests queue requests behind a held one, whatever the machine's speed.
    "TANDEM_TEST_HOLD_FILE": str(Path(tempfile.gettempdir()) / f"tandem-hold-{os.getpid()}"),
}
HOLD_FILE = Path(SERVER_ENV["TANDEM_TEST_HOLD_FILE"])

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


async def requests_seen(client: LanguageClient, n: int, timeout: float = 10.0) -> None:
    """Wait until the server has taken ``n`` completion requests (queued or answered)."""
    deadline = time.monotonic() + timeout
    while (await status(client))["completer"]["requests"]["requests"] < n:
        assert time.monotonic() < deadline, f"the server never saw {n} completion requests"
        await asyncio.sleep(0.02)


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


class RawServer:
    """``tandem serve`` driven byte by byte: for the fuzz test, the stdout check and TCP.

    A reader thread parses everything the server writes (to stdout, or to the connection
    with ``tcp_port``) strictly (headers, Content-Length, a JSON object with
    ``"jsonrpc": "2.0"``); anything else is kept in ``bad_output`` so a test can assert
    that the stream carried protocol only.
    """

    def __init__(
        self,
        cmd: list[str],
        stderr_path: Path,
        env: dict[str, str] | None = None,
        tcp_port: int | None = None,
    ):
        self._stderr = stderr_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env or SERVER_ENV,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: BinaryIO = self.proc.stdout
        self._out: BinaryIO = self.proc.stdin
        if tcp_port is not None:
            stream = _connect(tcp_port).makefile("rwb")
            self._in = self._out = cast(BinaryIO, stream)
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.bad_output: list[bytes] = []
        self.notifications: list[dict[str, Any]] = []  # everything the server notified
        self._ids = itertools.count(1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        out = self._in
        while True:
            headers: dict[str, str] = {}
            while True:
                try:
                    line = out.readline()
                except OSError:  # the connection closed
                    return
                if not line:
                    return
                if line == b"\r\n":
                    break
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep or not line.endswith(b"\r\n"):
                    self.bad_output.append(line)
                    continue
                headers[name.strip().lower()] = value.strip()
            length = headers.get("content-length", "")
            if not length.isdigit():
                self.bad_output.append(repr(headers).encode())
                continue
            body = out.read(int(length))
            try:
                message = json.loads(body)
            except ValueError:
                self.bad_output.append(body)
                continue
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                self.bad_output.append(body)
                continue
            if "method" in message and "id" not in message:
                self.notifications.append(message)
            self.messages.put(message)

    def send_bytes(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Send a request and return its response, answering the server's own requests
        (with null) and skipping notifications meanwhile."""
        msg_id = f"req-{next(self._ids)}"
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout}s")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if message.get("id") == msg_id and "method" not in message:
                return message
            if "method" in message and "id" in message:  # a request from the server
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def close(self, timeout: float = 10.0) -> int:
        try:
            self.request("shutdown", None, timeout=timeout)
            self.notify("exit", None)
        except (OSError, TimeoutError):
            pass
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        if self._in is not self.proc.stdout:  # the TCP connection
            self._in.close()
        self._stderr.close()
        return code


def _connect(port: int, timeout: float = 30.0) -> socket.socket:
    """A connection to a server that is starting to listen on ``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raw_initialize(server: RawServer, root: Path, options: Any = None) -> dict[str, Any]:
    """Initialize a RawServer as a minimal client: no progress, no configuration pull, no
    dynamic registration (so the server never waits on us)."""
    response = server.request(
        "initialize",
        {
            "processId": None,
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {},
            "initializationOptions": FAST_OPTIONS if options is None else options,
        },
    )
    server.notify("initialized", {})
    return response


def raw_wait_indexed(server: RawServer, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = server.request("workspace/executeCommand", {"command": "tandem.status"})
        folders = state.get("result", {}).get("folders", [])
        if folders and all(f["full_syncs"] >= 1 and f["state"] == "idle" for f in folders):
            return state["result"]
        time.sleep(0.1)
    raise TimeoutError("the workspace was not indexed in time")
