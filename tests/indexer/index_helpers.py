"""Helpers for the indexer tests: writing small workspaces, canonical index dumps."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from indexer.store import CHUNKS, FILES, IMPORTS, SYMBOLS, Store
from server.settings import IndexSettings

REPO = Path(__file__).resolve().parents[2]
TANDEM = [sys.executable, "-m", "server"]


def lexical(db: Path | str | None = None) -> IndexSettings:
    """Settings for fast tests: no embedder."""
    return IndexSettings(db=str(db) if db else None, embedder="none")


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")


def canonical(uri: str | Path, with_mtime: bool = True) -> dict[str, Any]:
    """Every row of the index's tables, sorted, so two indexes compare with ``==``.
    Vectors are compared as the set of chunk hashes that have one (the cache may hold
    extra, unreferenced entries by design)."""
    store = Store(str(uri))
    out: dict[str, Any] = {}
    for name in (FILES, CHUNKS, SYMBOLS, IMPORTS):
        rows = store.read(name).to_pylist()
        if not with_mtime and name == FILES:
            for r in rows:
                r.pop("mtime_ns")
        out[name] = sorted(rows, key=repr)
    slug = store.meta().get("embedder_slug")
    if slug:
        hashes = {r["content_hash"] for r in out[CHUNKS]}
        out["vectors"] = sorted(hashes & store.vector_hashes(slug))
    return out


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(LANCEDB_LOG="error", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


SAMPLE: dict[str, str | bytes] = {
    "pkg/__init__.py": "from .util import helper\n",
    "pkg/util.py": (
        "import os\n\n\n"
        "def helper(x: int) -> int:\n"
        '    """Double a number."""\n'
        "    return x * 2\n\n\n"
        "class Parser:\n"
        "    def parse(self, text: str) -> list[str]:\n"
        "        return text.split()\n"
    ),
    "pkg/app.py": (
        "from pkg.util import Parser, helper\n\n\n"
        "def main() -> None:\n"
        "    print(helper(2), Parser().parse('a b'))\n"
    ),
    "web/index.js": "export function greet(name) {\n  return `hi ${name}`;\n}\n",
    "README.md": "# Sample\n\nA tiny workspace for tests.\n",
}
