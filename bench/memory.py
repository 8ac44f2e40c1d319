"""Peak memory on a big workspace: ``tandem index`` and ``tandem serve`` (target <= 1 GB each).

The workspace is the .py files of sympy and networkx from the venv (about 32 MB, 2,100 files,
82,000 chunks). Embedding all of it with MiniLM takes 20-40 minutes on 2 cores, so the
embedder's peak is measured on slices of growing size (the first N files): bounded batches
mean it does not grow with the slice; the lexical index (``--embedder none``) runs on the
whole workspace. ``--indexed DIR``: a copy of the workspace already indexed with MiniLM
(its ``.tandem``, e.g. from one timed ``tandem index``), on which ``tandem serve`` is
measured with the default settings (llama.cpp Q8_0 + BF16 reader, MiniLM) and with the
retrieval backend. Each figure is the process's VmHWM (peak resident set), read from
``/proc/<pid>/status`` until it exits; beside it, how much of the resident set at its
largest sample was file-backed (mapped model weights and libraries: clean pages the
kernel can drop and read again, but they count in RSS).

    python bench/memory.py [--slices 60,150] [--no-serve] [--indexed DIR]
    python bench/memory.py --stand-in DIR   (then: --indexed DIR --slices '' --no-serve)

``--stand-in DIR``: the whole workspace copied to DIR, indexed lexically, and given a
stand-in vector for every chunk (pseudo-random, from its content hash: MiniLM's table,
dimension and precision, written by the sync's own ``embed_pending``), so the serve rows
can be measured on a 30 MB workspace without embedding it for half an hour. The memory
figures need the vectors' shape, not their meaning; search quality is measured elsewhere.
    python bench/index.py --parts memory   (the same, inside the index bench)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SITE = Path(sysconfig.get_paths()["purelib"])
PACKAGES = ("networkx", "sympy")
TARGET_MB = 1024.0


def env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "LANCEDB_LOG": "error",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        # what the Makefile exports (torch's fast path), so its cost is part of the figure
        "MALLOC_MMAP_THRESHOLD_": "4294967296",
        "MALLOC_TRIM_THRESHOLD_": "4294967296",
    }


def make_workspace(dest: Path, limit: int | None = None) -> tuple[int, int]:
    """The packages' .py files (sorted; the first ``limit`` only). Returns files, bytes."""
    n = size = 0
    for name in PACKAGES:
        for f in sorted((SITE / name).rglob("*.py")):
            if "__pycache__" in f.parts:
                continue
            if limit is not None and n >= limit:
                return n, size
            target = dest / f.relative_to(SITE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            n, size = n + 1, size + f.stat().st_size
    return n, size


def _status(pid: int) -> dict[str, float]:
    """VmHWM, VmRSS, RssAnon and RssFile of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def hwm_mb(pid: int) -> float:
    return _status(pid).get("VmHWM", float("nan"))


class PeakWatch:
    """Samples a child's memory until it exits (the last VmHWM is its peak; ``file_mb``
    is the file-backed part of its largest sampled resident set)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self.largest = 0.0
        self.file_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                status = _status(self.pid)
            except (OSError, ValueError):
                return
            self.peak = max(self.peak, status.get("VmHWM", 0.0))
            if status.get("VmRSS", 0.0) >= self.largest:
                self.largest = status.get("VmRSS", 0.0)
                self.file_mb = status.get("RssFile", 0.0)
            time.sleep(0.05)

    def result(self) -> float:
        self._thread.join(5)
        return self.peak


def index_peak(ws: Path, db: Path, embedder: str) -> tuple[float, float, str]:
    """``tandem index`` as a child process: (peak MB, seconds, its summary line)."""
    cmd = [sys.executable, "-m", "server", "index", str(ws), "--db", str(db)]
    cmd += ["--embedder", embedder, "--json"]
    t = time.monotonic()
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    watch = PeakWatch(proc.pid)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"tandem index failed ({proc.returncode})")
    import json

    report = json.loads(out)
    summary = f"{report['total_files']} files, {report['total_chunks']} chunks"
    summary += f", {report['embedded']} embedded"
    peak = watch.result()
    return peak, time.monotonic() - t, f"{summary}; {watch.file_mb:.0f} MB file-backed"


def serve_peak(
    ws: Path, embedder: str, backend: str | None = "retrieval", model: dict[str, str] | None = None
) -> tuple[float, float, str]:
    """``tandem serve --stdio`` opening ``ws`` (``retrieval``: no language model; None:
    the default settings, llama.cpp serving the bundled SmolLM2; ``model``: other model
    settings), until its indexing (and embedding) progress has ended, the model (if any)
    has loaded and it has answered two completions with it, in a new buffer and at the end
    of the workspace's largest indexed file (where the vector channel has stored vectors
    to query with): (peak MB, seconds to indexed, what it indexed)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from lsp import Client  # the minimal stdio client of bench/lsp.py

    client = Client([sys.executable, "-m", "server", "serve", "--stdio"], env(), subprocess.DEVNULL)
    watch = PeakWatch(client.proc.pid)
    t = time.monotonic()
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": ws.as_uri(),
                "workspaceFolders": [{"uri": ws.as_uri(), "name": ws.name}],
                "capabilities": {"window": {"workDoneProgress": True}},
                "initializationOptions": {
                    "index": {"embedder": embedder},
                    "model": {**({"backend": backend} if backend else {}), **(model or {})},
                },
            },
        )
        client.notify("initialized", {})
        want = 2 if embedder != "none" else 1  # indexing, then embedding
        while sum(1 for p in client.progress if p["value"].get("kind") == "end") < want:
            time.sleep(0.2)
        status = client.request("workspace/executeCommand", {"command": "tandem.status"})
        index = status["folders"][0].get("index", {})
        seconds = time.monotonic() - t
        # a completion: the context builder's in-memory view of the whole index is built
        probe = ws / "probe_memory.py"
        text = "from sympy import Symbol\n\nx = Symbol('x')\ny = x."
        client.open(probe.as_uri(), text)
        while backend != "retrieval" and not _model_settled(client):
            time.sleep(0.5)
        client.inline(probe.as_uri(), 3, len("y = x."))
        largest = max(ws.rglob("*.py"), key=lambda f: f.stat().st_size)
        lines = largest.read_text(encoding="utf-8").splitlines()
        client.open(largest.as_uri(), "\n".join(lines))
        client.inline(largest.as_uri(), len(lines) - 1, len(lines[-1]))
        time.sleep(1.0)
        peak = max(watch.peak, hwm_mb(client.proc.pid))
    finally:
        client.close()
    what = f"{index.get('files')} files, {index.get('chunks')} chunks"
    return peak, seconds, f"{what}; {watch.file_mb:.0f} MB file-backed"


def _model_settled(client: Any) -> bool:
    """The language model has loaded (or failed to, which the figure then says)."""
    completer = client.request("workspace/executeCommand", {"command": "tandem.status"})
    folders = [v for v in completer["completer"].values() if isinstance(v, dict) and "loaded" in v]
    return bool(folders) and not folders[0]["loading"] and folders[0]["backend"] != "retrieval"


class _StandInModel:
    """MiniLM's shape without MiniLM: each text's vector is drawn from its hash."""

    dim = 384
    max_tokens = 256

    def prepare(self, texts: Any) -> list[Any]:
        return list(texts)

    def length(self, item: Any) -> int:
        return 1

    def encode(self, items: Any) -> Any:
        import hashlib

        import numpy as np

        out = np.empty((len(items), self.dim), dtype=np.float32)
        for i, text in enumerate(items):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())
            out[i] = np.random.default_rng(seed).standard_normal(self.dim)
        return out

    def release(self) -> None:
        pass


def stand_in(dest: Path) -> str:
    """``dest``: the workspace, indexed without a model, then stand-in vectors for every
    chunk under MiniLM's name and slug (as if ``tandem index`` had embedded it)."""
    from indexer.embedder import MINILM, Embedder, default_precision
    from indexer.store import Store, default_uri
    from indexer.sync import embed_pending

    files, size = make_workspace(dest)
    index_peak(dest, Path(default_uri(dest)), "none")
    store = Store.open(default_uri(dest))
    embedder = Embedder(MINILM, _StandInModel(), default_precision())
    store.set_meta(
        {"embedder": MINILM, "embedder_slug": embedder.slug, "embedder_dim": str(embedder.dim)}
    )
    done = embed_pending(store, embedder)
    return f"{dest}: {files} files, {size / 1e6:.1f} MB, {done} stand-in vectors ({embedder.slug})"


def row(label: str, peak: float, seconds: float, what: str) -> tuple[str, str, str]:
    verdict = "ok" if peak <= TARGET_MB else "OVER"
    line = (label, f"{peak:.0f} MB", f"{TARGET_MB:.0f} MB ({verdict}); {what}, {seconds:.0f} s")
    print(f"  {line[0]:<60} {line[1]:>9}  {line[2]}", flush=True)
    return line


def run(
    tmp: Path, slices: list[int], serve: bool, indexed: Path | None = None
) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    ws = tmp / "ws"
    if slices or serve:  # (--indexed alone measures only the indexed workspace)
        files, size = make_workspace(ws)
        print(f"workspace: {' + '.join(PACKAGES)}, {files} files, {size / 1e6:.1f} MB", flush=True)
        peak, s, what = index_peak(ws, tmp / "db-none", "none")
        rows.append(row("tandem index, whole workspace, --embedder none", peak, s, what))
    for n in slices:
        part = tmp / f"slice{n}"
        make_workspace(part, n)
        peak, s, what = index_peak(part, tmp / f"db-{n}", "minilm")
        rows.append(row(f"tandem index, first {n} files, --embedder minilm", peak, s, what))
    if serve:
        peak, s, what = serve_peak(ws, "none")
        rows.append(row("tandem serve, whole workspace indexed, embedder none", peak, s, what))
        if slices:
            part = tmp / f"slice{slices[-1]}"
            shutil.rmtree(part / ".tandem", ignore_errors=True)
            peak, s, what = serve_peak(part, "minilm")
            label = f"tandem serve, first {slices[-1]} files embedded (minilm)"
            rows.append(row(label, peak, s, what))
            small = tmp / f"slice{slices[0]}"
            shutil.rmtree(small / ".tandem", ignore_errors=True)
            peak, s, what = serve_peak(small, "minilm", None)
            label = f"tandem serve, first {slices[0]} files, default settings (+ SmolLM2)"
            rows.append(row(label, peak, s, what))
    if indexed is not None:
        peak, s, what = serve_peak(indexed, "minilm", "retrieval")
        label = f"tandem serve, {indexed.name} indexed (minilm), retrieval backend"
        rows.append(row(label, peak, s, what))
        peak, s, what = serve_peak(indexed, "minilm", None)
        label = f"tandem serve, {indexed.name} indexed (minilm), default settings"
        rows.append(row(label, peak, s, what))
        peak, s, what = serve_peak(indexed, "minilm", None, {"prompt_quantization": "none"})
        label = f"tandem serve, {indexed.name} indexed (minilm), default but no prompt reader"
        rows.append(row(label, peak, s, what))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", default="60,150", help="file counts embedded with MiniLM")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument(
        "--indexed",
        type=Path,
        help="a workspace already indexed with MiniLM: tandem serve on it, default settings",
    )
    parser.add_argument(
        "--stand-in",
        type=Path,
        help="make DIR: the workspace indexed lexically with stand-in MiniLM vectors",
    )
    args = parser.parse_args()
    if args.stand_in is not None:
        os.environ.update(env())
        print(stand_in(args.stand_in.resolve()), flush=True)
        if args.indexed is None:
            return 0
    slices = [int(x) for x in args.slices.split(",") if x]
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-mem-") as d:
        rows = run(Path(d), slices, not args.no_serve, args.indexed)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    print("\n| measure | peak RSS | target (verdict); what, time |\n| --- | ---: | --- |")
    for label, value, beside in rows:
        print(f"| {label} | {value} | {beside} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
