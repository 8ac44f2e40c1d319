"""Helpers shared by the subcommands: user errors, JSON output, finding the root."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit code 2, no traceback."""


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    sys.stdout.flush()


def resolve_root(path: str | None) -> Path:
    """The workspace root: the given folder, else the nearest ancestor holding .tandem or
    .git, else the current folder."""
    if path:
        root = Path(path).expanduser().resolve()
        if not root.exists():
            raise UserError(f"no such folder: {path}")
        if not root.is_dir():
            raise UserError(f"not a folder: {path}")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / ".tandem").is_dir() or (candidate / ".git").exists():
            return candidate
    return here
