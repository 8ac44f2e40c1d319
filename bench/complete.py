"""Per-stage completion latency with SmolLM2 on this machine, every engine side by side,
each figure beside its floor.

A workspace of more than 500 real Python files (packages from this venv, copied to a temp
folder and indexed lexically with ``tandem index --embedder none``); at each of N cursor
points (mid-line, single-line completion) the pipeline runs once cold (empty KV cache) and
then for three more keystrokes typed forward (the cache of the previous request reused).
The same points run on each engine (by default llama.cpp as served: Q8_0 weights decoding,
a BF16 copy reading long prompts; llama.cpp Q8_0 alone; transformers bf16 and fp32).
The floor per engine is computed, not re-measured: the prompt tokens it had to read (all
cold, only the new ones typing forward) at their FLOPs over this machine's measured matmul
rate, then per generated token its weight and KV-cache bytes over the measured memory
bandwidth. llama.cpp's threads spin-wait: under other load it slows sharply, so the load
average is printed with the table, and what ran beside each engine's cold requests (other
processes' cores, steal, this process's threads outside the engine's: bench/interference.py)
tells a disturbed run from a slow one. The same keystrokes also run with token healing and
guided identifiers off ("decoding off"): the decoding layer's cost beside its baseline.

    .venv/bin/python bench/complete.py [--points 20] [--engines llamacpp,transformers]
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
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
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
sys.path.insert(0, str(REPO / "bench"))

from interference import Watch  # noqa: E402 - bench/interference.py

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
THREADS = min(2, os.cpu_count() or 1)  # every engine's threads


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


def typed_forward(original: str, line: int, col: int) -> Iterator[tuple[int, str]]:
    """(k, the buffer with k more characters of the line typed) for k = 0..TYPED_KEYS,
    stopping at the end of the line."""
    for k in range(TYPED_KEYS + 1):
        text, rest = typed_buffer(original, line, col + k)
        if k and not rest and col + k > len(original.split("\n")[line]):
            return
        yield k, text


def typed_buffer(text: str, line: int, col: int) -> tuple[str, str]:
    """The buffer as it is while the user types line ``line``: its rest is not there yet.
    Returns (text, the rest of the real line the user is about to type)."""
    lines = text.split("\n")
    rest = lines[line][col:]
    lines[line] = lines[line][:col]
    return "\n".join(lines), rest


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass
class Shape:
    """What the floors need to know about a model: sizes from its GGUF."""

    layers: int
    dim: int
    ffn: int
    heads: int
    kv_heads: int
    vocab: int

    @classmethod
    def from_gguf(cls, path: Path) -> Shape:
        import gguf

        fields = gguf.GGUFReader(str(path)).fields
        arch = str(fields["general.architecture"].contents())

        def get(key: str) -> int:
            return int(fields[f"{arch}.{key}"].contents())

        vocab = fields.get(f"{arch}.vocab_size")
        return cls(
            layers=get("block_count"),
            dim=get("embedding_length"),
            ffn=get("feed_forward_length"),
            heads=get("attention.head_count"),
            kv_heads=get("attention.head_count_kv"),
            vocab=int(vocab.contents()) if vocab else len(fields["tokenizer.ggml.tokens"].data),
        )

    def matmul_params(self) -> int:
        kv = self.dim * self.kv_heads // self.heads
        per_layer = 2 * self.dim * self.dim + 2 * self.dim * kv + 3 * self.dim * self.ffn
        return self.layers * per_layer

    def flops(self, start: int, n: int, logits: int = 1) -> float:
        """Forward FLOPs for ``n`` tokens after ``start`` cached ones, ``logits`` outputs."""
        attention = 4 * self.dim * self.layers * sum(range(start + 1, start + n + 1))
        return 2.0 * self.matmul_params() * n + attention + 2.0 * self.dim * self.vocab * logits

    def kv_bytes(self, positions: int, bytes_per_value: int = 2) -> float:
        kv = self.dim * self.kv_heads // self.heads
        return 2.0 * self.layers * kv * positions * bytes_per_value


@dataclass
class Machine:
    """Measured once per run: the matmul rate per dtype and the memory read bandwidth."""

    flops: dict[str, float]  # FLOP/s of a model-sized GEMM, by torch dtype name
    bandwidth: float  # bytes/s read

    @classmethod
    def measure(cls, threads: int) -> Machine:
        import torch

        torch.set_num_threads(threads)
        rates = {}
        for dtype in (torch.float32, torch.bfloat16):
            a = torch.randn(512, 576, dtype=dtype)
            b = torch.randn(576, 1536, dtype=dtype)
            best = float("inf")
            for _ in range(20):
                t = time.perf_counter()
                for _ in range(10):
                    a @ b
                best = min(best, (time.perf_counter() - t) / 10)
            rates[str(dtype).removeprefix("torch.")] = 2 * 512 * 576 * 1536 / best
        big = torch.ones(64 << 20, dtype=torch.float32)  # 256 MB, far beyond the caches
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            big.sum()
            best = min(best, time.perf_counter() - t)
        return cls(rates, big.numel() * 4 / best)


@dataclass
class Engine:
    """One backend set-up in the comparison, and what its floors are made of."""

    label: str
    backend: str
    quantization: str = "q8_0"
    reader: str = "none"  # llama.cpp: the weights that read long prompts (none: the same)
    lora: str = ""  # with a LoRA adapter (made by the bench): "hot" or "merge"
    dtype: str = "float32"
    weight_bytes: float = 0.0
    rate: float = 0.0
    rows: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    load_s: float = 0.0
    nonempty: int = 0
    nonempty_off: int = 0  # with token healing and guided identifiers off
    # llama.cpp: tokens fed per thread count, by the decoding engine and by its prompt reader
    fed_by_threads: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    huge_mb: float = 0.0  # llama.cpp: its memory on huge pages
    huge_parts: str = ""  # llama.cpp: the decoder's and the reader's memory on huge pages

    def settings(self, decoding: bool = True, adapter: Path | None = None) -> Any:
        """``decoding=False``: token healing and guided identifiers off (the baseline)."""
        from server.settings import Settings

        s = Settings()
        if self.lora:
            if adapter is None:
                raise SystemExit(f"{self.label} needs the bench's adapter")
            s.model.adapter, s.model.lora = str(adapter), self.lora
        s.completion.multiline = "never"
        s.completion.token_healing = s.completion.guided_identifiers = decoding
        s.model.backend = self.backend
        s.model.quantization = self.quantization
        s.model.prompt_quantization = self.reader
        s.model.dtype = self.dtype
        return s

    def floors(
        self, shape: Shape, machine: Machine, prompt: int, reused: int, new: int
    ) -> tuple[float, float]:
        """(first token, total) floors in ms for a request: the prompt's FLOPs at the
        matmul rate, then per generated token the larger of its weight and KV-cache bytes
        at the memory bandwidth and its FLOPs at the matmul rate."""
        first = shape.flops(reused, prompt - reused) / self.rate
        total = first
        for i in range(max(0, new - 1)):
            read = self.weight_bytes + shape.kv_bytes(prompt + i)
            total += max(read / machine.bandwidth, shape.flops(prompt + i, 1) / self.rate)
        return first * 1000, total * 1000


ENGINES = {
    "llamacpp": Engine("llama.cpp Q8_0+bf16", "llamacpp", quantization="q8_0", reader="bf16"),
    "llamacpp-q8_0": Engine("llama.cpp Q8_0", "llamacpp", quantization="q8_0"),
    "llamacpp-bf16": Engine("llama.cpp BF16", "llamacpp", quantization="bf16"),
    "llamacpp-q4_0": Engine("llama.cpp Q4_0", "llamacpp", quantization="q4_0"),
    "lora-hot": Engine("LoRA hot-loaded", "llamacpp", reader="bf16", lora="hot"),
    "lora-merged": Engine("LoRA merged", "llamacpp", reader="bf16", lora="merge"),
    "transformers-bf16": Engine("transformers bf16", "transformers", dtype="bfloat16"),
    "transformers": Engine("transformers fp32", "transformers", dtype="float32"),
}


def run_engine(
    engine: Engine,
    workspace: Path,
    idx: Any,
    points: list[tuple[str, int, int]],
    shape: Shape,
    machine: Machine,
) -> None:
    """The pipeline at every point, cold and then typing forward, for one engine."""
    from server.backends.hugepages import process_huge_bytes
    from server.completion import Completer, CompletionRequest

    adapter = make_adapter(workspace.parent / "tandem-bench-adapter") if engine.lora else None
    completer = Completer(workspace, idx, engine.settings(adapter=adapter))
    baseline = Completer(workspace, idx, engine.settings(decoding=False, adapter=adapter))
    t0 = time.perf_counter()
    if not (completer.wait_until_loaded() and baseline.wait_until_loaded()):
        raise SystemExit(f"{engine.label} did not load: {completer.status()['fallback_reason']}")
    engine.load_s = time.perf_counter() - t0
    status = completer.status()
    if status["backend"] != engine.backend:
        raise SystemExit(f"{engine.label}: {status['backend']} serves instead ({status['notice']})")
    backend: Any = completer.loaded_backend()
    if engine.backend == "llamacpp":
        engine.weight_bytes = float(backend.engine.path.stat().st_size)
        engine.rate = max(machine.flops.values())
    else:
        model = backend.model
        engine.weight_bytes = float(sum(p.numel() * p.element_size() for p in model.parameters()))
        engine.rate = machine.flops[engine.dtype]
    path0, line0, col0 = points[0]  # warm-up: the context builder loads the workspace view
    text0, _ = typed_buffer((workspace / path0).read_text(), line0, col0)
    completer.complete(CompletionRequest(path0, text0, line0, col0))
    rows = engine.rows
    for n, (path, line, col) in enumerate(points, 1):
        print(f"{engine.label} [{n}/{len(points)}] {path}:{line + 1}", file=sys.stderr, flush=True)
        original = (workspace / path).read_text(encoding="utf-8", errors="replace")
        backend.reset_cache()
        for k, text in typed_forward(original, line, col):
            with Watch() as watch:
                r = completer.complete(
                    CompletionRequest(path, text, line, col + k, multiline=False)
                )
            t = r.timings
            prompt, reused, new = (
                int(t["prompt_tokens"]),
                int(t["reused_tokens"]),
                int(t["new_tokens"]),
            )
            first_floor, total_floor = engine.floors(shape, machine, prompt, reused, new)
            rows["context"].append(t["context_ms"])
            rows["prompt"].append(t.get("prompt_ms", 0.0))
            rows["new_tokens"].append(new)
            kind = "cold" if k == 0 else "typed"
            rows[f"{kind}_first"].append(t["first_token_ms"])
            rows[f"{kind}_total"].append(t["model_ms"])
            rows[f"{kind}_first_floor"].append(first_floor)
            rows[f"{kind}_total_floor"].append(total_floor)
            rows[f"{kind}_fed"].append(prompt - reused)
            if k == 0:
                rows["prompt_tokens"].append(prompt)
                engine.nonempty += bool(r.text)
                beside = watch.beside(engine_threads(backend))
                rows["cold_others"].append(beside.others)
                rows["cold_steal"].append(beside.steal)
                rows["cold_foreign_ms"].append(beside.foreign_ms)
            else:
                rows["own_ms"].append(t.get("heal_ms", 0.0) + t.get("guide_ms", 0.0))
        # The same keystrokes with token healing and guided identifiers off.
        backend.reset_cache()
        for k, text in typed_forward(original, line, col):
            r = baseline.complete(CompletionRequest(path, text, line, col + k, multiline=False))
            if k == 0:
                engine.nonempty_off += bool(r.text)
            else:
                rows["off_typed_first"].append(r.timings["first_token_ms"])
                rows["off_typed_total"].append(r.timings["model_ms"])
    engine_speed(engine, backend, shape, machine)
    if engine.backend == "llamacpp":
        parts = {"decoder": backend.engine, "reader": backend.engine.reader}
        for name, part in parts.items():
            for threads, n in (part.fed_by_threads if part is not None else {}).items():
                engine.fed_by_threads[name][threads] += n
        engine.huge_mb = process_huge_bytes() / 2**20
        engine.huge_parts = ", ".join(
            f"{name} {part.huge_pages.collapsed / 2**20:.0f} MB"
            for name, part in parts.items()
            if part is not None
        )


def engine_threads(backend: Any) -> int:
    """The threads the engine ran its last batch on (llama.cpp chooses them per batch)."""
    engine = getattr(backend, "engine", None)
    if engine is None or not hasattr(engine, "threads"):
        return THREADS
    reader = getattr(engine, "reader", None)
    return max(engine.threads, reader.threads if reader is not None else 0)


def thread_mix(engine: Engine) -> str:
    """The share of tokens llama.cpp read on each thread count, by the decoding engine
    (mostly the generated tokens) and by the prompt reader (it drops to fewer threads when
    other processes hold cores: one thread reads and decodes ~1.2-2x slower), and its
    memory on huge pages."""
    parts = []
    for name, counts in engine.fed_by_threads.items():
        total = sum(counts.values()) or 1
        shares = ", ".join(f"{n * 100 / total:.0f} % on {t}" for t, n in sorted(counts.items()))
        parts.append(f"{name} {shares}")
    return (
        f"{engine.label}: {'; '.join(parts)}; this process {engine.huge_mb:.0f} MB on huge "
        f"pages ({engine.huge_parts} collapsed at load)"
    )


def beside_cold(engine: Engine) -> str:
    """What ran beside the engine's cold requests (bench/interference.py): a slow run with
    other processes or steal on the cores was disturbed, not slow by itself."""
    rows = engine.rows
    return (
        f"{engine.label}: other processes p50 {pct(rows['cold_others'], 50):.2f} cores "
        f"(max {max(rows['cold_others'], default=0):.2f}), steal p50 "
        f"{pct(rows['cold_steal'], 50):.2f} (max {max(rows['cold_steal'], default=0):.2f}), "
        f"this process's threads outside the engine's p50 "
        f"{pct(rows['cold_foreign_ms'], 50):.1f} ms a request "
        f"(max {max(rows['cold_foreign_ms'], default=0):.1f})"
    )


def make_adapter(folder: Path) -> Path:
    """A random r=16 LoRA adapter on every linear layer of SmolLM2 (as ``tandem train``
    writes one), made once: its speed, not its advice, is measured."""
    if (folder / "adapter_model.safetensors").is_file():
        return folder
    import torch
    from peft import LoraConfig, get_peft_model

    from server.backends.loader import load_causal_lm

    torch.manual_seed(0)
    model = load_causal_lm("smollm2", device="cpu").model
    config = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.mul_(0.05)
    peft_model.save_pretrained(str(folder))
    return folder


def engine_speed(engine: Engine, backend: Any, shape: Shape, machine: Machine) -> None:
    """The engine alone: a 730-token prompt read cold, then 16 greedy tokens."""
    import numpy as np

    ids = backend.tokenizer.encode(Path(__file__).read_text(), add_special_tokens=False)[:730]
    eng = backend.engine
    for _ in range(2):
        eng.reset()
        t = time.perf_counter()
        logits, _ = eng.prefill(ids)
        prefill = time.perf_counter() - t
        token = int(np.argmax(logits))
        t = time.perf_counter()
        for _ in range(16):
            token = int(np.argmax(eng.step(token)))
        decode = time.perf_counter() - t
        engine.rows["prefill_tps"].append(len(ids) / prefill)
        engine.rows["decode_tps"].append(16 / decode)
    eng.reset()
    engine.rows["prefill_floor_tps"].append(len(ids) / (shape.flops(0, len(ids)) / engine.rate))
    per_token = engine.weight_bytes + shape.kv_bytes(len(ids) + 8)
    engine.rows["decode_floor_tps"].append(machine.bandwidth / per_token)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument(
        "--engines",
        default="llamacpp,llamacpp-q8_0,transformers-bf16,transformers",
        help=f"comma-separated, of: {', '.join(ENGINES)} (lora-*: a random r=16 adapter)",
    )
    parser.add_argument(
        "--workspace", type=Path, default=Path(tempfile.gettempdir()) / "tandem-bench-complete"
    )
    args = parser.parse_args()

    import torch

    from indexer.search import open_index
    from server.backends.gguf_models import served_gguf

    threads = THREADS
    torch.set_num_threads(threads)
    engines = [ENGINES[name.strip()] for name in args.engines.split(",") if name.strip()]
    n_files = make_workspace(args.workspace)
    index_s = index(args.workspace)
    idx = open_index(args.workspace)
    points = cursor_points(args.workspace, args.points)
    shape = Shape.from_gguf(served_gguf("smollm2", "source"))
    machine = Machine.measure(threads)
    load_before = os.getloadavg()
    for engine in engines:
        run_engine(engine, args.workspace, idx, points, shape, machine)
    load_after = os.getloadavg()

    first = engines[0].rows
    print(
        f"workspace: {n_files} Python files from {len(PACKAGES)} packages, indexed lexically "
        f"in {index_s:.1f} s; SmolLM2-135M; {threads} threads; {len(points)} cursor points, "
        f"{TYPED_KEYS} keystrokes typed forward at each; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(
        f"machine: matmul {machine.flops['float32'] / 1e9:.0f} GFLOP/s fp32, "
        f"{machine.flops['bfloat16'] / 1e9:.0f} bf16; "
        f"memory read {machine.bandwidth / 1e9:.1f} GB/s"
    )
    print(
        f"prompt tokens p50 {pct(first['prompt_tokens'], 50):.0f}, p95 "
        f"{pct(first['prompt_tokens'], 95):.0f}; typing forward fed the model p50 "
        f"{pct(first['typed_fed'], 50):.0f} tokens; generated p50 "
        f"{pct(first['new_tokens'], 50):.0f} tokens"
    )
    width = 22
    header = f"{'p50 ms (p95) [floor p50]':<30}" + "".join(f"{e.label:>{width}}" for e in engines)
    print(header)
    print("-" * len(header))

    def cell(e: Engine, key: str, floor: str | None, fmt: str = ".0f") -> str:
        v = e.rows[key]
        text = f"{pct(v, 50):{fmt}} ({pct(v, 95):{fmt}})"
        if floor:
            text += f" [{pct(e.rows[floor], 50):{fmt}}]"
        return f"{text:>{width}}"

    def row(label: str, key: str, floor: str | None = None, fmt: str = ".0f") -> None:
        print(f"{label:<30}" + "".join(cell(e, key, floor, fmt) for e in engines))

    row("context", "context", fmt=".1f")
    row("prompt build", "prompt", fmt=".1f")
    row("cold: first token", "cold_first", "cold_first_floor")
    row("cold: total (target 1000)", "cold_total", "cold_total_floor")
    row("typing: first token", "typed_first", "typed_first_floor")
    row("typing: total (target 100)", "typed_total", "typed_total_floor")
    row("typing: first, decoding off", "off_typed_first")
    row("typing: total, decoding off", "off_typed_total")
    row("typing: constraints' own time", "own_ms", fmt=".2f")
    print(
        f"{'typing total p50, on / off':<30}"
        + "".join(
            f"{pct(e.rows['typed_total'], 50) / pct(e.rows['off_typed_total'], 50):>{width}.2f}"
            for e in engines
        )
    )
    row("engine prefill tok/s (730)", "prefill_tps", "prefill_floor_tps")
    row("engine decode tok/s (>= 90)", "decode_tps", "decode_floor_tps")
    print(
        "load s: "
        + ", ".join(f"{e.label} {e.load_s:.1f}" for e in engines)
        + "; non-empty cold completions: "
        + ", ".join(f"{e.label} {e.nonempty}/{len(points)}" for e in engines)
        + "; with decoding off: "
        + ", ".join(f"{e.label} {e.nonempty_off}/{len(points)}" for e in engines)
    )
    llama = [thread_mix(e) for e in engines if e.backend == "llamacpp"]
    if llama:
        print("llama.cpp tokens read per thread count: " + "; ".join(llama))
    print("beside the cold requests: " + "; ".join(beside_cold(e) for e in engines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
