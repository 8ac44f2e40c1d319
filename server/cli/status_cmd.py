"""``tandem status``: what the index holds. Output is assembled from one dict, so other
parts (e.g. adapter staleness) can add keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli.common import UserError, print_json, resolve_root


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", help="workspace folder (default: found from the cwd)")
    parser.add_argument("--db", help="LanceDB URI (default: <root>/.tandem)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def collect(args: argparse.Namespace) -> dict[str, Any]:
    from indexer.search import IndexNotFound, open_index

    root = resolve_root(args.root)
    try:
        index = open_index(root, args.db)
    except IndexNotFound as e:
        raise UserError(str(e)) from e
    from server.trainer.forgetting import adapter_status

    return {**index.status(), "adapter": adapter_status(root, index.known_paths())}


def _human_value(key: str, value: Any) -> str:
    if key == "embedded_fraction":
        return f"{value:.1%}"
    if key in ("bytes_on_disk", "source_bytes") and isinstance(value, int):
        return f"{value / 1e6:.2f} MB"
    if key == "parse_fallbacks" and isinstance(value, list):
        return fallback_lines(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    return "-" if value is None else str(value)


def fallback_lines(fallbacks: list[dict[str, str]], limit: int = 20) -> str:
    """One line per file whose grammar failed, and why (the first ``limit`` of them)."""
    if not fallbacks:
        return "none"
    lines = [f"{f['path']}: {f['reason']}" for f in fallbacks[:limit]]
    if len(fallbacks) > limit:
        lines.append(f"... {len(fallbacks) - limit} more (--json lists them all)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    info = collect(args)
    if args.json:
        print_json(info)
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in info.items():
        table.add_row(key.replace("_", " "), _human_value(key, value))
    Console(file=sys.stdout, highlight=False).print(table)
    return 0
