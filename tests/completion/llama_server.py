"""A real OpenAI-compatible server for the tests: llama.cpp's, from ``llama-cpp-python[server]``,
serving the bundled SmolLM2 GGUF on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """``python -m llama_cpp.server`` in a subprocess; its output goes to ``log``.

    ``interrupt_requests`` is off, so a request the client abandons is stopped only by the
    client closing its stream (what the tests measure), not by the next request."""

    def __init__(self, log: Path) -> None:
        from server.backends.loader import smollm2_gguf

        self.port = free_port()
        self.log = log
        self.model = "smollm2"
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(smollm2_gguf()),
            "--model_alias",
            self.model,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            "1024",
            "--n_threads",
            "1",  # llama.cpp's threads spin-wait: one is faster than two on a busy machine
            "--interrupt_requests",
            "False",
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        self._wait_ready()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama.cpp server did not start: {self.log.read_text()[-2000:]}")

    def complete(self, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        """A plain, non-streaming request (the reference the backend is compared with)."""
        data = json.dumps({"model": self.model, **body, "stream": False}).encode()
        request = urllib.request.Request(
            self.base_url + "/completions", data, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return dict(json.loads(r.read()))

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
