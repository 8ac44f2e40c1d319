"""The OpenAI-compatible backend against a fake completions server on 127.0.0.1: what the
real server (tests/completion/test_openai_llama_server.py) cannot be made to do — a 500, a
malformed stream, a stream that ends without ``[DONE]``, an error event, an answer that
does not stream, a server that never answers — and a record of exactly what was sent; and
the same server reached through a real forward proxy (proxy.py), as a team behind one would."""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from http_proxy import running_proxy

from server.backends.base import BackendError, GenerationParams
from server.backends.openai_backend import OpenAIBackend
from server.completion import Completer, CompletionRequest
from server.prompt import ApproxTokenizer, Budgets, build_prompt
from server.settings import Settings


class FakeCompletionsServer(ThreadingHTTPServer):
    """A fake: answers POST /v1/completions with ``reply`` as server-sent events (one event
    per word); ``mode`` switches to a plain JSON answer or to failures."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"  # ok | json | http_error | slow | bad_json | cut | error_event
        self.reply = "total_cents()\nmore"
        self.requests: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeCompletionsServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        self.server.requests.append(body)
        self.server.headers_seen.append(dict(self.headers))
        if self.path != "/v1/completions":
            self.send_error(404)
            return
        if self.server.mode == "http_error":
            self._send(500, "application/json", b'{"error": "model crashed"}')
            return
        if self.server.mode == "slow":
            time.sleep(3)
        text = self.server.reply
        for s in body.get("stop") or []:
            if s in text:
                text = text[: text.index(s)]
        if self.server.mode == "json" or not body.get("stream"):
            payload = {
                "choices": [{"text": text, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 3},
            }
            self._send(200, "application/json", json.dumps(payload).encode())
            return
        events = [
            {"choices": [{"text": word, "finish_reason": None}]}
            for word in re.findall(r"\S+\s*|\s+", text)
        ]
        events.append({"choices": [{"text": "", "finish_reason": "stop"}]})
        lines = [f"data: {json.dumps(e)}" for e in events]
        if self.server.mode == "bad_json":
            lines.insert(1, "data: {not json")
        if self.server.mode == "error_event":
            lines.insert(1, 'data: {"error": {"message": "context length exceeded"}}')
        if self.server.mode != "cut":
            lines.append("data: [DONE]")
        else:
            lines = lines[:2]  # then the connection drops: no [DONE]
        stream = "".join(line + "\r\n\r\n" for line in lines).encode()
        self._send(200, "text/event-stream", stream, close=self.server.mode == "cut")

    def _send(self, status: int, ctype: str, data: bytes, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)  # the timeout test's client has given up by now


@pytest.fixture
def fake_server() -> Iterator[FakeCompletionsServer]:
    server = FakeCompletionsServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def simple_prompt() -> Any:
    return build_prompt(ApproxTokenizer(), "qwen", "x = cart.", "\n", [], Budgets(), path="a.py")


def test_success_sends_prompt_model_key_and_stops(
    fake_server: FakeCompletionsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_TEST_KEY", "sk-test")
    settings = Settings()
    settings.model.openai_base_url = fake_server.base_url
    settings.model.openai_model = "qwen2.5-coder"
    settings.model.openai_api_key_env = "TANDEM_TEST_KEY"
    backend = OpenAIBackend.from_settings(settings.model)
    prompt = simple_prompt()
    g = backend.generate(prompt, GenerationParams(max_tokens=16, stop=prompt.stop))
    assert g.error is None and g.text == "total_cents()" and g.new_tokens == 1
    sent = fake_server.requests[0]
    assert sent["model"] == "qwen2.5-coder" and sent["prompt"] == prompt.text
    assert sent["max_tokens"] == 16 and sent["stop"][0] == "\n" and len(sent["stop"]) <= 4
    assert sent["stream"] is True
    assert fake_server.headers_seen[0]["Authorization"] == "Bearer sk-test"


def test_http_error_is_reported(fake_server: FakeCompletionsServer) -> None:
    fake_server.mode = "http_error"
    backend = OpenAIBackend(fake_server.base_url, "m", timeout_s=5)
    g = backend.generate(simple_prompt(), GenerationParams())
    assert g.finish_reason == "error" and g.text == ""
    assert g.error is not None and "HTTP 500" in g.error and "model crashed" in g.error


def test_timeout_is_an_error_not_a_hang(fake_server: FakeCompletionsServer) -> None:
    fake_server.mode = "slow"
    backend = OpenAIBackend(fake_server.base_url, "m", timeout_s=0.5)
    t0 = time.perf_counter()
    g = backend.generate(simple_prompt(), GenerationParams())
    assert time.perf_counter() - t0 < 2.5
    assert g.error is not None and "no answer within 0.5 s" in g.error


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bad_json", "sent an unexpected answer: JSONDecodeError"),
        ("cut", "the stream was cut after 2 tokens"),
        ("error_event", "the server reported an error: context length exceeded"),
    ],
)
def test_broken_streams_are_clear_errors(
    fake_server: FakeCompletionsServer, mode: str, message: str
) -> None:
    fake_server.mode = mode
    backend = OpenAIBackend(fake_server.base_url, "m", timeout_s=5)
    g = backend.generate(simple_prompt(), GenerationParams(multiline=True))
    assert g.finish_reason == "error" and g.text == ""
    assert g.error is not None and message in g.error, g.error
    fake_server.mode = "ok"  # the next request works (a new connection if need be)
    assert backend.generate(simple_prompt(), GenerationParams()).text == "total_cents()"


def test_a_server_that_does_not_stream_is_read_whole(fake_server: FakeCompletionsServer) -> None:
    fake_server.mode = "json"
    backend = OpenAIBackend(fake_server.base_url, "m", timeout_s=5)
    g = backend.generate(simple_prompt(), GenerationParams())
    assert g.error is None and g.text == "total_cents()" and g.new_tokens == 3
    assert fake_server.requests[0]["stream"] is True


def test_completer_uses_openai_and_falls_back_when_it_fails(
    fake_server: FakeCompletionsServer, tmp_path: Path
) -> None:
    settings = Settings()
    settings.model.backend = "openai"
    settings.model.openai_base_url = fake_server.base_url
    settings.model.openai_model = "starcoder2-3b"
    completer = Completer(tmp_path, None, settings)
    assert completer.wait_until_loaded(10)
    assert completer.status()["template"] == "starcoder"
    req = CompletionRequest("a.py", "def f(cart):\n    return cart.\n", 1, 16)
    # Token healing: the prompt ends before the last token (the dot), the model re-types it.
    fake_server.reply = ".total_cents()\nmore"
    r = completer.complete(req)
    assert r.backend == "openai" and r.text == "total_cents()" and r.error is None
    sent = fake_server.requests[-1]["prompt"]
    assert sent == (
        f"<repo_name>{tmp_path.name}<file_sep>a.py\n"
        "<fim_prefix>def f(cart):\n    return cart<fim_suffix>\n<fim_middle>"
    )
    # An answer that does not re-type the cut contradicts the buffer: nothing is shown,
    # and the mismatch is counted.
    fake_server.reply = ",total_cents()"
    r = completer.complete(req)
    assert r.backend == "openai" and r.text == "" and r.timings["heal_mismatch"] == 1
    fake_server.reply = ".total_cents()\nmore"

    fake_server.mode = "http_error"
    r = completer.complete(req)
    assert r.backend == "retrieval" and r.error is not None and "HTTP 500" in r.error


def test_missing_model_name_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings()
    settings.model.backend = "openai"
    completer = Completer(tmp_path, None, settings)
    assert not completer.wait_until_loaded(10)
    reason = completer.status()["fallback_reason"]
    assert "model.openai_model is empty" in reason


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_requests_go_through_the_environments_proxy(
    fake_server: FakeCompletionsServer, no_proxy_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with running_proxy(tmp_path, basic_auth="team:s3cret") as proxy:
        no_proxy_env.setenv("HTTP_PROXY", f"http://team:s3cret@{proxy}")
        backend = OpenAIBackend(fake_server.base_url, "m", timeout_s=10)
        assert backend.generate(simple_prompt(), GenerationParams()).text == "total_cents()"
        assert len(fake_server.requests) == 1
        # The proxy checks the credentials taken from the variable.
        no_proxy_env.setenv("HTTP_PROXY", f"http://{proxy}")
        g = OpenAIBackend(fake_server.base_url, "m", timeout_s=10).generate(
            simple_prompt(), GenerationParams()
        )
        assert g.error is not None and "HTTP 407" in g.error, g.error
        assert "s3cret" not in g.error
    # The proxy is gone: the message names it (without the password) ...
    no_proxy_env.setenv("HTTP_PROXY", f"http://team:s3cret@{proxy}")
    g = OpenAIBackend(fake_server.base_url, "m", timeout_s=5).generate(
        simple_prompt(), GenerationParams()
    )
    assert g.error is not None and f"through the proxy {proxy}" in g.error, g.error
    assert "s3cret" not in g.error
    # ... and NO_PROXY sends the server's own address past it.
    no_proxy_env.setenv("NO_PROXY", "localhost,127.0.0.1")
    g = OpenAIBackend(fake_server.base_url, "m", timeout_s=5).generate(
        simple_prompt(), GenerationParams()
    )
    assert g.error is None and g.text == "total_cents()"


def test_https_goes_through_a_connect_tunnel(
    fake_server: FakeCompletionsServer, no_proxy_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    fake_server.socket = context.wrap_socket(fake_server.socket, server_side=True)
    no_proxy_env.setenv("SSL_CERT_FILE", str(cert))  # trust the test's own certificate
    url = fake_server.base_url.replace("http://", "https://")
    with running_proxy(tmp_path) as proxy:
        no_proxy_env.setenv("HTTPS_PROXY", f"http://{proxy}")
        backend = OpenAIBackend(url, "m", timeout_s=10)
        g = backend.generate(simple_prompt(), GenerationParams())
        assert g.error is None and g.text == "total_cents()", g.error
        assert len(fake_server.requests) == 1
    # The proxy is gone: the tunnel cannot be made, and the message says where.
    g = OpenAIBackend(url, "m", timeout_s=5).generate(simple_prompt(), GenerationParams())
    assert g.error is not None and f"through the proxy {proxy}" in g.error, g.error


def test_a_proxy_that_is_not_http_is_a_clear_error(no_proxy_env: pytest.MonkeyPatch) -> None:
    no_proxy_env.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(BackendError, match="an http:// proxy is needed"):
        OpenAIBackend("http://model.internal:8000/v1", "m")
