"""Team scale: an editor on a shared base index in S3 with a local delta, beside building
the whole index locally.

Workspace: every ``.py`` file of the sympy package installed in this venv (1,532 files,
26 MB), committed to a git repository as CI's checkout of main. The S3 server is moto's
(``moto[server]``, started here on 127.0.0.1, the same as the tests use). By default both
sides index with ``--embedder none`` (lexical: symbols and full text), which is what an
editor waits for before its first context: ``tandem serve`` embeds in the background.

1. CI builds the base into ``s3://…/main`` once (timed, for reference).
2. A developer's clone has 50 files edited. *Editor with a base*: start reading the
   base's rows in the background, compute the delta against the base (git diff against
   the base's commit: a clone's git index is fresh, so the copy's is refreshed first,
   untimed), index the 50 files locally, open base ∪ delta (taking the rows read
   meanwhile), build the first context (its BM25 from the postings CI wrote beside the
   base: ``indexer.lexicon``); what ``tandem serve`` does on opening the folder.
   *Full local build*: index the whole clone locally, open it, build the first
   context. Beside the wall times, the CPU seconds of this process and the S3 server
   together: on a shared machine the load inflates wall time, not these.
3. Search and context latency, p50 and p95, over the same queries and cursors: base read
   from the local S3 server (plus the local delta) beside the local full index; the first
   search after opening is printed apart (over a base, it builds the in-memory full-text
   index that later queries use instead of the base's full-text index in S3).
4. MiniLM, the default embedder: the embedding rate measured on a sample of 256 chunks in
   this run, and a projection of each side's time to a fully embedded index (its lexical
   time plus the chunks it must embed at that rate: every chunk locally; for the delta,
   only chunks whose content hash the base has no vector for). ``--embedder minilm``
   measures it instead: CI builds the base with MiniLM and each side's embedding is timed
   (a full embed each for CI and the local build: most of an hour on 2 cores for all of
   sympy; ``--max-files`` takes a smaller workspace).

    .venv/bin/python bench/team.py [--edited 50] [--queries 100] [--embedder minilm]
        [--max-files N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("LANCEDB_LOG", "error")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "team"))  # the S3 server the tests start

TARGET_SPEEDUP = 20.0


def _copy_sympy(dest: Path, max_files: int | None = None) -> int:
    import sympy

    src = Path(sympy.__file__).parent
    total = 0
    sources = sorted(p for p in src.rglob("*.py") if "__pycache__" not in p.parts)
    for path in sources[:max_files]:
        out = dest / "sympy" / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        total += out.stat().st_size
    git = ["git", "-C", str(dest), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "main"], check=True)
    return total


def _edit(root: Path, n: int, rng: random.Random) -> list[str]:
    files = sorted(p for p in (root / "sympy").rglob("*.py") if p.stat().st_size > 2000)
    chosen = rng.sample(files, n)
    for i, path in enumerate(chosen):
        path.write_text(path.read_text() + f"\n\ndef team_bench_edit_{i}(x):\n    return x + {i}\n")
    return [p.relative_to(root).as_posix() for p in chosen]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _cursors(root: Path, n: int, rng: random.Random) -> list[tuple[str, str, int, int]]:
    """(path, text, line, col): the end of a line inside a function body."""
    files = sorted(p for p in (root / "sympy").rglob("*.py") if p.stat().st_size > 4000)
    out: list[tuple[str, str, int, int]] = []
    while len(out) < n:
        path = rng.choice(files)
        text = path.read_text()
        lines = text.splitlines()
        body = [i for i, ln in enumerate(lines) if ln.startswith("        ") and ln.strip()]
        if not body:
            continue
        line = rng.choice(body)
        out.append((path.relative_to(root).as_posix(), text, line, len(lines[line])))
    return out


def _queries(index: Any, n: int, rng: random.Random) -> list[str]:
    names = sorted(
        {d.name for p in sorted(index.known_paths())[:400] for d in index.file_definitions(p)}
    )
    words = ["simplify expression", "matrix determinant", "polynomial roots", "integrate"]
    return [rng.choice(names) if i % 4 else rng.choice(words) for i in range(n)]


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _first_context(
    root: Path, settings: Any, cursor: tuple[str, str, int, int], embed: bool, s3_pid: int
) -> dict[str, float]:
    """What an editor opening ``root`` waits for: sync, open, first context (seconds);
    with ``embed``, then the embedding that ``tandem serve`` runs behind it. ``cpu``: the
    CPU seconds of this process and the S3 server together (other load does not count)."""
    from indexer.search import open_index, prefetch_base
    from indexer.store import Store
    from indexer.sync import sync
    from server.context import build_context

    Store.close_all()
    cpu0 = _cpu_s(os.getpid()) + _cpu_s(s3_pid)
    t0 = time.perf_counter()
    prefetch_base(settings)  # as `tandem serve` does: the base loads while the delta syncs
    sync(root, settings, embed=False)
    t1 = time.perf_counter()
    index = open_index(root, settings=settings)
    t2 = time.perf_counter()
    path, text, line, col = cursor
    build_context(index, path, text, line, col)
    t3 = time.perf_counter()
    cpu = _cpu_s(os.getpid()) + _cpu_s(s3_pid) - cpu0
    out = {"sync": t1 - t0, "open": t2 - t1, "first context": t3 - t2, "total": t3 - t0}
    out["cpu"] = cpu
    if embed:
        report = sync(root, settings)  # nothing left to index: only the pending vectors
        out["embedded"] = report.embedded
        out["embed"] = time.perf_counter() - t3
    return out


def _embed_rate(index: Any, n: int = 256) -> float:
    """MiniLM chunks per second on this machine now, on ``n`` of the workspace's chunks."""
    from indexer.embedder import load_embedder

    embedder = load_embedder("minilm")
    assert embedder is not None
    texts = [c.text for _, c in zip(range(n), index.all_chunks(), strict=False)]
    embedder.embed(texts[:16])  # load and warm
    t = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - t)


def _latencies(index: Any, queries: list[str], cursors: list[Any]) -> dict[str, list[float]]:
    from server.context import build_context

    search_ms: list[float] = []
    context_ms: list[float] = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, k=10)
        search_ms.append((time.perf_counter() - t) * 1000)
    for path, text, line, col in cursors:
        t = time.perf_counter()
        build_context(index, path, text, line, col)
        context_ms.append((time.perf_counter() - t) * 1000)
    return {"search": search_ms, "context": context_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edited", type=int, default=50)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--embedder",
        choices=("none", "minilm"),
        default="none",
        help="minilm: build the base with MiniLM and time each side's embedding (long)",
    )
    parser.add_argument("--max-files", type=int, default=None, help="a smaller workspace")
    args = parser.parse_args()
    from s3_support import S3Server

    from indexer.search import open_index
    from indexer.store import Store
    from indexer.sync import sync
    from server.settings import IndexSettings

    rng = random.Random(11)
    tmp = Path(tempfile.mkdtemp(prefix="tandem-team-bench-"))
    s3 = S3Server(tmp)
    try:
        for key, value in s3.env().items():
            if key.startswith("AWS_"):
                os.environ[key] = value
        bucket = s3.new_bucket()
        base_uri = f"s3://{bucket}/main"
        main_root = tmp / "main"
        size = _copy_sympy(main_root, args.max_files)
        n_files = sum(1 for _ in (main_root / "sympy").rglob("*.py"))
        print(f"workspace: sympy's .py files, {n_files} files, {size / 1e6:.1f} MB")
        print(f"load average before: {_load()}")

        t = time.perf_counter()
        ci = sync(main_root, IndexSettings(db=base_uri, embedder=args.embedder))
        ci_s = time.perf_counter() - t
        print(f"CI: base built into {base_uri} in {ci_s:.1f} s ({ci.total_chunks} chunks)")

        dev = tmp / "dev"
        shutil.copytree(main_root, dev)
        edited = _edit(dev, args.edited, rng)
        # A clone's git index has every file's stat; a copied tree's does not (git would
        # re-read every file on each diff until something refreshes it, as `git status`
        # in any editor does). Untimed: the developer's checkout exists before the editor.
        subprocess.run(["git", "-C", str(dev), "update-index", "-q", "--refresh"], check=False)
        local = tmp / "local"
        shutil.copytree(dev, local)
        cursors = _cursors(dev, args.queries, rng)
        first = cursors[0]

        embed = args.embedder != "none"
        with_base = IndexSettings(base=base_uri, embedder=args.embedder)
        editor = _first_context(dev, with_base, first, embed, s3.proc.pid)
        full = _first_context(
            local, IndexSettings(embedder=args.embedder), first, embed, s3.proc.pid
        )
        editor_s, full_s = editor["total"], full["total"]

        Store.close_all()
        layered = open_index(dev, settings=with_base)
        whole = open_index(local, settings=IndexSettings())
        status = layered.status()
        assert status["delta_files"] == len(edited), status
        queries = _queries(whole, args.queries, rng)
        first_search = []
        for index in (layered, whole):  # over a base: builds the in-memory full-text index
            t = time.perf_counter()
            index.search(queries[0], k=10)
            first_search.append(time.perf_counter() - t)
        _latencies(layered, queries[:5], cursors[:5])  # warm both (views, caches)
        _latencies(whole, queries[:5], cursors[:5])
        lat_base = _latencies(layered, queries, cursors)
        lat_full = _latencies(whole, queries, cursors)
        load = _load()

        print()
        print(f"{'measure':<48} {'base in S3 + delta':>18} {'local full index':>18}  note")
        used = "MiniLM" if embed else "none (lexical)"
        print(
            f"{'embedder of every row below (unless it says)':<48} {used:>18} {used:>18}  "
            "CI's base was built with the same"
        )
        print(
            f"{'editor to first context (s)':<48} {editor_s:>18.1f} {full_s:>18.1f}  "
            f"{full_s / editor_s:.1f}x faster (target >= {TARGET_SPEEDUP:.0f}x)"
        )
        for phase in ("sync", "open", "first context"):
            print(f"{'  ' + phase + ' (s)':<48} {editor[phase]:>18.1f} {full[phase]:>18.1f}")
        print(
            f"{'  CPU s to first context (this + S3 server)':<48} {editor['cpu']:>18.1f} "
            f"{full['cpu']:>18.1f}  {full['cpu'] / editor['cpu']:.1f}x less CPU (other load "
            "does not count)"
        )
        print(
            f"{'  files indexed locally':<48} {status['delta_files']:>18} "
            f"{n_files:>18}  delta = {args.edited} edited files"
        )
        for kind in ("search", "context"):
            for q in (50, 95):
                a, b = _pct(lat_base[kind], q), _pct(lat_full[kind], q)
                print(
                    f"{f'{kind} p{q} (ms, {len(lat_base[kind])} calls)':<48} {a:>18.1f} "
                    f"{b:>18.1f}  {a / b if b else float('nan'):.2f}x the local index"
                )
        print(
            f"{'first search after open (s)':<48} {first_search[0]:>18.2f} "
            f"{first_search[1]:>18.2f}  over a base it builds the in-memory full-text index"
        )
        print(
            f"{'  search median, all calls (ms)':<48} "
            f"{statistics.median(lat_base['search']):>18.1f} "
            f"{statistics.median(lat_full['search']):>18.1f}"
        )
        if embed:
            e_all, f_all = editor_s + editor["embed"], full_s + full["embed"]
            print(
                f"{'to a fully embedded index (s), MiniLM, measured':<48} {e_all:>18.1f} "
                f"{f_all:>18.1f}  {f_all / e_all:.1f}x faster; embedded "
                f"{editor['embedded']:.0f} vs {full['embedded']:.0f} chunks"
            )
        rate = _embed_rate(whole)
        # The delta embeds only chunks the base has no vector for (same content hash);
        # vectors are cached by content hash, so a full build embeds each text once.
        from indexer.store import CHUNKS

        base_rows = Store.open(base_uri).read(CHUNKS, ["content_hash"])
        base_hashes = set(base_rows.column("content_hash").to_pylist())
        delta_hashes = {c.content_hash for p in edited for c in layered.chunks(p)}
        delta_chunks = len(delta_hashes - base_hashes)
        total_chunks = len({c.content_hash for c in whole.all_chunks()})
        proj_editor = editor_s + delta_chunks / rate
        proj_full = full_s + total_chunks / rate
        print(
            f"{'to a fully embedded index (s), MiniLM, projected':<48} {proj_editor:>18.0f} "
            f"{proj_full:>18.0f}  {proj_full / proj_editor:.0f}x faster: lexical time above "
            f"+ {delta_chunks} vs {total_chunks} chunks at {rate:.0f} chunks/s (MiniLM on "
            "256 chunks, measured now)"
        )
        sides = "MiniLM (embedding timed)" if embed else "--embedder none (lexical)"
        print(f"load average after: {load}; both sides indexed with {sides}")
        return 0
    finally:
        s3.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
