"""A real forward proxy for the tests: proxy.py (from PyPI) in a subprocess on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def running_proxy(work: Path, basic_auth: str | None = None) -> Iterator[str]:
    """Start proxy.py on a free port; yield its ``host:port``; stop it afterwards."""
    port_file = work / "proxy.port"
    cmd = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0"]
    cmd += ["--port-file", str(port_file), "--num-workers", "1", "--num-acceptors", "1"]
    cmd += ["--data-dir", str(work / "proxy-data")]
    if basic_auth:
        cmd += ["--basic-auth", basic_auth]
    log = (work / "proxy.log").open("wb")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"proxy.py did not start: {(work / 'proxy.log').read_text()}")
            time.sleep(0.05)
        yield f"127.0.0.1:{int(port_file.read_text().split()[0])}"
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
        log.close()
