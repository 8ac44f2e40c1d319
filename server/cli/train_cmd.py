"""``tandem train``: fine-tune a LoRA adapter on the workspace's indexed code.

Ctrl-C stops after the current step and leaves a checkpoint: rerunning the same command
resumes. The adapter goes to ``<root>/.tandem/adapters/lora-<time>/`` unless ``--out``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(p: argparse.ArgumentParser) -> None:
    from server.trainer.options import TrainOptions

    d = TrainOptions()
    p.add_argument("path", nargs="?", metavar="PATH", help="workspace (default: current)")
    p.add_argument("--model", default=d.model, help=f"base model (default {d.model})")
    p.add_argument("--rank", type=int, default=d.rank, help=f"LoRA rank (default {d.rank})")
    p.add_argument("--alpha", type=int, default=d.alpha, help=f"LoRA alpha ({d.alpha})")
    p.add_argument("--dropout", type=float, default=d.dropout, help=f"LoRA dropout ({d.dropout})")
    p.add_argument(
        "--target-modules",
        default=None,
        metavar="A,B",
        help="comma-separated module names (default: every linear layer but the head)",
    )
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--max-steps", type=int, default=None, metavar="N", help="optimizer steps")
    budget.add_argument(
        "--epochs", type=float, default=d.epochs, help=f"passes over the data ({d.epochs:g})"
    )
    p.add_argument(
        "--max-examples", type=int, default=None, metavar="N", help="cap on training examples"
    )
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr:g})")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"({d.batch_size})")
    p.add_argument(
        "--seq-len", type=int, default=d.seq_len, help=f"tokens per example ({d.seq_len})"
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=d.checkpoint_every,
        metavar="STEPS",
        help=f"resumable checkpoint interval ({d.checkpoint_every})",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device)
    p.add_argument("--out", default=None, metavar="DIR", help="adapter folder")
    p.add_argument(
        "--exclude", action="append", default=[], metavar="PATH", help="never train on PATH"
    )
    p.add_argument(
        "--eval-points",
        type=int,
        default=None,
        metavar="N",
        help="keep out the files of the N cross-file points `tandem eval --models --limit N` "
        "scores (same --seed)",
    )
    p.add_argument(
        "--until",
        metavar="REV",
        help="train on the files committed at git revision REV instead of those on disk "
        "(a temporal split for `tandem eval --history`; recorded in the manifest)",
    )
    p.add_argument("--db", help="LanceDB URI of the index (default: <root>/.tandem)")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")


def options_from_args(args: argparse.Namespace) -> Any:
    from server.trainer.options import TrainOptions

    targets = [t.strip() for t in args.target_modules.split(",")] if args.target_modules else None
    return TrainOptions(
        model=args.model,
        rank=args.rank,
        alpha=args.alpha,
        dropout=args.dropout,
        target_modules=[t for t in targets if t] if targets else None,
        max_steps=args.max_steps,
        epochs=args.epochs,
        max_examples=args.max_examples,
        lr=args.lr,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        device=args.device,
        out=args.out,
        exclude=list(args.exclude),
        until=args.until,
    )


def run(args: argparse.Namespace) -> int:
    root = resolve_root(args.path)
    options = options_from_args(args)
    problems = options.validate()
    if problems:
        raise UserError("; ".join(problems))
    # --until trains from an index of the committed tree (built by train itself).
    index = open_workspace_index(root, args.db) if not args.until or args.eval_points else None
    if args.eval_points:
        from server.evaluation.models import eval_point_files

        options.exclude += eval_point_files(root, index, args.eval_points, args.seed)
    manifest = train_with_progress(root, options, index, quiet=args.json)
    if args.json:
        print_json(manifest.to_json())
    else:
        print_summary(root, manifest, options)
    return 0


def open_workspace_index(root: Path, db: str | None = None) -> Any:
    from indexer.search import IndexNotFound, open_index

    if db is None and not (root / ".tandem").exists():
        raise UserError(f"{root} is not indexed: run `tandem index {root}` first")
    try:
        return open_index(root, db)
    except IndexNotFound as e:
        raise UserError(str(e)) from e


def train_with_progress(root: Path, options: Any, index: Any, quiet: bool = False) -> Any:
    """Run ``train`` with a rich progress bar on stderr; first Ctrl-C stops cleanly."""
    from server.trainer.train import train

    return with_progress(
        lambda show, stop: train(root, options, progress=show, should_stop=stop, index=index),
        quiet,
    )


def retrain_adapters(info: dict[str, Any], paths: list[str], quiet: bool = False) -> list[str]:
    """``tandem forget --retrain``: replace every adapter ``info["adapters"]`` names with one
    trained without ``paths``; returns the folders rewritten."""
    from server.trainer.forgetting import retrain_without

    root = Path(info["root"])
    done = []
    for entry in info["adapters"]:
        folder = Path(entry["adapter"])

        def work(show: Any, stop: Callable[[], bool], folder: Path = folder) -> Any:
            return retrain_without(root, folder, paths, show, stop)

        with_progress(work, quiet)
        done.append(str(folder))
    return done


def with_progress(work: Callable[[Any, Callable[[], bool]], Any], quiet: bool = False) -> Any:
    """Run ``work(progress, should_stop)`` under a rich bar on stderr; the first Ctrl-C
    asks it to stop after the current step (it checkpoints), the second aborts."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from server.backends.base import BackendError
    from server.trainer.lora import TrainingInterrupted
    from server.trainer.progress import TrainProgress, clock
    from server.trainer.train import TrainingError

    stop = threading.Event()

    def on_sigint(_sig: int, _frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nstopping after this step (Ctrl-C again to abort)…", file=sys.stderr)

    console = Console(stderr=True, quiet=quiet)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TextColumn("{task.fields[tps]} tok/s"),
        TextColumn("{task.fields[eta]} left"),
        console=console,
    )
    task = bar.add_task("preparing", total=None, loss="-", tps="-", eta="-")

    def show(p: TrainProgress) -> None:
        if p.phase != "training":
            bar.update(task, description=p.message or p.phase)
            return
        bar.update(
            task,
            description="training",
            completed=p.step,
            total=p.total_steps,
            loss=f"{p.loss:.3f}" if p.loss is not None else "-",
            tps=f"{p.tokens_per_s:.0f}",
            eta=clock(p.eta_s) if p.eta_s is not None else "-",
        )

    def log_line(p: TrainProgress) -> None:  # not a terminal (a log file, CI): plain lines
        if not quiet:
            print(p.describe(), file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        if not console.is_terminal:
            return work(log_line, stop.is_set)
        with bar:
            return work(show, stop.is_set)
    except TrainingInterrupted as e:
        print(f"tandem train: {e} (checkpoint in {e.checkpoint})", file=sys.stderr)
        raise SystemExit(130) from None
    except (TrainingError, BackendError, ValueError) as e:
        raise UserError(str(e)) from None
    finally:
        signal.signal(signal.SIGINT, previous)


def print_summary(root: Path, manifest: Any, options: Any) -> None:
    h = manifest.holdout
    folder = Path(options.out).resolve() if options.out else None
    print(f"adapter: {folder or _newest(root)}")
    print(
        f"base model: {manifest.base_model} (weights {manifest.base_weights_hash}), "
        f"template {manifest.template}"
    )
    if manifest.until_commit:
        print(f"files as committed at {manifest.until_rev} ({manifest.until_commit})")
    print(
        f"trained on {len(manifest.training_files)} files, {manifest.examples} examples, "
        f"{manifest.steps} steps, {manifest.train_tokens} tokens in {manifest.time_s:.0f} s "
        f"({manifest.tokens_per_s:.0f} tok/s on {manifest.device})"
    )
    if h.loss_before is not None and h.loss_after is not None:
        print(
            f"holdout ({len(manifest.holdout_files)} files, {h.tokens} tokens): "
            f"loss {h.loss_before:.3f} → {h.loss_after:.3f}, bits/token "
            f"{h.bits_per_token_before:.3f} → {h.bits_per_token_after:.3f}"
        )
    else:
        print("holdout: none (too few files to hold any out)")


def _newest(root: Path) -> Path | None:
    from server.trainer.manifest import active_adapter

    return active_adapter(root)
