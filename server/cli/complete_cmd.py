"""``tandem complete FILE:LINE:COL``: one completion, with the snippets it used and the
time spent in each stage (1-based line and column, as editors show them)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from server.cli.common import UserError, print_json, resolve_root
from server.settings import QUANTIZATIONS

_STAGES = (
    ("context_ms", "context", "ms"),
    ("prompt_ms", "prompt", "ms"),
    ("prompt_tokens", "prompt tokens", ""),
    ("reused_tokens", "reused (KV cache)", "tokens"),
    ("first_token_ms", "first token", "ms"),
    ("model_ms", "model", "ms"),
    ("new_tokens", "generated", "tokens"),
    ("postprocess_ms", "post-processing", "ms"),
    ("total_ms", "total", "ms"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("position", metavar="FILE:LINE:COL", help="the cursor, 1-based line and col")
    p.add_argument("--root", metavar="DIR", help="workspace root (default: found from the file)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--backend",
        choices=("llamacpp", "transformers", "openai", "retrieval"),
        help="model backend (default: llamacpp when installed, else transformers)",
    )
    p.add_argument(
        "--quantization",
        choices=QUANTIZATIONS,
        help="llamacpp: the weights' quantization (default q8_0)",
    )
    p.add_argument("--model", help='"smollm2" (bundled), a local folder or a cached HF id')
    p.add_argument("--adapter", metavar="DIR", help="a LoRA adapter folder (peft)")
    p.add_argument(
        "--template",
        choices=("auto", "starcoder", "qwen", "deepseek", "codellama", "prefix"),
        help="prompt template (default: from the tokenizer)",
    )
    p.add_argument("--multiline", choices=("auto", "always", "never"), help="completion shape")
    p.add_argument(
        "--as-typed",
        action="store_true",
        help="drop the rest of the cursor's line first, as if it were being typed "
        "(shows what the file has there beside the completion)",
    )
    p.add_argument("--max-tokens", type=int, metavar="N", help="tokens to generate at most")


def parse_position(spec: str) -> tuple[str, int, int]:
    """``FILE:LINE:COL`` → (file, line, col), 1-based."""
    parts = spec.rsplit(":", 2)
    if len(parts) != 3:
        raise UserError(f"expected FILE:LINE:COL, got {spec!r}")
    try:
        line, col = int(parts[1]), int(parts[2])
    except ValueError:
        raise UserError(f"LINE and COL must be numbers in {spec!r}") from None
    if line < 1 or col < 1:
        raise UserError(f"LINE and COL are 1-based, got {line}:{col}")
    return parts[0], line, col


def _root(args: argparse.Namespace, file: Path) -> Path:
    if args.root:
        return resolve_root(args.root)
    for candidate in file.parents:
        if (candidate / ".tandem").is_dir():
            return candidate
    return resolve_root(None)


def _settings(args: argparse.Namespace) -> Any:
    from server.settings import Settings

    settings = Settings()
    for attr, section, key in (
        ("backend", "model", "backend"),
        ("model", "model", "model"),
        ("adapter", "model", "adapter"),
        ("quantization", "model", "quantization"),
        ("template", "model", "template"),
        ("multiline", "completion", "multiline"),
        ("max_tokens", "completion", "max_tokens"),
    ):
        value = getattr(args, attr)
        if value is not None:
            setattr(getattr(settings, section), key, value)
    if settings.completion.max_tokens < 1:
        raise UserError("--max-tokens must be at least 1")
    return settings


def _open_index(root: Path) -> Any:
    if not (root / ".tandem").exists():
        raise UserError(f"no index in {root}; run `tandem index {root}` first")
    from indexer.search import open_index

    return open_index(root)


def run(args: argparse.Namespace) -> int:
    from server.completion import Completer, CompletionRequest

    file_s, line, col = parse_position(args.position)
    file = Path(file_s).expanduser()
    if not file.is_absolute() and args.root:
        in_root = Path(args.root).expanduser() / file
        if in_root.exists() or not file.exists():
            file = in_root
    file = file.resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no such file: {file_s}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"cannot read {file_s}: {e}") from None
    root = _root(args, file)
    try:
        rel = file.relative_to(root).as_posix()
    except ValueError:
        raise UserError(f"{file_s} is not inside the workspace {root}") from None
    n_lines = len(text.splitlines()) or 1
    if line > n_lines:
        raise UserError(f"{file_s} has {n_lines} lines; line {line} is past its end")

    typed_away: str | None = None
    if args.as_typed:
        lines = text.split("\n")
        current = lines[line - 1].rstrip("\r")
        typed_away = current[col - 1 :]
        lines[line - 1] = current[: col - 1]
        text = "\n".join(lines)

    settings = _settings(args)
    index = _open_index(root)
    completer = Completer(root, index, settings)
    load_s = 0.0
    if settings.model.backend != "retrieval":
        t0 = time.perf_counter()
        if not args.json:
            print(f"loading {settings.model.backend} model ...", file=sys.stderr)
        completer.wait_until_loaded()
        load_s = time.perf_counter() - t0
    status = completer.status()
    if status["fallback_reason"]:
        print(
            f"tandem complete: falling back to retrieval: {status['fallback_reason']}",
            file=sys.stderr,
        )
    if status.get("notice"):
        print(f"tandem complete: {status['notice']}", file=sys.stderr)
    result = completer.complete(CompletionRequest(rel, text, line - 1, col - 1))
    obj = {
        "path": rel,
        "line": line,
        "col": col,
        "completion": result.text,
        "file_has": typed_away,
        "backend": result.backend,
        "model": status["model"] if result.backend != "retrieval" else None,
        "template": status["template"],
        "error": result.error,
        "notice": status.get("notice"),
        "load_s": round(load_s, 2),
        "timings": result.timings,
        "snippets": [
            {
                "path": s.path,
                "start_line": s.start_line,
                "end_line": s.end_line,
                "score": round(s.score, 4),
                "source": s.source,
                "reason": s.reason,
            }
            for s in result.snippets
        ],
    }
    if args.json:
        print_json(obj)
    else:
        _print_human(obj)
    return 0


def _print_human(obj: dict[str, Any]) -> None:
    where = f"{obj['path']}:{obj['line']}:{obj['col']}"
    model = f" ({obj['model']}, template {obj['template']})" if obj["model"] else ""
    print(f"{where}  backend {obj['backend']}{model}")
    print("completion:")
    if obj["completion"]:
        for line in obj["completion"].split("\n"):
            print(f"  │ {line}")
    else:
        print("  (empty)")
    if obj["file_has"] is not None:
        print(f"  (the file has: {obj['file_has']!r})")
    if obj["error"]:
        print(f"note: {obj['error']}")
    print(f"snippets ({len(obj['snippets'])}):")
    for s in obj["snippets"]:
        print(
            f"  {s['path']}:{s['start_line']}-{s['end_line']}  {s['source']} {s['score']:.3f}"
            f"  {s['reason']}"
        )
    print("time per stage:")
    timings = obj["timings"]
    if obj["load_s"]:
        print(f"  {'model load':<20} {obj['load_s'] * 1000:>9.1f} ms")
    for key, label, unit in _STAGES:
        if key in timings:
            value = timings[key]
            shown = f"{value:>9.1f}" if unit == "ms" else f"{int(value):>9d}"
            print(f"  {label:<20} {shown} {unit}".rstrip())
