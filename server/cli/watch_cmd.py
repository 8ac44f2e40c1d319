"""``tandem watch [PATH]``: index, then keep the index current from file events."""

from __future__ import annotations

import argparse
import sys
import time

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="workspace folder (default: the current one)")
    parser.add_argument("--db", help="LanceDB URI (default: <root>/.tandem)")
    parser.add_argument("--embedder", help="minilm, none, or a sentence-transformers model")
    parser.add_argument("--debounce-ms", type=int, default=300, help="default 300")
    parser.add_argument("--json", action="store_true", help="one JSON report per line")


def run(args: argparse.Namespace) -> int:
    from indexer.embedder import EmbedderError
    from indexer.sync import SyncReport
    from indexer.watch import watch
    from server.cli.index_cmd import current_embedder
    from server.settings import IndexSettings

    root = resolve_root(args.path)
    settings = IndexSettings(db=args.db)
    settings.embedder = args.embedder or current_embedder(root, args.db) or settings.embedder
    if args.debounce_ms < 0:
        raise UserError("--debounce-ms must not be negative")

    def show(report: SyncReport) -> None:
        if args.json:
            data = report.to_dict()
            data["skipped"] = len(report.skipped)
            print_json(data)
            return
        stamp = time.strftime("%H:%M:%S")
        print(
            f"{stamp} {report.indexed} indexed, {report.deleted} deleted, "
            f"{report.chunks} chunks, {report.embedded} embedded "
            f"({report.total_files} files) in {report.seconds:.2f}s",
            flush=True,
        )

    if not args.json:
        print(f"watching {root} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        watch(root, settings, on_sync=show, debounce_ms=args.debounce_ms)
    except EmbedderError as e:
        raise UserError(str(e)) from e
    return 0
