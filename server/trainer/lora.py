"""The LoRA training loop: peft adapters on a frozen causal LM, resumable checkpoints, and
the holdout loss that tells whether training helped.

Batches follow a fixed per-epoch permutation derived from the seed, so a checkpoint only
needs the step number (plus adapter, optimizer, scheduler and RNG state) to continue
exactly where an interrupted run stopped: a resumed run ends with the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import math
import os
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict

from server.trainer.examples import Example
from server.trainer.options import TrainOptions
from server.trainer.progress import ProgressCallback, TrainProgress

CHECKPOINT_FILE = "checkpoint.pt"


class TrainingInterrupted(Exception):
    """Training stopped on request; the checkpoint on disk resumes it."""

    def __init__(self, step: int, checkpoint: Path) -> None:
        super().__init__(f"stopped at step {step}; rerun the same command to resume")
        self.step = step
        self.checkpoint = checkpoint


def pick_device(preference: str) -> torch.device:
    """CPU by default; CUDA when asked for or, with ``auto``, when there is one."""
    if preference == "cuda" or (preference == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise ValueError("device cuda was asked for, but torch sees no GPU")
        return torch.device("cuda")
    return torch.device("cpu")


def wrap_lora(model: torch.nn.Module, options: TrainOptions) -> PeftModel:
    """Freeze the base model and add trainable LoRA matrices to the target modules."""
    config = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=options.target_modules or "all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )
    try:
        with warnings.catch_warnings():
            # peft asks transformers 5 for a renamed attribute: noise for our users.
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            return get_peft_model(model, config)
    except ValueError as e:  # peft's message names the missing modules
        raise ValueError(f"cannot apply LoRA: {e}") from None


def collate(
    examples: Sequence[Example], pad_id: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids`` and ``attention_mask`` for a batch."""
    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        ids[row, : len(example.input_ids)] = torch.tensor(example.input_ids)
        mask[row, : len(example.input_ids)] = 1
    return ids.to(device), mask.to(device)


def token_nll(
    model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """Summed next-token negative log-likelihood (nats) over real tokens, and their count."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    targets = ids[:, 1:]
    keep = mask[:, 1:].bool()
    nll = torch.nn.functional.cross_entropy(logits[keep], targets[keep], reduction="sum")
    return nll, int(keep.sum())


@torch.no_grad()
def mean_loss(
    model: torch.nn.Module,
    examples: Sequence[Example],
    pad_id: int,
    device: torch.device,
    batch_size: int,
) -> tuple[float | None, int]:
    """Mean next-token loss (nats) over the examples, and the number of tokens scored."""
    if not examples:
        return None, 0
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        ids, mask = collate(examples[start : start + batch_size], pad_id, device)
        nll, n = token_nll(model, ids, mask)
        total += float(nll)
        count += n
    model.train(was_training)
    return (total / count if count else None), count


def total_steps(n_examples: int, options: TrainOptions) -> int:
    if options.max_steps is not None:
        return options.max_steps
    per_epoch = math.ceil(n_examples / options.batch_size)
    return max(1, math.ceil(options.epochs * per_epoch))


def batch_indices(step: int, n_examples: int, batch_size: int, seed: int) -> list[int]:
    """The examples of a step: a fixed permutation per epoch, so any step is reproducible."""
    per_epoch = math.ceil(n_examples / batch_size)
    epoch, position = divmod(step, per_epoch)
    order = list(range(n_examples))
    random.Random(seed * 100_003 + epoch).shuffle(order)
    return order[position * batch_size : (position + 1) * batch_size]


@dataclass
class LoopResult:
    steps: int
    tokens: int  # real tokens trained on (all steps, resumed ones included)
    seconds: float  # training time (all sessions of a resumed run)
    losses: list[float] = field(default_factory=list)  # per step
    previous_seconds: float = 0.0  # training time of earlier, interrupted sessions
    extra: dict[str, Any] = field(default_factory=dict)  # carried through checkpoints


def _lr_factor(step: int, steps: int) -> float:
    """Short linear warm-up, then linear decay to a tenth of the rate."""
    warmup = max(1, min(10, steps // 10))
    if step < warmup:
        return (step + 1) / warmup
    return 1.0 - 0.9 * (step - warmup) / max(1, steps - warmup)


def run_training(
    model: PeftModel,
    examples: Sequence[Example],
    options: TrainOptions,
    pad_id: int,
    device: torch.device,
    checkpoint_dir: Path,
    fingerprint: str,
    *,
    extra: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> LoopResult:
    """Train until the step budget is spent, checkpointing every ``checkpoint_every`` steps
    and when ``should_stop`` turns true (then raising ``TrainingInterrupted``). ``extra`` is
    stored in the checkpoint and handed back on resume (e.g. the loss before training)."""
    steps = total_steps(len(examples), options)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, steps))
    result = LoopResult(steps=0, tokens=0, seconds=0.0, extra=dict(extra or {}))
    if _load_checkpoint(checkpoint_dir, fingerprint, model, optimizer, scheduler, result):
        _report(progress, "training", result, steps, message=f"resumed at step {result.steps}")
    model.train()
    recent: list[tuple[float, int]] = []  # (seconds, tokens) of the latest steps
    while result.steps < steps:
        started = time.perf_counter()
        picked = [
            examples[i]
            for i in batch_indices(result.steps, len(examples), options.batch_size, options.seed)
        ]
        ids, mask = collate(picked, pad_id, device)
        nll, n_tokens = token_nll(model, ids, mask)
        loss = nll / max(1, n_tokens)
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed = time.perf_counter() - started
        result.steps += 1
        result.tokens += n_tokens
        result.seconds += elapsed
        result.losses.append(loss.item())
        recent = [*recent[-9:], (elapsed, n_tokens)]
        _report(progress, "training", result, steps, recent=recent)
        stop = should_stop is not None and should_stop()
        if stop or (result.steps % options.checkpoint_every == 0 and result.steps < steps):
            _save_checkpoint(checkpoint_dir, fingerprint, model, optimizer, scheduler, result)
        if stop and result.steps < steps:
            raise TrainingInterrupted(result.steps, checkpoint_dir)
    return result


def _report(
    progress: ProgressCallback | None,
    phase: str,
    result: LoopResult,
    steps: int,
    recent: list[tuple[float, int]] | None = None,
    message: str = "",
) -> None:
    if progress is None:
        return
    secs = sum(s for s, _ in recent or [])
    toks = sum(t for _, t in recent or [])
    per_step = secs / len(recent) if recent else None
    progress(
        TrainProgress(
            phase=phase,
            step=result.steps,
            total_steps=steps,
            loss=result.losses[-1] if result.losses else None,
            tokens_per_s=toks / secs if secs else 0.0,
            eta_s=per_step * (steps - result.steps) if per_step is not None else None,
            message=message,
        )
    )


def _save_checkpoint(
    folder: Path,
    fingerprint: str,
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    result: LoopResult,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "fingerprint": fingerprint,
        "steps": result.steps,
        "tokens": result.tokens,
        "seconds": result.seconds,
        "losses": result.losses,
        "extra": result.extra,
        "adapter": get_peft_model_state_dict(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    tmp = folder / (CHECKPOINT_FILE + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, folder / CHECKPOINT_FILE)


def _load_checkpoint(
    folder: Path,
    fingerprint: str,
    model: PeftModel,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    result: LoopResult,
) -> bool:
    """Restore a checkpoint of this very run (same fingerprint); False when there is none."""
    path = folder / CHECKPOINT_FILE
    if not path.is_file():
        return False
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a torn or foreign file: start over rather than fail
        return False
    if state.get("fingerprint") != fingerprint:
        return False
    set_peft_model_state_dict(model, state["adapter"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    if state["cuda_rng"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    result.steps = state["steps"]
    result.tokens = state["tokens"]
    result.seconds = state["seconds"]
    result.previous_seconds = state["seconds"]
    result.losses = list(state["losses"])
    result.extra = dict(state["extra"])
    return True
