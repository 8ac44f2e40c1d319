"""Per-stage completion latency with SmolLM2 on this machine, beside the model's floor.

A workspace of more than 500 real Python files (packages from this venv, copied to a temp
folder and indexed lexically with ``tandem index --embedder none``); at each of N cursor
points (mid-line, single-line completion) the pipeline runs once cold (empty KV cache) and
then for three more keystrokes typed forward (the cache of the previous request reused).
The floor of each figure is the model's own forward time for the same tokens: the prompt
tokens it had to read (all of them cold, only the new ones when typing forward), plus one
forward step per generated token for the total.

    .venv/bin/python bench/complete.py [--points 20] [--workspace DIR]
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

for key, value in {
    "MALLOC_MMAP_THRESHOLD_": "4294967296",
    "MALLOC_TRIM_THRESHOLD_": "4294967296",
    "LANCEDB_LOG": "error",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(key, value)

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PACKAGES = (
    "rich",
    "pydantic",
    "urllib3",
    "httpx",
    "attr",
    "packaging",
    "pygls",
    "requests",
    "jinja2",
    "huggingface_hub",
)
TYPED_KEYS = 3


def site_packages() -> Path:
    import rich

    return Path(rich.__file__).resolve().parents[1]


def make_workspace(target: Path) -> int:
    """Copy the packages' Python files into ``target`` once; returns the file count."""
    marker = target / ".bench-complete"
    if marker.is_file():
        return int(marker.read_text())
    shutil.rmtree(target, ignore_errors=True)
    src = site_packages()
    n = 0
    for pkg in PACKAGES:
        for path in sorted((src / pkg).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            dest = target / path.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            n += 1
    marker.write_text(str(n))
    return n


def index(target: Path) -> float:
    t0 = time.perf_counter()
    tandem = str(Path(sys.executable).with_name("tandem"))
    proc = subprocess.run(
        [tandem, "index", str(target), "--embedder", "none"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"tandem index failed:\n{proc.stderr}")
    return time.perf_counter() - t0


def cursor_points(root: Path, n: int) -> list[tuple[str, int, int]]:
    """(path, 0-based line, 0-based col): mid-line in a code line with 10+ lines above."""
    rng = random.Random(0)
    files = sorted(p for p in root.rglob("*.py") if ".tandem" not in p.parts)
    rng.shuffle(files)
    points: list[tuple[str, int, int]] = []
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        candidates = [
            i
            for i, line in enumerate(lines)
            if i >= 10
            and len(line.strip()) >= 16
            and not line.strip().startswith(("#", '"', "'", "@"))
            and "=" in line
        ]
        if not candidates:
            continue
        i = rng.choice(candidates)
        line = lines[i]
        col = line.index("=") + 2 if line.index("=") + 2 < len(line) - 4 else len(line) // 2
        points.append((path.relative_to(root).as_posix(), i, col))
        if len(points) == n:
            break
    return points


def typed_buffer(text: str, line: int, col: int) -> tuple[str, str]:
    """The buffer as it is while the user types line ``line``: its rest is not there yet.
    Returns (text, the rest of the real line the user is about to type)."""
    lines = text.split("\n")
    rest = lines[line][col:]
    lines[line] = lines[line][:col]
    return "\n".join(lines), rest


def floors(engine: Any, ids: list[int], reused: int, new_tokens: int) -> tuple[float, float]:
    """(first-token floor, total floor) in ms: the model's forward time for the prompt
    tokens it had to read after ``reused`` cached ones, and one step per further token."""
    import numpy as np

    engine.reset()
    if reused:
        engine.prefill(ids[:reused])  # the cache then holds ids[:reused]
    t0 = time.perf_counter()
    logits, _ = engine.prefill(ids)
    first = (time.perf_counter() - t0) * 1000
    steps = []
    token = int(np.argmax(logits))
    for _ in range(max(0, new_tokens - 1)):
        t = time.perf_counter()
        logits = engine.step(token)
        steps.append((time.perf_counter() - t) * 1000)
        token = int(np.argmax(logits))
    engine.reset()
    return first, first + sum(steps)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument(
        "--workspace", type=Path, default=Path(tempfile.gettempdir()) / "tandem-bench-complete"
    )
    args = parser.parse_args()

    import torch

    from indexer.search import open_index
    from server.completion import Completer, CompletionRequest
    from server.prompt import budgets_from_settings, build_prompt
    from server.settings import Settings

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    n_files = make_workspace(args.workspace)
    index_s = index(args.workspace)
    idx = open_index(args.workspace)
    settings = Settings()
    settings.completion.multiline = "never"
    completer = Completer(args.workspace, idx, settings)
    t0 = time.perf_counter()
    if not completer.wait_until_loaded():
        raise SystemExit(f"model did not load: {completer.status()['fallback_reason']}")
    load_s = time.perf_counter() - t0
    backend: Any = completer.loaded_backend()
    tokenizer = backend.tokenizer
    status = completer.status()

    points = cursor_points(args.workspace, args.points)
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "context",
            "prompt",
            "prompt_tokens",
            "cold_first",
            "cold_total",
            "cold_first_floor",
            "cold_total_floor",
            "typed_first",
            "typed_total",
            "typed_first_floor",
            "typed_total_floor",
            "typed_fed",
            "new_tokens",
        )
    }
    nonempty = 0
    # Warm-up: the context builder's first call loads the workspace view.
    path0, line0, col0 = points[0]
    text0, _ = typed_buffer((args.workspace / path0).read_text(), line0, col0)
    completer.complete(CompletionRequest(path0, text0, line0, col0))

    for n, (path, line, col) in enumerate(points, 1):
        print(f"[{n}/{len(points)}] {path}:{line + 1}:{col + 1}", file=sys.stderr, flush=True)
        original = (args.workspace / path).read_text(encoding="utf-8", errors="replace")
        backend.reset_cache()
        for k in range(TYPED_KEYS + 1):
            text, rest = typed_buffer(original, line, col + k)
            if k and not rest and col + k > len(original.split("\n")[line]):
                break
            req = CompletionRequest(path, text, line, col + k, multiline=False)
            r = completer.complete(req)
            t = r.timings
            # Rebuild the same prompt to know its ids (the pipeline does not return them).
            from server.completion import split_at_cursor

            prefix, suffix = split_at_cursor(text, line, col + k)
            prompt = build_prompt(
                tokenizer,
                status["template"],
                prefix,
                suffix,
                r.snippets,
                budgets_from_settings(settings.completion),
                path=path,
                repo=args.workspace.name,
            )
            reused = int(t["reused_tokens"])
            new_tokens = int(t["new_tokens"])
            cache_state = backend.engine.snapshot()
            first_floor, total_floor = floors(backend.engine, prompt.ids, reused, new_tokens)
            backend.engine.restore(cache_state)  # keep typing forward warm
            rows["context"].append(t["context_ms"])
            rows["prompt"].append(t.get("prompt_ms", 0.0))
            if k == 0:
                rows["prompt_tokens"].append(t["prompt_tokens"])
                rows["cold_first"].append(t["first_token_ms"])
                rows["cold_total"].append(t["model_ms"])
                rows["cold_first_floor"].append(first_floor)
                rows["cold_total_floor"].append(total_floor)
                nonempty += bool(r.text)
            else:
                rows["typed_first"].append(t["first_token_ms"])
                rows["typed_total"].append(t["model_ms"])
                rows["typed_first_floor"].append(first_floor)
                rows["typed_total_floor"].append(total_floor)
                rows["typed_fed"].append(t["prompt_tokens"] - reused)
            rows["new_tokens"].append(new_tokens)

    print(
        f"workspace: {n_files} Python files from {len(PACKAGES)} packages, indexed lexically "
        f"in {index_s:.1f} s; model {status['model']} (template {status['template']}), "
        f"loaded in {load_s:.1f} s; torch threads {torch.get_num_threads()}; "
        f"{len(points)} cursor points, {TYPED_KEYS} keystrokes typed forward at each"
    )
    print(
        f"prompt tokens p50 {pct(rows['prompt_tokens'], 50):.0f}, p95 "
        f"{pct(rows['prompt_tokens'], 95):.0f}; typing forward fed the model p50 "
        f"{pct(rows['typed_fed'], 50):.0f} tokens (rest from the KV cache); generated p50 "
        f"{pct(rows['new_tokens'], 50):.0f} tokens; non-empty cold completions "
        f"{nonempty}/{len(points)}"
    )
    header = f"{'stage':<34}{'p50 ms':>10}{'p95 ms':>10}{'floor p50':>12}{'floor p95':>12}"
    print(header)
    print("-" * len(header))

    def row(label: str, key: str, floor_key: str | None, target: str = "") -> None:
        v = rows[key]
        f = rows[floor_key] if floor_key else []
        floor50 = f"{pct(f, 50):>12.1f}" if f else f"{target:>12}"
        floor95 = f"{pct(f, 95):>12.1f}" if f else f"{'':>12}"
        print(f"{label:<34}{pct(v, 50):>10.1f}{pct(v, 95):>10.1f}{floor50}{floor95}")

    row("context (target p95 <= 30)", "context", None, "(no model)")
    row("prompt build", "prompt", None, "(no model)")
    row("cold: time to first token", "cold_first", "cold_first_floor")
    row("cold: total (single line)", "cold_total", "cold_total_floor")
    row("typing forward: first token", "typed_first", "typed_first_floor")
    row("typing forward: total", "typed_total", "typed_total_floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
