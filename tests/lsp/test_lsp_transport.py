"""stdout carries protocol only; logs go to stderr or a log file and to window/logMessage;
bad input gets an error or an empty result and the server stays up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsp_support import (
    REPO,
    SERVER_CMD,
    RawServer,
    free_port,
    raw_initialize,
    raw_wait_indexed,
)

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow

# A library that prints (or writes to fd 1 from native code) while the server runs.
# (Before ``tandem serve`` starts serving, stdout is still the terminal's.)
NOISY_SERVER = [
    sys.executable,
    "-c",
    "import os, sys, threading, time\n"
    "def noise():\n"
    "    while sys.stdout is sys.__stdout__:  # until the server is serving\n"
    "        time.sleep(0.05)\n"
    "    time.sleep(0.5)\n"
    "    print('stray print from a library', flush=True)\n"
    "    os.write(1, b'stray native write\\n')\n"
    "threading.Thread(target=noise, daemon=True).start()\n"
    f"sys.path.insert(0, {str(REPO)!r})\n"
    "from server.cli import main\n"
    "sys.exit(main(['serve', '--stdio'] + sys.argv[1:]))\n",
]


def test_stdout_carries_only_protocol_even_when_something_prints(
    workspace: Path, tmp_path: Path
) -> None:
    server = RawServer(NOISY_SERVER, tmp_path / "stderr.log")
    try:
        assert "result" in raw_initialize(server, workspace)
        raw_wait_indexed(server)
        import time

        time.sleep(1.2)  # the noise has been written by now
        response = server.request("workspace/executeCommand", {"command": "tandem.status"})
        assert response["result"]["folders"]
    finally:
        assert server.close() == 0
    assert server.bad_output == []
    stderr = (tmp_path / "stderr.log").read_text()
    assert "stray print from a library" in stderr
    assert "stray native write" in stderr
    assert "serving over stdio" in stderr


def test_bad_requests_get_errors_or_empty_results_and_logs_go_to_the_log_file(
    workspace: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "tandem.log"
    server = RawServer([*SERVER_CMD, "--log-file", str(log_file)], tmp_path / "stderr.log")
    try:
        raw_initialize(server, workspace)
        raw_wait_indexed(server)
        uri = (workspace / "app.py").as_uri()
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = 1\n"}},
        )

        def inline(doc: str, line: object, character: object) -> dict:
            return server.request(
                "textDocument/inlineCompletion",
                {
                    "textDocument": {"uri": doc},
                    "position": {"line": line, "character": character},
                    "context": {"triggerKind": 1},
                },
            )

        # Unknown document, position past the end, column past the line: empty results.
        assert inline((workspace / "nope.py").as_uri(), 0, 0)["result"] == {"items": []}
        assert inline(uri, 99, 0)["result"] == {"items": []}
        assert inline(uri, 0, 500)["result"] == {"items": []}
        # Negative or wrongly typed positions, wrong params: JSON-RPC "invalid params".
        assert inline(uri, -1, 0)["error"]["code"] == -32602
        assert inline(uri, "zero", 0)["error"]["code"] == -32602
        bad = server.request("textDocument/completion", [1, 2, 3])
        assert bad["error"]["code"] == -32602
        # Unknown method: "method not found".
        assert server.request("tandem/nonsense", {})["error"]["code"] == -32601
        # An exception inside a notification handler (a change to a document never
        # opened) is logged; the server carries on.
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": "file:///never/opened.py", "version": 2},
                "contentChanges": [{"text": "y = 2"}],
            },
        )
        # A document outside every folder is completed but never indexed.
        outside = tmp_path / "outside.py"
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": outside.as_uri(),
                    "languageId": "python",
                    "version": 1,
                    "text": "def f():\n    return 1\n",
                }
            },
        )
        assert "result" in inline(outside.as_uri(), 1, 4)
        server.notify("textDocument/didSave", {"textDocument": {"uri": outside.as_uri()}})
        state = server.request("workspace/executeCommand", {"command": "tandem.status"})
        assert state["result"]["folders"][0]["events"] == 0
        assert state["result"]["overlay"]["files"] == {str(workspace): 1}  # app.py alone
    finally:
        assert server.close() == 0
    # Logs went to the log file and to window/logMessage, not to stderr.
    assert "serving over stdio" in log_file.read_text()
    assert "workspace folder added" in log_file.read_text()
    assert "serving over stdio" not in (tmp_path / "stderr.log").read_text()
    logged = [
        m["params"]["message"] for m in server.notifications if m["method"] == "window/logMessage"
    ]
    assert any("workspace folder added" in m for m in logged)


def test_tcp_serves_and_exits_cleanly(workspace: Path, tmp_path: Path) -> None:
    port = free_port()
    cmd = [*SERVER_CMD[:-1], "--tcp", "--port", str(port)]  # serve --tcp instead of --stdio
    server = RawServer(cmd, tmp_path / "stderr.log", tcp_port=port)
    try:
        response = raw_initialize(server, workspace)
        assert "inlineCompletionProvider" in response["result"]["capabilities"]
        assert raw_wait_indexed(server)["folders"]
    finally:
        assert server.close() == 0  # shutdown, then exit: code 0
    assert server.bad_output == []
    assert server.proc.stdout is not None and server.proc.stdout.read() == b""  # no stdout
    log = (tmp_path / "stderr.log").read_text()
    assert f"listening on 127.0.0.1:{port}" in log
    assert "Traceback" not in log
