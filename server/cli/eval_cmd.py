"""``tandem eval``: measure Tandem on a workspace.

A thin dispatcher: each mode is one flag, run by one function (``MODES``); a mode reads the
shared arguments (PATH, --limit, --seed, --json, --embedder) and may add its own.
``--retrieval`` (here): hit@1/5/10 of the context builder against BM25 and Jaccard baselines
on cross-file completion points. ``--models`` (``eval_models_cmd``): the four model
set-ups; it is the default when no mode is given. ``--history [N]`` (``eval_history_cmd``):
the same set-ups on lines the workspace's last N commits added."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(p: argparse.ArgumentParser) -> None:
    from server.cli import eval_history_cmd, eval_models_cmd

    modes = p.add_argument_group("modes (choose one)")
    eval_models_cmd.add_arguments(p, modes)
    eval_history_cmd.add_arguments(p, modes)
    modes.add_argument(
        "--retrieval",
        action="store_true",
        help="hit@k of the context builder vs BM25 and Jaccard baselines",
    )
    p.add_argument(
        "--kind",
        choices=("import", "member"),
        default="import",
        help="retrieval points: before the first use of an imported name (default), or "
        "before m in the first call x.m(...) of a method of one workspace class",
    )
    p.add_argument("path", nargs="?", metavar="PATH", help="workspace (default: current)")
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help="evaluate a seeded sample of N points"
    )
    p.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    p.add_argument(
        "--embedder",
        default=None,
        help="embedder when the index must be built (default: settings, minilm)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def ensure_index(root: Path, embedder: str | None) -> Any:
    """Open the workspace's index, building it first when there is none (with
    ``embedder``, default the settings' minilm)."""
    from indexer.search import IndexNotFound, open_index

    try:
        return open_index(root)
    except IndexNotFound:
        pass
    from indexer.sync import sync
    from server.settings import IndexSettings

    settings = IndexSettings()
    if embedder:
        settings.embedder = embedder
    print(f"indexing {root} (embedder {settings.embedder}) ...", file=sys.stderr)
    sync(root, settings)
    return open_index(root)


def run_retrieval(args: argparse.Namespace) -> int:
    from server.evaluation.member_points import build_member_points
    from server.evaluation.points import build_points
    from server.evaluation.retrieval import KS, LABELS, evaluate_retrieval

    root = resolve_root(args.path)
    index = ensure_index(root, args.embedder)
    member = getattr(args, "kind", "import") == "member"
    build = build_member_points if member else build_points
    points = build(root, index, limit=args.limit, seed=args.seed)
    if not points and member:
        raise UserError(
            f"no member completion points in {root}: no call x.m(...) of a method defined in "
            "one class of another indexed file with 10 non-empty lines above it"
        )
    if not points:
        raise UserError(
            f"no cross-file completion points in {root}: no file imports a name defined in "
            "another indexed file with 10 non-empty lines above its first use"
        )
    report = evaluate_retrieval(root, index, points)
    if args.json:
        print_json({"root": str(root), "kind": args.kind, **report.to_json()})
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Retrieval ({args.kind} points) on {root.name}: {report.points} points in "
        f"{report.files} files ({report.indexed_files} indexed)"
    )
    table.add_column("method")
    for k in KS:
        table.add_column(f"hit@{k}", justify="right")
    for method, hits in report.hits.items():
        table.add_row(LABELS[method], *(f"{hits[k]:.3f}" for k in KS))
    console = Console()
    console.print(table)
    bm25_5 = report.hits["bm25"][5]
    ctx_5 = report.hits["context"][5]
    ratio = f"{ctx_5 / bm25_5:.1f}x" if bm25_5 else "n/a (BM25 hit@5 is 0)"
    console.print(
        f"target hit@5 ≥ 0.6 and ≥ 3x BM25: context {ctx_5:.3f}, {ratio} BM25; "
        f"context p50 {report.context_ms_p50:.1f} ms, p95 {report.context_ms_p95:.1f} ms"
    )
    return 0


def run_models(args: argparse.Namespace) -> int:
    from server.cli import eval_models_cmd

    return int(eval_models_cmd.run(args) or 0)


def run_history(args: argparse.Namespace) -> int:
    from server.cli import eval_history_cmd

    return int(eval_history_cmd.run(args) or 0)


# flag → the function running that mode; the first is the default.
MODES: dict[str, Callable[[argparse.Namespace], int]] = {
    "models": run_models,
    "retrieval": run_retrieval,
    "history": run_history,
}


def run(args: argparse.Namespace) -> int:
    # A flag is off when None or False (``--history 0`` is asked for, and rejected later).
    chosen = [m for m in MODES if (v := getattr(args, m, None)) is not None and v is not False]
    chosen = chosen or [next(iter(MODES))]
    if len(chosen) != 1:
        flags = " or ".join(f"--{m}" for m in MODES)
        raise UserError(f"choose one mode: {flags}")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    return MODES[chosen[0]](args)
