"""``tandem context``: the snippets the context builder retrieves for a cursor.

One cursor as ``FILE:LINE:COL`` (1-based line and column), or many from a JSON-lines file
with ``--points`` (one ``{"path", "line", "col"}`` per line, paths relative to the root),
answered in order with the index loaded once."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from server.cli.common import UserError, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "position", nargs="?", metavar="FILE:LINE:COL", help="the cursor, 1-based line and column"
    )
    p.add_argument(
        "--points",
        metavar="FILE.jsonl",
        help="many cursors, one JSON object {path, line, col} per line",
    )
    p.add_argument("--root", metavar="DIR", help="workspace root (default: found from the file)")
    p.add_argument("--k", type=int, default=8, help="how many snippets (default 8)")
    p.add_argument(
        "--budget",
        type=int,
        default=None,
        metavar="TOKENS",
        help="token budget for all snippets (default: the builder's)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def parse_position(spec: str) -> tuple[str, int, int]:
    """``FILE:LINE:COL`` → (file, line, col), 1-based; a bad spec is a user error."""
    parts = spec.rsplit(":", 2)
    if len(parts) != 3:
        raise UserError(f"expected FILE:LINE:COL, got {spec!r}")
    file, line_s, col_s = parts
    try:
        line, col = int(line_s), int(col_s)
    except ValueError:
        raise UserError(f"LINE and COL must be numbers in {spec!r}") from None
    if line < 1 or col < 1:
        raise UserError(f"LINE and COL are 1-based, got {line}:{col}")
    return file, line, col


def _root_for(args: argparse.Namespace, file: str | None) -> Path:
    from server.cli.common import resolve_root

    if args.root or file is None:
        return resolve_root(args.root)
    here = Path(file).expanduser().resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / ".tandem").is_dir():
            return candidate
    return resolve_root(None)


def _relative(root: Path, file: str) -> str:
    """A workspace-relative POSIX path for a path given on the command line or in a
    points file (relative to the root, or to the current folder, or absolute)."""
    p = Path(file).expanduser()
    if not p.is_absolute():
        under_root = root / p
        p = under_root if under_root.exists() else Path.cwd() / p
    try:
        return p.resolve().relative_to(root).as_posix()
    except ValueError:
        raise UserError(f"{file} is not inside the workspace {root}") from None


def open_workspace_index(root: Path) -> Any:
    from indexer.search import IndexNotFound, open_index

    try:
        return open_index(root)
    except IndexNotFound:
        raise UserError(f"no index in {root}; run `tandem index {root}` first") from None


def _answer(index: Any, root: Path, rel: str, line: int, col: int, args: Any) -> dict[str, Any]:
    from server.context import DEFAULT_BUDGET_TOKENS, build_context

    try:
        text = (root / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such file: {rel}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {rel}: {e}") from None
    result = build_context(
        index,
        rel,
        text,
        line - 1,
        col - 1,
        k=args.k,
        budget_tokens=args.budget or DEFAULT_BUDGET_TOKENS,
    )
    return {
        "path": rel,
        "line": line,
        "col": col,
        "snippets": [
            {
                "path": s.path,
                "start_line": s.start_line,
                "end_line": s.end_line,
                "score": s.score,
                "source": s.source,
                "reason": s.reason,
                "text": s.text,
            }
            for s in result.snippets
        ],
        "ms": round(result.ms, 2),
    }


def _print_human(obj: dict[str, Any]) -> None:
    print(
        f"{obj['path']}:{obj['line']}:{obj['col']}  {len(obj['snippets'])} snippets "
        f"in {obj['ms']:.1f} ms"
    )
    for s in obj["snippets"]:
        print(
            f"\n── {s['path']}:{s['start_line']}-{s['end_line']}  "
            f"{s['source']} {s['score']:.3f}  ({s['reason']})"
        )
        for t in s["text"].split("\n"):
            print(f"   {t}")


def run(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UserError("--k must be at least 1")
    if (args.position is None) == (args.points is None):
        raise UserError("give either FILE:LINE:COL or --points FILE.jsonl")
    if args.position is not None:
        file, line, col = parse_position(args.position)
        root = _root_for(args, file)
        index = open_workspace_index(root)
        obj = _answer(index, root, _relative(root, file), line, col, args)
        if args.json:
            print_json(obj)
        else:
            _print_human(obj)
        return 0
    return _run_points(args)


def _run_points(args: argparse.Namespace) -> int:
    root = _root_for(args, None)
    try:
        lines = Path(args.points).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise UserError(f"cannot read {args.points}: {e}") from None
    index = open_workspace_index(root)
    failed = 0
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            try:
                item = json.loads(raw)
                rel, line, col = str(item["path"]), int(item["line"]), int(item["col"])
            except (ValueError, KeyError, TypeError) as e:
                raise UserError(f"line {n}: expected {{path, line, col}} ({e})") from None
            if line < 1 or col < 1:
                raise UserError(f"line {n}: line and col are 1-based")
            obj = _answer(index, root, _relative(root, rel), line, col, args)
        except UserError as e:
            failed += 1
            print(f"tandem context: {args.points}: {e}", file=sys.stderr)
            obj = {"input_line": n, "error": str(e)}
        if args.json:
            print_json(obj)
        elif "error" not in obj:
            _print_human(obj)
    return 1 if failed else 0
