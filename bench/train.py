"""LoRA training throughput beside its floor.

The floor is the compute a training token needs over this machine's measured float32
matrix-multiply rate (a 1024×1024 ``torch.matmul`` timed in the same run):

* base weights, frozen: forward 2·N and input-gradient backward 2·N FLOPs per token
  (no weight gradient), N = parameters of every linear layer, the output head included;
* LoRA matrices: forward 2·P, input-gradient 2·P and weight-gradient 2·P, so 6·P;
* attention scores and mixing (QKᵀ and AV): 4·d·c forward and 8·d·c backward per layer,
  with c = seq/2 positions attended on average under a causal mask.

    .venv/bin/python bench/train.py [--model smollm2] [--steps 3] [--batch 4] [--seq 256]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _fast_malloc() -> None:
    """The allocator settings the Makefile exports, applied here too when run directly."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except OSError:
        pass


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Best of three timings of ``repeats`` n×n float32 matmuls, in GFLOP/s."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b)
        best = min(best, (time.perf_counter() - t) / repeats)
    return 2 * n**3 / best / 1e9


def flops_per_token(model: object, seq: int) -> dict[str, float]:
    import torch

    base = lora = 0
    for name, module in model.named_modules():  # type: ignore[attr-defined]
        if isinstance(module, torch.nn.Linear):
            if "lora_" in name:
                lora += module.weight.numel()
            else:
                base += module.weight.numel()
    config = model.config  # type: ignore[attr-defined]
    layers, hidden = config.num_hidden_layers, config.hidden_size
    attention = 12 * layers * hidden * (seq / 2)
    return {
        "base_linear_params": base,
        "lora_params": lora,
        "base": 4 * base,
        "lora": 6 * lora,
        "attention": attention,
        "total": 4 * base + 6 * lora + attention,
    }


def main() -> int:
    _fast_malloc()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=256)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

    import torch

    from server.backends.loader import load_causal_lm
    from server.trainer.lora import token_nll, wrap_lora
    from server.trainer.options import TrainOptions

    lm = load_causal_lm(args.model)
    model = wrap_lora(lm.model, TrainOptions())
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    vocab = lm.model.config.vocab_size
    ids = torch.randint(0, vocab, (args.batch, args.seq), generator=gen)
    mask = torch.ones_like(ids)

    def step() -> int:
        nll, n = token_nll(model, ids, mask)
        (nll / n).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return n

    step()  # warm-up: allocations, kernel selection
    rate = matmul_gflops()
    times = []
    tokens = 0
    for _ in range(args.steps):
        t = time.perf_counter()
        tokens = step()
        times.append(time.perf_counter() - t)
    rate_after = matmul_gflops()
    flops = flops_per_token(model, args.seq)
    best = min(times)
    measured = tokens / best
    mean = tokens * len(times) / sum(times)
    matmul = max(rate, rate_after)
    floor = matmul * 1e9 / flops["total"]

    rows = [
        ("model", lm.model_id, ""),
        ("base linear params (N)", f"{flops['base_linear_params'] / 1e6:.1f} M", ""),
        ("LoRA params (P)", f"{flops['lora_params'] / 1e6:.2f} M", ""),
        ("FLOPs / token: 4N + 6P + attention", f"{flops['total'] / 1e9:.3f} GFLOP", ""),
        ("float32 matmul 1024² (best before/after)", f"{rate:.1f} / {rate_after:.1f} GFLOP/s", ""),
        (
            f"training tokens/s (batch {args.batch}×{args.seq}, best step)",
            f"{measured:.0f}",
            f"floor {floor:.0f} ({measured / floor:.0%} of it)",
        ),
        (
            f"training tokens/s (mean of {args.steps} steps)",
            f"{mean:.0f}",
            f"floor {floor:.0f} ({mean / floor:.0%} of it)",
        ),
        (
            "achieved GFLOP/s (best step)",
            f"{measured * flops['total'] / 1e9:.1f}",
            f"matmul {matmul:.1f}",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>{value_width}}  floor / baseline")
    print(f"{'-' * width}  {'-' * value_width}  {'-' * 30}")
    for label, value, floor_text in rows:
        print(f"{label:<{width}}  {value:>{value_width}}  {floor_text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
