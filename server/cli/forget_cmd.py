"""``tandem forget PATH...``: remove paths from the index now and keep them out
(``.tandemignore``). Output is assembled from one dict, so other parts can add keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    parser.add_argument("--root", help="workspace folder (default: found from the cwd)")
    parser.add_argument("--db", help="LanceDB URI (default: <root>/.tandem)")
    parser.add_argument("--json", action="store_true", help="print as JSON")
    parser.add_argument(
        "--retrain",
        action="store_true",
        help="retrain each LoRA adapter trained on these paths, without them",
    )


def collect(args: argparse.Namespace) -> dict[str, Any]:
    from indexer.search import IndexNotFound, open_index
    from indexer.sync import forget
    from server.settings import IndexSettings

    root = resolve_root(args.root)
    try:
        open_index(root, args.db)  # only to fail clearly when there is no index
        removed = forget(root, args.paths, IndexSettings(db=args.db))
    except (IndexNotFound, ValueError) as e:
        raise UserError(str(e)) from e
    from server.trainer.forgetting import adapters_with

    return {
        "root": str(root),
        "removed": removed,
        "ignored_in": str(root / ".tandemignore"),
        "adapters": adapters_with(root, [*args.paths, *removed]),
    }


def run(args: argparse.Namespace) -> int:
    info = collect(args)
    if args.retrain:
        from server.cli.train_cmd import retrain_adapters

        info["retrained"] = retrain_adapters(info, args.paths, quiet=args.json)
    if args.json:
        print_json(info)
        return 0
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=sys.stdout, highlight=False)
    console.print(f"removed {len(info['removed'])} file(s) from the index")
    for path in info["removed"]:
        console.print(f"  {escape(path)}")
    console.print(f"added {len(args.paths)} pattern(s) to {escape(info['ignored_in'])}")
    for a in info["adapters"]:
        done = " (retrained without them)" if a["adapter"] in info.get("retrained", ()) else ""
        console.print(f"LoRA adapter {escape(a['adapter'])} was trained on them{done}:")
        for path in a["files"]:
            console.print(f"  {escape(path)}")
    if info["adapters"] and not args.retrain:
        console.print("an adapter cannot forget: rerun with --retrain to replace it")
    return 0
