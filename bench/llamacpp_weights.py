"""Which weights llama.cpp should read prompts and decode with, on this CPU: per
quantization of the bundled SmolLM2, the prompt-reading speed (a 730-token prompt, per
CPU-second on one thread, so that other load on a shared machine changes it little; best
of N), the decode speed (wall clock, indicative under load) and the bits per token on real
code beside F32's (a quantization more than 2 % above F32 is not acceptable as default).

    .venv/bin/python bench/llamacpp_weights.py [--quantizations f32,bf16,q8_0,q4_0] [--reps 3]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Real code: this repository's own Python files (always present).
TEXTS = ("server/decoding/loop.py", "server/completion.py", "bench/complete.py")


def run(quantization: str, ids: list[int], windows: list[list[int]], reps: int) -> list[float]:
    from server.backends.gguf_models import served_gguf
    from server.backends.llamacpp_engine import llama_cpp_module

    lc = llama_cpp_module()
    path = str(served_gguf("smollm2", quantization))
    llm = lc.Llama(
        model_path=path, n_ctx=2048, n_batch=1024, n_ubatch=1024, n_threads=1,
        n_threads_batch=1, flash_attn=True, logits_all=True, verbose=False,
    )  # fmt: skip
    best_cpu = math.inf
    for _ in range(reps):
        llm.reset()
        llm._ctx.kv_cache_clear()
        t = time.process_time()
        llm.eval(ids)
        best_cpu = min(best_cpu, time.process_time() - t)
    token = int(np.argmax(llm.scores[len(ids) - 1]))
    t = time.perf_counter()
    for _ in range(16):
        llm.eval([token])
        token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
    decode = 16 / (time.perf_counter() - t)
    nll, n = 0.0, 0
    for w in windows:
        llm.reset()
        llm._ctx.kv_cache_clear()
        llm.eval(w)
        z = np.asarray(llm.scores[: len(w)], dtype=np.float64)
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll -= float(logp[np.arange(len(w) - 1), w[1:]].sum())
        n += len(w) - 1
    llm.close()
    return [len(ids) / best_cpu, decode, nll / n / math.log(2)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantizations", default="f32,bf16,q8_0,q4_0")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from server.backends.llamacpp_backend import tokenizer_for

    tokenizer = tokenizer_for("smollm2")
    ids = tokenizer.encode((REPO / "bench/complete.py").read_text(), add_special_tokens=False)
    windows = []
    for name in TEXTS:
        t = tokenizer.encode((REPO / name).read_text(), add_special_tokens=False)
        windows += [t[i : i + 1024] for i in range(0, min(len(t), 2048), 1024) if len(t) > i + 256]
    before = os.getloadavg()[0]
    rows = {q: run(q, ids[:730], windows, args.reps) for q in args.quantizations.split(",")}
    print(
        f"SmolLM2-135M, llama.cpp, flash attention, 1 thread; bits/token on "
        f"{sum(len(w) - 1 for w in windows)} tokens of code; load {before:.1f} -> "
        f"{os.getloadavg()[0]:.1f}"
    )
    ref = rows.get("f32", [0.0, 0.0, 0.0])[2]
    print(f"{'weights':<8} {'prompt tok/CPU-s':>17} {'decode tok/s':>13} {'bits/token':>11} vs f32")
    for q, (prefill, decode, bits) in rows.items():
        rel = f"{(bits / ref - 1) * 100:+.1f} %" if ref else ""
        print(f"{q:<8} {prefill:>17.0f} {decode:>13.0f} {bits:>11.4f} {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
