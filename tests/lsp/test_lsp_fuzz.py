"""Fuzz: thousands of random and malformed JSON-RPC messages, raw bytes on the server's
stdin (proper and broken Content-Length framing, unknown methods, params of the wrong
types, huge and negative positions). Afterwards the server is still up and still answers
a valid completion request with a suggestion."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_support import SERVER_CMD, RawServer, raw_initialize, raw_wait_indexed

# Each test starts the real server (imports, LanceDB, a first index): several seconds.
pytestmark = pytest.mark.slow

MESSAGES_PER_EXAMPLE = 60
EXAMPLES = 40  # 40 x 60 = 2,400 messages

# Every method a client may send except the lifecycle ones (initialize, shutdown and exit
# legitimately end or reset the session) — plus made-up ones.
METHODS = [
    "textDocument/inlineCompletion",
    "textDocument/completion",
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didSave",
    "textDocument/didClose",
    "textDocument/hover",
    "textDocument/didShowCompletion",
    "textDocument/didPartiallyAcceptCompletion",
    "workspace/didChangeWatchedFiles",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWorkspaceFolders",
    "workspace/executeCommand",
    "$/cancelRequest",
    "$/setTrace",
    "$/unknown",
    "tandem/nonsense",
    "",
    "textDocument/",
]
# tandem.train is left out: random arguments could start a real fine-tuning run.
COMMANDS = ["tandem.reindex", "tandem.status", "tandem.forget", "tandem.acceptCompletion", "x"]

leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
)
json_value = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)
big_int = st.integers(min_value=-(2**64), max_value=2**64) | st.sampled_from(
    [0, 1, 2, 5, 2**31 - 1, 2**31, 2**32, -1, -(2**31)]
)


def build(ws: Path) -> dict[str, st.SearchStrategy[Any]]:
    uris = st.sampled_from(
        [
            (ws / "app.py").as_uri(),
            (ws / "geometry" / "shapes.py").as_uri(),
            (ws / "missing.py").as_uri(),
            "file:///nonexistent/elsewhere.py",
            "untitled:Untitled-1",
            "not a uri",
            "",
        ]
    )
    position = st.fixed_dictionaries({"line": big_int | leaf, "character": big_int | leaf})
    doc = st.fixed_dictionaries({"uri": uris, "version": big_int})
    at_cursor = st.fixed_dictionaries({"textDocument": doc, "position": position})
    change = st.fixed_dictionaries(
        {
            "textDocument": doc,
            "contentChanges": st.lists(
                st.fixed_dictionaries(
                    {
                        "range": st.fixed_dictionaries({"start": position, "end": position}),
                        "text": st.text(max_size=40),
                    }
                )
                | st.fixed_dictionaries({"text": st.text(max_size=40)}),
                max_size=3,
            ),
        }
    )
    command = st.fixed_dictionaries(
        {"command": st.sampled_from(COMMANDS), "arguments": st.lists(json_value, max_size=3)}
    )
    watched = st.fixed_dictionaries(
        {"changes": st.lists(st.fixed_dictionaries({"uri": uris, "type": big_int}), max_size=3)}
    )
    params = json_value | at_cursor | change | command | watched
    msg_id = st.integers(min_value=-(2**40), max_value=2**40) | st.text(max_size=8) | leaf
    request = st.builds(
        lambda i, m, p: {"jsonrpc": "2.0", "id": i, "method": m, "params": p},
        msg_id,
        st.sampled_from(METHODS),
        params,
    )
    notification = st.builds(
        lambda m, p: {"jsonrpc": "2.0", "method": m, "params": p}, st.sampled_from(METHODS), params
    )
    odd = st.builds(
        lambda d, drop: {k: v for k, v in d.items() if k not in drop},
        request,
        st.sets(st.sampled_from(["jsonrpc", "id", "method", "params"])),
    ) | st.builds(lambda m: {**m, "jsonrpc": "1.0"}, request)
    message = request | notification | odd | json_value

    def frame(body: bytes, how: str, delta: int) -> bytes:
        if how == "proper":
            return b"Content-Length: %d\r\n\r\n" % len(body) + body
        if how == "wrong-length":
            return b"Content-Length: %d\r\n\r\n" % max(0, len(body) + delta) + body
        if how == "no-header":
            return body + b"\r\n"
        if how == "huge":
            return b"Content-Length: 99999999999999\r\n\r\n" + body
        if how == "negative":
            return b"Content-Length: -%d\r\n\r\n" % len(body) + body
        if how == "lf-only":
            return b"Content-Length: %d\n\n" % len(body) + body
        return b"Content-Type: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    encoded = st.builds(lambda m: json.dumps(m).encode(), message) | st.binary(max_size=120)
    framed = st.builds(
        frame,
        encoded,
        st.sampled_from(
            ["proper"] * 6 + ["wrong-length", "no-header", "huge", "negative", "lf-only", "extra"]
        ),
        st.integers(min_value=-20, max_value=40),
    )
    return {"framed": framed}


@pytest.fixture(scope="module")
def fuzz_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    from lsp_support import FIXTURE

    root = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(FIXTURE, root)
    return root


def test_server_survives_malformed_messages(fuzz_workspace: Path, tmp_path: Path) -> None:
    ws = fuzz_workspace
    server = RawServer(SERVER_CMD, tmp_path / "stderr.log")
    try:
        assert "result" in raw_initialize(server, ws)
        raw_wait_indexed(server)
        sent = [0]
        strategies = build(ws)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.lists(
                strategies["framed"], min_size=MESSAGES_PER_EXAMPLE, max_size=MESSAGES_PER_EXAMPLE
            )
        )
        def blast(frames: list[bytes]) -> None:
            for data in frames:
                server.send_bytes(data)
            sent[0] += len(frames)
            assert server.proc.poll() is None, "the server died"

        blast()
        assert sent[0] >= 2000

        # Resynchronise the framing: a body still being read (a too-long Content-Length)
        # swallows the first pad, and a header still waiting for its blank line takes the
        # second; after that the stream is at a header boundary again.
        pad = b" " * 4096 + b"\r\n\r\n"
        server.send_bytes(pad + pad)
        time.sleep(0.5)
        assert server.proc.poll() is None, "the server died"

        # Still serving: reopen a document and get a suggestion.
        uri = (ws / "fresh.py").as_uri()
        line = "    return inches * CENTIM"
        text = (
            "from geometry.units import CENTIMETRES_PER_INCH\n\n\n"
            "def to_cm(inches: float) -> float:\n" + line
        )
        server.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        response = server.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": 4, "character": len(line)},
                "context": {"triggerKind": 2},
            },
            timeout=30,
        )
        assert "result" in response, response
        assert [i["insertText"] for i in response["result"]["items"]] == ["ETRES_PER_INCH"]
        assert not server.bad_output
        log = (tmp_path / "stderr.log").read_text()
        assert log.count("ignoring a message header claiming") >= 1  # the huge ones
        assert log.count("ignored bad input") >= 100  # broken JSON, wrong shapes
    finally:
        code = server.close()
    assert code == 0
