"""``tandem eval --models`` (the default mode): base / base + retrieval / LoRA /
LoRA + retrieval on cross-file completion points; a markdown table, a PNG chart, ``--json``.

Kept beside ``eval_cmd`` so that module stays a thin dispatcher of modes."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(p: argparse.ArgumentParser, modes: argparse._ArgumentGroup) -> None:
    modes.add_argument(
        "--models",
        action="store_true",
        help="base / base + retrieval / LoRA / LoRA + retrieval (the default mode)",
    )
    g = p.add_argument_group("--models options")
    g.add_argument(
        "--adapter",
        default=None,
        metavar="DIR",
        help="LoRA adapter folder (default: the newest in <root>/.tandem/adapters)",
    )
    g.add_argument("--model", default=None, help="base model (default: the adapter's)")
    g.add_argument(
        "--chart",
        default=None,
        metavar="PNG",
        help="bar chart path (default <root>/.tandem/eval/models.png)",
    )
    g.add_argument("--markdown", default=None, metavar="MD", help="also write the table here")
    g.add_argument(
        "--max-points",
        type=int,
        default=None,
        metavar="K",
        help="score a seeded subset of K of the points (after dropping those in training files)",
    )
    g.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        metavar="N",
        help="cap on generated tokens per line (default: completion.max_tokens, 48)",
    )


def run(args: argparse.Namespace) -> int:
    from server.cli.eval_cmd import ensure_index
    from server.evaluation.points import build_points
    from server.trainer.manifest import active_adapter, read_manifest

    root = resolve_root(args.path)
    adapter = active_adapter(root, args.adapter)
    if adapter is None:
        raise UserError(
            f"no LoRA adapter in {root / '.tandem' / 'adapters'}: train one first, keeping "
            f"the eval files out: `tandem train {root} --eval-points N` then "
            f"`tandem eval {root} --limit N`"
        )
    try:
        manifest = read_manifest(adapter)
    except ValueError as e:
        raise UserError(str(e)) from None
    index = ensure_index(root, args.embedder)
    points = build_points(root, index, limit=args.limit, seed=args.seed)
    kept = [p for p in points if p.path not in manifest.training_files]
    if not kept:
        raise UserError(
            f"none of the {len(points)} cross-file points lies in a file the adapter was not "
            "trained on: retrain with `tandem train --eval-points N` (same --seed), then "
            "`tandem eval --limit N`"
        )
    dropped = len(points) - len(kept)
    if args.max_points is not None and len(kept) > args.max_points >= 1:
        import random

        chosen = set(random.Random(args.seed).sample(range(len(kept)), args.max_points))
        kept = [p for i, p in enumerate(kept) if i in chosen]
    from server.backends.base import BackendError
    from server.backends.loader import load_causal_lm
    from server.evaluation.models import evaluate_models
    from server.settings import Settings

    try:
        lm = load_causal_lm(args.model or manifest.base_model, str(adapter), merge=False)
    except BackendError as e:
        raise UserError(str(e)) from None
    if manifest.base_weights_hash and lm.weights_hash != manifest.base_weights_hash:
        print(
            f"warning: {adapter} was trained on weights {manifest.base_weights_hash}, "
            f"loaded {lm.weights_hash}",
            file=sys.stderr,
        )

    def progress(setup: str, done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{setup}: {done}/{total}", end="", file=sys.stderr, flush=True)

    settings = Settings()
    if args.max_tokens is not None:
        if args.max_tokens < 1:
            raise UserError("--max-tokens must be at least 1")
        settings.completion.max_tokens = args.max_tokens
    report = evaluate_models(
        root,
        index,
        kept,
        lm,
        settings,
        adapter=str(adapter),
        dropped=dropped,
        template=manifest.template,
        progress=progress,
    )
    report.adapter_summary = {
        "steps": manifest.steps,
        "examples": manifest.examples,
        "training_files": len(manifest.training_files),
        "holdout": asdict(manifest.holdout),
    }
    chart = Path(args.chart) if args.chart else root / ".tandem" / "eval" / "models.png"
    report.chart(chart)
    table = report.to_markdown()
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")
    if args.json:
        print_json({**report.to_json(), "chart": str(chart)})
    else:
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(table)
        print(f"\nchart: {chart}")
    return 0
