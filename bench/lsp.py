"""The language server, end to end over stdio (the real ``tandem serve``):

- time from ``initialize`` to the first usable completion on a workspace of >= 500 files
  (a copy of site-packages packages), while background indexing runs;
- edit-to-searchable latency: a ``didChange`` in an open 1,000-line file until retrieval, asked
  from another file, sees the new identifier (polled with inline completion requests; a
  request from another buffer parses pending edits at once instead of after the debounce);
- for reference, the passive path: a ``didChange`` until the debounced re-parse has landed in
  the overlay when nothing asks (polled with ``tandem.status``);
- the server's RSS when idle (after initialize, nothing indexed) and after indexing.

- with the local model (``--model-backend``, llama.cpp by default), a second server on the
  same workspace: keystroke → inline completion response while typing forward (each
  ``didChange`` followed at once by a request, as VS Code does), and the first request
  after a pause on a new line (background prefill has read the stable prompt meanwhile).

Targets: edit-to-searchable p50 <= 150 ms and p95 <= 400 ms.
Usage: python bench/lsp.py [--files 500] [--trials 30] [--embedder none|minilm]
       [--model-backend llamacpp|transformers|none] [--typing-only]
``--typing-only``: only the model's keystroke → inline completion part (under a minute idle).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["pygls", "lsprotocol", "cattrs", "attr", "pathspec", "rich", "pygments", "jinja2"]
P50_TARGET_MS = 150.0
P95_TARGET_MS = 400.0


class Client:
    """A minimal LSP client over the server's stdin/stdout."""

    def __init__(self, cmd: list[str], env: dict[str, str], stderr: Any) -> None:
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env
        )
        self._responses: dict[Any, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.progress: list[dict[str, Any]] = []
        self.first_end: float | None = None  # perf_counter() when a progress first ended
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:  # a request from the server: accept it
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            elif "method" in msg:
                if msg["method"] == "$/progress":
                    self.progress.append(msg["params"])
                    if msg["params"]["value"].get("kind") == "end" and self.first_end is None:
                        self.first_end = time.perf_counter()
            else:
                with self._lock:
                    box = self._responses.get(msg["id"])
                if box is not None:
                    box.put(msg)

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def request(self, method: str, params: Any, timeout: float = 120.0) -> Any:
        box: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._next += 1
            msg_id = self._next
            self._responses[msg_id] = box
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        msg = box.get(timeout=timeout)
        with self._lock:
            del self._responses[msg_id]
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def open(self, uri: str, text: str) -> None:
        item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def inline(self, uri: str, line: int, character: int) -> str:
        result = self.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},
            },
        )
        items = result["items"] if result else []
        return items[0]["insertText"] if items else ""

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=20)
            self.notify("exit", None)
            self.proc.wait(timeout=20)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def typing_phase(ws: Path, env: dict[str, str], backend: str, log: Path) -> dict[str, Any]:
    """Keystroke → inline completion over LSP with a model, typing forward in a real file."""
    options = {"index": {"embedder": "none"}, "model": {"backend": backend}}
    cmd = [sys.executable, "-m", "server", "serve", "--stdio"]
    stderr = log.open("wb")
    client = Client(cmd, env, stderr)
    keystrokes: list[float] = []
    answers: list[int] = []  # characters of ghost text per keystroke
    after_pause: list[float] = []
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": ws.as_uri(),
                "workspaceFolders": [{"uri": ws.as_uri(), "name": "ws"}],
                "capabilities": {"window": {"workDoneProgress": True}},
                "initializationOptions": options,
            },
        )
        client.notify("initialized", {})
        deadline = time.perf_counter() + 300
        while True:  # until the model has loaded (retrieval answers meanwhile)
            status = client.request("workspace/executeCommand", {"command": "tandem.status"})
            completer = status.get("completer", {}).get("ws", {})
            if completer.get("loaded") or time.perf_counter() > deadline:
                break
            time.sleep(0.5)
        while client.first_end is None and time.perf_counter() < deadline:
            time.sleep(0.2)  # indexing done: typing is not measured against it
        served = completer.get("backend", "?")
        source = sorted(ws.rglob("*.py"))
        lines = next(
            p.read_text().split("\n") for p in source if len(p.read_text().split("\n")) > 300
        )
        uri = (ws / "typing_probe.py").as_uri()
        body = "\n".join(lines[:200]) + "\n"
        client.open(uri, body)
        version = 1
        line_no = 200
        for target in [ln for ln in lines[200:300] if len(ln.strip()) > 12][:8]:
            # A new line, then a pause: background prefill reads the stable prompt.
            version += 1
            at = {"line": line_no, "character": 0}
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": at, "end": at}, "text": "\n"}],
                },
            )
            time.sleep(0.5)
            t = time.perf_counter()
            client.inline(uri, line_no, 0)
            after_pause.append((time.perf_counter() - t) * 1000)
            for col, ch in enumerate(target[:10]):
                version += 1
                at = {"line": line_no, "character": col}
                t = time.perf_counter()
                client.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"range": {"start": at, "end": at}, "text": ch}],
                    },
                )
                answer = client.inline(uri, line_no, col + 1)
                keystrokes.append((time.perf_counter() - t) * 1000)
                answers.append(len(answer))
                time.sleep(0.05)
            line_no += 1
        status = client.request("workspace/executeCommand", {"command": "tandem.status"})
    finally:
        client.close()
        stderr.close()
    return {
        "backend": served,
        "keystrokes": keystrokes,
        "answers": answers,
        "after_pause": after_pause,
        "prefill": status.get("completer", {}).get("prefill", {}),
    }


def typing_report(typing: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    keys, pauses = typing["keystrokes"], typing["after_pause"]
    served = typing["backend"]
    # What the p95 is made of: the slowest keystrokes and the length of their answers (a
    # long line decodes more tokens; a changed snippet makes the model re-read the prompt).
    slowest = sorted(zip(keys, typing["answers"], strict=True), reverse=True)[:4]
    return [
        (
            f"keystroke → inline completion p50 ({served})",
            f"{statistics.median(keys):.0f} ms",
            "",
            "typing forward, request at once",
        ),
        (
            f"keystroke → inline completion p95 ({served})",
            f"{percentile(keys, 0.95):.0f} ms",
            "",
            "slowest: " + ", ".join(f"{ms:.0f} ms ({n} chars)" for ms, n in slowest),
        ),
        (
            "first request after a pause on a new line p50",
            f"{statistics.median(pauses):.0f} ms",
            "",
            f"background prefill {typing['prefill']}",
        ),
    ]


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'figure':>22}  {'':6}  target")
    for label, figure, verdict, target in rows:
        print(f"{label:<{width}}  {figure:>22}  {verdict:6}  {target}")


def typing_only(files: int, backend: str) -> int:
    """The model part alone: keystroke → inline completion while typing forward."""
    if backend == "none":
        raise SystemExit("--typing-only needs a model backend")
    tmp = Path(tempfile.mkdtemp(prefix="tandem-bench-lsp-"))
    ws = tmp / "ws"
    ws.mkdir()
    try:
        n_files = make_workspace(ws, files)
        before = os.getloadavg()[0]
        typing = typing_phase(ws, bench_env(), backend, tmp / "server-model.log")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"tandem serve over stdio on {n_files} .py files (indexed first), "
        f"{len(typing['keystrokes'])} keystrokes; load average {before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    print_rows(typing_report(typing))
    return 0


def bench_env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LANCEDB_LOG": "error",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MALLOC_MMAP_THRESHOLD_": "4294967296",
        "MALLOC_TRIM_THRESHOLD_": "4294967296",
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_workspace(dest: Path, files: int) -> int:
    """Copy whole packages from site-packages until at least ``files`` .py files."""
    site = Path(sysconfig.get_paths()["purelib"])
    count = 0
    for name in PACKAGES:
        src = site / name
        if not src.is_dir():
            continue
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        count += sum(1 for _ in (dest / name).rglob("*.py"))
        if count >= files:
            break
    return count


def big_module(lines: int) -> str:
    """A plausible 1,000-line module: small functions with bodies."""
    out: list[str] = []
    i = 0
    while len(out) < lines - 5:
        out += [
            f"def helper_{i}(value, scale={i}):",
            f'    """Scale a value ({i})."""',
            "    result = value * scale",
            "    return result + 1",
            "",
        ]
        i += 1
    return "\n".join(out[: lines - 1]) + "\n"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--embedder", default="none", help="none (default) or minilm")
    parser.add_argument("--model-backend", default="llamacpp", help="llamacpp, transformers, none")
    parser.add_argument(
        "--typing-only", action="store_true", help="only keystroke → inline completion"
    )
    args = parser.parse_args()
    if args.typing_only:
        return typing_only(args.files, args.model_backend)

    tmp = Path(tempfile.mkdtemp(prefix="tandem-bench-lsp-"))
    ws = tmp / "ws"
    ws.mkdir()
    n_files = make_workspace(ws, args.files)
    (ws / "bigmod.py").write_text(big_module(1000))
    env = bench_env()
    options = {
        "index": {"embedder": args.embedder},
        "model": {"backend": "retrieval"},
    }
    stderr = (tmp / "server.log").open("wb")
    cmd = [sys.executable, "-m", "server", "serve", "--stdio"]
    client = Client(cmd, env, stderr)
    try:
        t0 = time.perf_counter()
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": ws.as_uri(),
                "workspaceFolders": [{"uri": ws.as_uri(), "name": "ws"}],
                "capabilities": {"window": {"workDoneProgress": True}},
                "initializationOptions": options,
            },
        )
        client.notify("initialized", {})
        time.sleep(0.3)
        idle_rss = rss_mb(client.proc.pid)

        # First usable completion: a line of pygls' uris.from_fs_path, typed in a new file
        # that imports it, completed from the index as soon as indexing has reached it.
        probe_uri = (ws / "probe.py").as_uri()
        probe_line = "        return urlunparse((scheme, net"
        probe = (
            "from pygls.uris import from_fs_path\n\n\n"
            'def my_uri(path):\n    scheme = "file"\n    try:\n' + probe_line
        )
        client.open(probe_uri, probe)
        first = ""
        while not first:
            first = client.inline(probe_uri, 6, len(probe_line))
            if not first:
                time.sleep(0.05)
            if time.perf_counter() - t0 > 300:
                raise SystemExit("no usable completion within 5 minutes")
        first_ms = (time.perf_counter() - t0) * 1000

        # Wait for indexing to finish (its progress ends), then measure RSS.
        while client.first_end is None:
            time.sleep(0.1)
        indexed_ms = (client.first_end - t0) * 1000
        status = client.request("workspace/executeCommand", {"command": "tandem.status"})
        index = status["folders"][0].get("index", {})
        time.sleep(0.5)
        indexed_rss = rss_mb(client.proc.pid)

        # Edit-to-searchable on the 1,000-line file.
        big_uri = (ws / "bigmod.py").as_uri()
        big_text = (ws / "bigmod.py").read_text()
        client.open(big_uri, big_text)
        user_uri = (ws / "user.py").as_uri()
        client.open(user_uri, "")
        time.sleep(0.5)
        latencies: list[float] = []
        version = 1
        for i in range(args.trials):
            name, const = f"fresh_function_{i}", f"FRESH_{i}_CONSTANT"
            line = f"    return value * FRESH_{i}_CONS"
            user = f"from bigmod import {name}\n\n\ndef go(value):\n{line}"
            version += 1
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": user_uri, "version": version},
                    "contentChanges": [{"text": user}],
                },
            )
            if client.inline(user_uri, 4, len(line)):
                raise SystemExit("the new identifier was visible before the edit")
            at = {"line": 500, "character": 0}
            insert = f"{const} = {i}\n\n\ndef {name}(value):\n    return value * {const}\n\n\n"
            t_edit = time.perf_counter()
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": big_uri, "version": version},
                    "contentChanges": [{"range": {"start": at, "end": at}, "text": insert}],
                },
            )
            while not client.inline(user_uri, 4, len(line)):
                if time.perf_counter() - t_edit > 10:
                    raise SystemExit(f"trial {i}: the edit never became searchable")
            latencies.append((time.perf_counter() - t_edit) * 1000)
        # The passive path: nothing asks, so the buffer is parsed after the debounce.
        passive: list[float] = []
        for i in range(args.trials):
            before = client.request("workspace/executeCommand", {"command": "tandem.status"})
            parses = before["overlay"]["parses"]
            version += 1
            at = {"line": 10, "character": 0}
            t_edit = time.perf_counter()
            client.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": big_uri, "version": version},
                    "contentChanges": [
                        {"range": {"start": at, "end": at}, "text": f"# passive edit {i}\n"}
                    ],
                },
            )
            while True:
                now = client.request("workspace/executeCommand", {"command": "tandem.status"})
                if now["overlay"]["parses"] > parses:
                    break
            passive.append((time.perf_counter() - t_edit) * 1000)
        final_rss = rss_mb(client.proc.pid)
    finally:
        client.close()
        stderr.close()
    try:
        typing = None
        if args.model_backend != "none":
            typing = typing_phase(ws, env, args.model_backend, tmp / "server-model.log")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    p50 = statistics.median(latencies)
    p95 = percentile(latencies, 0.95)
    rows = [
        ("workspace", f"{n_files + 1} .py files", "", "≥ 500 files"),
        ("indexed", f"{index.get('files', '?')} files, {index.get('chunks', '?')} chunks", "", ""),
        ("initialize → first usable completion", f"{first_ms:,.0f} ms", "", "(no target)"),
        ("initialize → indexing finished", f"{indexed_ms:,.0f} ms", "", "(no target)"),
        (
            "edit-to-searchable p50",
            f"{p50:.0f} ms",
            "ok" if p50 <= P50_TARGET_MS else "MISSED",
            f"≤ {P50_TARGET_MS:.0f} ms",
        ),
        (
            "edit-to-searchable p95",
            f"{p95:.0f} ms",
            "ok" if p95 <= P95_TARGET_MS else "MISSED",
            f"≤ {P95_TARGET_MS:.0f} ms",
        ),
        ("edit-to-searchable max", f"{max(latencies):.0f} ms", "", "(no target)"),
        (
            "edit-to-overlay, no request (debounce) p50",
            f"{statistics.median(passive):.0f} ms",
            "",
            "(same ≤ 150 ms, informative)",
        ),
        (
            "edit-to-overlay, no request (debounce) p95",
            f"{percentile(passive, 0.95):.0f} ms",
            "",
            "(same ≤ 400 ms, informative)",
        ),
        ("server RSS idle (after initialize)", f"{idle_rss:.0f} MB", "", "(no target)"),
        ("server RSS after indexing", f"{indexed_rss:.0f} MB", "", "(no target)"),
        (f"server RSS after {args.trials} edits", f"{final_rss:.0f} MB", "", "(no target)"),
    ]
    print(
        f"tandem serve over stdio; embedder={args.embedder}, backend=retrieval, "
        f"{args.trials} edit trials (debounce 60 ms, default)"
    )
    print("edit-to-searchable per trial (ms):", " ".join(f"{x:.0f}" for x in latencies))
    if typing is not None:
        rows += typing_report(typing)
        print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    print_rows(rows)
    return 0 if p50 <= P50_TARGET_MS and p95 <= P95_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
