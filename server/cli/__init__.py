"""The ``tandem`` command: one module per subcommand, imported only when it runs.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``. Heavy
imports (torch, lancedb) live inside ``run`` so that ``tandem --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from server.cli.common import UserError

# name → (module, one-line help). Order is the order of ``tandem --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "index": ("server.cli.index_cmd", "index a workspace (incremental)"),
    "search": ("server.cli.search_cmd", "search the index"),
    "status": ("server.cli.status_cmd", "show what the index holds"),
    "watch": ("server.cli.watch_cmd", "keep the index current from file events"),
    "forget": ("server.cli.forget_cmd", "remove paths from the index and ignore them"),
    "serve": ("server.cli.serve_cmd", "run the language server (stdio or TCP)"),
    "context": ("server.cli.context_cmd", "show the snippets retrieved for a cursor"),
    "complete": ("server.cli.complete_cmd", "complete at FILE:LINE:COL"),
    "train": ("server.cli.train_cmd", "fine-tune a LoRA adapter on the workspace"),
    "eval": ("server.cli.eval_cmd", "measure retrieval and fine-tuning on a workspace"),
}


def _set_quiet_defaults() -> None:
    """Quiet native libraries and keep everything offline unless configured otherwise."""
    os.environ.setdefault("LANCEDB_LOG", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    _set_quiet_defaults()
    from indexer.memory import use_ordinary_heap

    use_ordinary_heap()  # torch's tuned heap only where a torch model asks for it
    parser = build_parser()
    args = parser.parse_args(argv)
    from indexer.storage import StorageError

    try:
        return int(args._module.run(args) or 0)
    except (UserError, StorageError) as e:
        print(f"tandem {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tandem {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
