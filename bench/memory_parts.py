"""Where ``tandem serve``'s resident memory goes: one process loads what the server loads,
in the server's order, and prints the resident set after each part.

Each row: VmRSS (resident now), its growth over the previous row, VmHWM (the peak so
far), and the anonymous / file-backed split (``/proc/self/smaps_rollup``: file-backed pages
are mapped libraries and weights, which the kernel can drop and read again). The parts: the
language server's imports (pygls), LanceDB and Arrow, the tree-sitter grammars, the index's
snapshot, the context builder's in-memory view (BM25, definitions, vectors) and one context,
the query embedder (MiniLM), and llama.cpp's engine and prompt reader with one completion.

    python bench/memory_parts.py DIR [--no-model] [--reader auto|none]

``DIR``: a workspace already indexed (``tandem index DIR --embedder minilm``).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def memory() -> dict[str, float]:
    """VmRSS, VmHWM (status) and Anonymous, Rss file-backed (smaps_rollup), in MB."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    rollup: dict[str, float] = {}
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            rollup[key] = int(value.split()[0]) / 1024
    out["anon"] = rollup.get("Anonymous", 0.0)
    out["file"] = rollup.get("Rss", 0.0) - out["anon"]
    return out


class Table:
    def __init__(self) -> None:
        self.last = memory()["VmRSS"]
        self.t = time.process_time()
        print("| part | RSS MB | + MB | peak MB | anon MB | file MB | CPU s |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        self.row("python + tandem's heap settings")

    def row(self, label: str) -> None:
        gc.collect()
        m = memory()
        cpu = time.process_time() - self.t
        print(
            f"| {label} | {m['VmRSS']:.0f} | {m['VmRSS'] - self.last:+.0f} | {m['VmHWM']:.0f} "
            f"| {m['anon']:.0f} | {m['file']:.0f} | {cpu:.1f} |",
            flush=True,
        )
        self.last = m["VmRSS"]
        self.t = time.process_time()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", type=Path)
    parser.add_argument("--no-model", action="store_true", help="stop before llama.cpp")
    parser.add_argument("--reader", default="auto", help="the prompt reader's quantization")
    parser.add_argument("--no-embedder", action="store_true", help="skip the query embedder")
    args = parser.parse_args()
    ws = args.workspace.resolve()
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}; {ws}")

    from indexer.memory import use_ordinary_heap

    use_ordinary_heap()  # what every tandem command does first
    table = Table()
    import server.lsp.server  # noqa: F401 - pygls, lsprotocol and the server's modules

    table.row("import the language server (pygls, lsprotocol)")
    import lancedb  # noqa: F401
    import pyarrow  # noqa: F401

    import indexer.search  # noqa: F401

    table.row("import lancedb, pyarrow, the index reader")
    from indexer.languages import get_parser

    for language in ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"):
        get_parser(language)
    table.row("tree-sitter grammars (8 languages' parsers)")
    from indexer.search import open_index

    index = open_index(ws)
    table.row(f"open the index ({index.status().get('chunks')} chunks)")
    from server.context.builder import build_context, view_for, warm

    view = view_for(index)
    table.row(f"context builder's view ({len(view.files)} files, BM25, vectors dict)")
    warm(index, wait=True)
    table.row("type facts of every file (the server's pass after indexing)")
    probe = "from sympy import Symbol\n\nx = Symbol('x')\ny = x."
    result = build_context(index, "probe_memory.py", probe, 3, len("y = x."))
    table.row(f"one context ({len(result.snippets)} snippets; definitions, vector matrix)")
    if not args.no_embedder:
        emb = index.embedder()
        table.row(f"query embedder loaded ({emb.slug if emb else None})")
        if emb is not None:
            emb.embed(["def solve(equation, symbol):"])
            table.row("one query embedded")
    if args.no_model:
        return 0
    from server.backends.llamacpp_backend import load_llamacpp
    from server.backends.llamacpp_engine import contexts
    from server.backends.loader import SMOLLM2
    from server.settings import CompletionSettings, ModelSettings

    quantization = ModelSettings().quantization
    cs = CompletionSettings()  # the engines sized as the server sizes them
    budget = cs.prefix_tokens + cs.suffix_tokens + cs.snippet_tokens
    n_ctx, reader_ctx = contexts(budget, cs.max_tokens)
    from server.backends import llamacpp_engine
    from server.backends.llamacpp_backend import prompt_reader_quantization

    reader_q = prompt_reader_quantization(args.reader, quantization)
    if reader_q is not None:  # the served engine's batch beside a reader, as the server has it
        llamacpp_engine.BATCH = llamacpp_engine.DECODER_BATCH
    backend, _ = load_llamacpp(SMOLLM2, quantization, None, n_ctx=n_ctx, reader="none")
    table.row(f"llama.cpp engine ({quantization}, {n_ctx} positions) + tokenizer, warmed up")
    if reader_q is not None:
        from server.backends.llamacpp_backend import engine_for
        from server.backends.llamacpp_engine import READER_BATCH

        reader = engine_for(SMOLLM2, reader_q, reader_ctx, None, None, READER_BATCH)
        backend.engine.reader = reader
        backend.warm_up()
        table.row(f"prompt reader ({reader_q}, {reader_ctx} positions), warmed up")
    _complete(backend, result)
    table.row("one completion (a ~1,000-token prompt)")
    return 0


def _complete(backend: Any, result: Any) -> None:
    text = "\n".join(s.text for s in result.snippets)[:4000] or "def f():\n    pass\n" * 100
    ids = backend.tokenizer.encode(text, add_special_tokens=False)[:1000]
    backend.engine.prefill(ids)


if __name__ == "__main__":
    sys.exit(main())
