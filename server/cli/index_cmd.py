"""``tandem index [PATH]``: index a workspace incrementally (lexical first, then vectors)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="workspace folder (default: the current one)")
    parser.add_argument(
        "--db", help="index location: a folder, s3://, gs:// or az:// (default: <root>/.tandem)"
    )
    parser.add_argument(
        "--base",
        help="a shared base index (e.g. s3://bucket/repo, built by CI): index only the "
        "files that differ from it, into the local index",
    )
    parser.add_argument(
        "--embedder",
        help="minilm, none, or a sentence-transformers name or path "
        "(default: the index's current embedder, else minilm)",
    )
    parser.add_argument("--exclude", action="append", default=[], help="extra gitignore glob")
    parser.add_argument("--max-file-kb", type=int, help="skip files larger than this")
    parser.add_argument("--lexical-only", action="store_true", help="do not embed this run")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def current_embedder(root: Any, db: str | None) -> str | None:
    """The embedder an existing index was built with, so a re-run keeps it."""
    from indexer.search import IndexNotFound
    from indexer.store import Store, default_uri, local_path

    uri = db or default_uri(root)
    path = local_path(uri)
    if path is not None and not path.exists():
        return None
    try:
        return Store.open(uri).meta().get("embedder")
    except (IndexNotFound, OSError, ValueError):
        return None


def run(args: argparse.Namespace) -> int:
    from indexer.embedder import EmbedderError
    from indexer.sync import sync
    from indexer.walk import summarize_skipped
    from server.cli.progress import progress_bars
    from server.settings import IndexSettings

    root = resolve_root(args.path)
    settings = IndexSettings(db=args.db, base=args.base)
    settings.embedder = args.embedder or current_embedder(root, args.db) or settings.embedder
    settings.exclude = list(args.exclude)
    if args.max_file_kb is not None:
        if args.max_file_kb <= 0:
            raise UserError("--max-file-kb must be positive")
        settings.max_file_kb = args.max_file_kb
    try:
        with progress_bars(enabled=not args.json) as progress:
            # the process exits next: the model goes before the vector index is built
            report = sync(
                root, settings, progress, embed=not args.lexical_only, keep_embedder=False
            )
    except EmbedderError as e:
        raise UserError(str(e)) from e
    data = report.to_dict()
    data["skipped_by_reason"] = summarize_skipped(report.skipped)
    if args.json:
        print_json(data)
        return 0
    _print_human(data)
    return 0


def _print_human(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from server.cli.status_cmd import fallback_lines

    console = Console(file=sys.stdout, highlight=False)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("index", f"{data['root']} → {data['db']}")
    if data.get("base"):
        table.add_row(
            "base",
            f"{data['base']}: {data['base_unchanged']} files identical, "
            f"{data['base_deleted']} deleted locally",
        )
    table.add_row(
        "files",
        f"{data['indexed']} indexed, {data['unchanged']} unchanged, "
        f"{data['restamped']} touched, {data['deleted']} deleted, "
        f"{len(data['skipped'])} skipped",
    )
    for reason, n in data["skipped_by_reason"].items():
        table.add_row("", f"  {n} {reason}")
    if data["reparsed_all"]:
        table.add_row("", "  every file parsed again (the index was built by an older version)")
    table.add_row(
        "chunks", f"{data['chunks']} written; {data['total_chunks']} in {data['total_files']} files"
    )
    table.add_row(
        "fallbacks",
        f"{data['total_fallbacks']} file(s) in the index cut into line windows because "
        f"parsing failed; {len(data['fallbacks'])} this run",
    )
    if data["fallbacks"]:
        table.add_row("", fallback_lines(data["fallbacks"]))
    table.add_row("embedder", data["embedder"])
    if data["embedder"] == "none":
        table.add_row("embedded", "no vectors (lexical search only)")
    else:
        table.add_row(
            "embedded",
            f"{data['embedded']} new, {data['cached']} cached, {data['pending']} pending",
        )
    table.add_row(
        "seconds", f"{data['seconds']:.2f} (searchable after {data['lexical_seconds']:.2f})"
    )
    console.print(table)
