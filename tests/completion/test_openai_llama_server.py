"""The ``openai`` backend against a real OpenAI-compatible server: llama.cpp's server
(``llama-cpp-python[server]``) running the bundled SmolLM2 on 127.0.0.1, started here.

Streaming gives the same text as a plain request; a cancel closes the stream at once and
the server stops generating; one TCP connection serves many requests; the server killed
mid-stream, or down, is a clear error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from llama_server import LlamaServer

from server.backends.base import Generation, GenerationParams
from server.backends.openai_backend import OpenAIBackend
from server.prompt import Prompt

# Greedy SmolLM2 keeps counting: it never stops on its own before max_tokens.
COUNTING = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,"
LONG = 600  # tokens a cancelled request asks for


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log")
    yield server
    server.stop()


def prompt(text: str) -> Prompt:
    return Prompt(text, [], "none", prefix=text, suffix="", snippets_used=0)


def generate_in_thread(
    backend: OpenAIBackend, p: Prompt, params: GenerationParams, cancel: threading.Event
) -> tuple[threading.Thread, list[Generation], list[float]]:
    out: list[Generation] = []
    ended: list[float] = []

    def run() -> None:
        out.append(backend.generate(p, params, cancel))
        ended.append(time.perf_counter())

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out, ended


def test_streaming_gives_the_same_text_as_a_plain_request(llama: LlamaServer) -> None:
    backend = OpenAIBackend(llama.base_url, llama.model, timeout_s=120)
    text = "def fibonacci(n):\n    "
    g = backend.generate(prompt(text), GenerationParams(max_tokens=16, multiline=True))
    plain = llama.complete({"prompt": text, "max_tokens": 16, "temperature": 0.0})
    assert g.error is None, g.error
    assert g.text and g.text == plain["choices"][0]["text"]
    assert g.new_tokens == plain["usage"]["completion_tokens"]
    assert 0 < g.first_token_ms < g.model_ms


def test_cancel_closes_the_stream_and_the_server_stops_generating(llama: LlamaServer) -> None:
    backend = OpenAIBackend(llama.base_url, llama.model, timeout_s=300)
    # The server's speed now (the machine is shared): seconds per token on this prompt.
    t0 = time.perf_counter()
    warm = backend.generate(prompt(COUNTING), GenerationParams(max_tokens=32, multiline=True))
    per_token = (time.perf_counter() - t0) / max(warm.new_tokens, 1)
    assert warm.error is None and warm.new_tokens == 32

    cancel = threading.Event()
    params = GenerationParams(max_tokens=LONG, multiline=True)
    thread, out, ended = generate_in_thread(backend, prompt(COUNTING), params, cancel)
    time.sleep(max(1.0, 10 * per_token))  # some tokens have streamed
    cancelled_at = time.perf_counter()
    cancel.set()
    thread.join(60)
    g = out[0]
    assert g.finish_reason == "cancelled" and g.error is None
    assert 0 < g.new_tokens < LONG / 2
    assert ended[0] - cancelled_at < 2.0  # returns at once, not when the server is done

    # The server stopped: it says so, and the next request does not wait for the rest of
    # the cancelled one (it would: this server runs one request at a time and is not told
    # to interrupt). Whole LONG tokens would take LONG * per_token seconds.
    t1 = time.perf_counter()
    after = llama.complete({"prompt": "x =", "max_tokens": 1, "temperature": 0.0})
    waited = time.perf_counter() - t1
    assert after["choices"][0]["text"] is not None
    remaining = (LONG - g.new_tokens) * per_token
    print(
        f"cancel: {g.new_tokens} tokens streamed, returned {ended[0] - cancelled_at:.3f} s "
        f"after the cancel; next request waited {waited:.2f} s vs {remaining:.1f} s left"
    )
    assert waited < remaining / 3, (waited, remaining)
    assert "Disconnected from client" in llama.output()


def test_one_connection_serves_many_requests(llama: LlamaServer) -> None:
    backend = OpenAIBackend(llama.base_url, llama.model, timeout_s=120)
    me = psutil.Process()
    ports = set()
    for i in range(4):
        g = backend.generate(prompt(f"x{i} = "), GenerationParams(max_tokens=4))
        assert g.error is None, g.error
        mine = [
            c.laddr.port
            for c in me.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == llama.port and c.status == psutil.CONN_ESTABLISHED
        ]
        assert len(mine) == 1, mine
        ports.update(mine)
    assert len(ports) == 1 and backend.pool.opened == 1


def test_server_killed_mid_stream_or_down_is_a_clear_error(tmp_path: Path) -> None:
    server = LlamaServer(tmp_path / "server.log")
    try:
        backend = OpenAIBackend(server.base_url, server.model, timeout_s=300)
        warm = backend.generate(prompt(COUNTING), GenerationParams(max_tokens=8))
        assert warm.error is None, warm.error
        never = threading.Event()
        params = GenerationParams(max_tokens=LONG, multiline=True)
        thread, out, ended = generate_in_thread(backend, prompt(COUNTING), params, never)
        time.sleep(2.0)
        killed_at = time.perf_counter()
        server.kill()
        thread.join(60)
        g = out[0]
        assert g.finish_reason == "error" and g.text == ""
        assert g.error is not None and "the stream was cut after" in g.error, g.error
        assert ended[0] - killed_at < 5.0

        down = backend.generate(prompt("x = "), GenerationParams(max_tokens=4))
        assert down.finish_reason == "error"
        assert down.error is not None and "connection refused (is the server running?)" in (
            down.error
        )
    finally:
        server.stop()


def test_wrong_path_is_a_clear_http_error(llama: LlamaServer) -> None:
    backend = OpenAIBackend(llama.base_url.replace("/v1", "/v9"), llama.model, timeout_s=30)
    g = backend.generate(prompt("x = "), GenerationParams(max_tokens=4))
    assert g.finish_reason == "error"
    assert g.error is not None and "HTTP 404 Not Found" in g.error
