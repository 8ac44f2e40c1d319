"""``tandem search QUERY``: the chunks an index returns for a query."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli.common import UserError, print_json, resolve_root

MODES = ("hybrid", "vector", "text", "symbol")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="words, a name, or a code fragment")
    parser.add_argument("--k", type=int, default=10, help="number of results (default 10)")
    parser.add_argument("--mode", choices=MODES, default="hybrid", help="default: hybrid")
    parser.add_argument("--root", help="workspace folder (default: found from the cwd)")
    parser.add_argument("--db", help="LanceDB URI (default: <root>/.tandem)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")


def run(args: argparse.Namespace) -> int:
    from indexer.embedder import EmbedderError
    from indexer.search import IndexNotFound, open_index

    if args.k <= 0:
        raise UserError("--k must be positive")
    root = resolve_root(args.root)
    try:
        index = open_index(root, args.db)
        hits = index.search(args.query, k=args.k, mode=args.mode)
    except (IndexNotFound, EmbedderError, ValueError) as e:
        raise UserError(str(e)) from e
    rows: list[dict[str, Any]] = [
        {
            "path": h.path,
            "start_line": h.start_line,
            "end_line": h.end_line,
            "symbol": h.symbol,
            "score": round(h.score, 6),
            "language": h.language,
            "text": h.text,
        }
        for h in hits
    ]
    if args.json:
        print_json(rows)
        return 0
    _print_human(rows)
    return 0


def _print_human(rows: list[dict[str, Any]], preview_lines: int = 8) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=sys.stdout, highlight=False, soft_wrap=True)
    if not rows:
        console.print("no results")
        return
    for r in rows:
        symbol = f"  [cyan]{escape(r['symbol'])}[/cyan]" if r["symbol"] else ""
        console.print(
            f"[bold]{escape(r['path'])}:{r['start_line']}-{r['end_line']}[/bold]{symbol}"
            f"  [dim]{r['score']:.4f}[/dim]"
        )
        lines = r["text"].split("\n")
        for line in lines[:preview_lines]:
            console.print("    " + escape(line))
        if len(lines) > preview_lines:
            console.print(f"    [dim]… {len(lines) - preview_lines} more lines[/dim]")
