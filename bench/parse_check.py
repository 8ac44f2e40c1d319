"""Record everything the indexer extracts from real files, and compare a later run with the
record: a speed-up of the chunker or of a grammar must change nothing (or only what it
means to fix).

What is recorded per file: ``parse_file``'s whole result (chunks with their text, kinds and
symbols, definitions, imports with candidates, the fallback) and the type facts the context
builder reads (``type_rules(language).facts``, and ``scope`` at a few rows).

Files: each language's sample of the parse corpora (``make corpora``) and every file of a
grammar language in the fetched projects under /work/corpora (when present).
Usage: python bench/parse_check.py record /tmp/parse.json.gz
       python bench/parse_check.py compare /tmp/parse.json.gz
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from helpers.corpora import CORPORA, missing, sample  # noqa: E402

from indexer.chunker import parse_file  # noqa: E402
from indexer.grammars import type_rules  # noqa: E402
from indexer.languages import get_parser, has_grammar, language_for_path  # noqa: E402
from indexer.types import Skipped  # noqa: E402
from indexer.walk import walk  # noqa: E402
from server.settings import IndexSettings  # noqa: E402

PROJECTS = Path("/work/corpora")
PROJECT_NAMES = (
    "flask httpx gin cli cJSON curl clap ripgrep commons-lang trpc ky bench-go bench-java bench-ts"
)
SCOPE_ROWS = 8  # scope() is read at this many evenly spaced rows of each file


def _files() -> Iterator[tuple[str, str, str]]:
    """(key, path given to parse_file, text) of every file checked."""
    for language in CORPORA:
        if missing(language):
            print(f"corpus {language} missing: skipped", file=sys.stderr)
            continue
        for f in sample(language, 300):
            yield f"corpus/{language}/{f.path}", f.path, f.text
    settings = IndexSettings(embedder="none")
    for name in PROJECT_NAMES.split():
        root = PROJECTS / name
        if not root.is_dir():
            continue
        for entry in walk(root, settings):
            if isinstance(entry, Skipped) or not has_grammar(language_for_path(entry.path)):
                continue
            try:
                text = Path(entry.abspath).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            yield f"{name}/{entry.path}", entry.path, text.replace("\r\n", "\n")


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and dicts as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def record_of(path: str, text: str) -> dict[str, Any]:
    """Everything extracted from one file, as plain values."""
    parsed = parse_file(path, text)
    out: dict[str, Any] = {"parsed": _plain(parsed)}
    rules = type_rules(parsed.language)
    parser = get_parser(parsed.language)
    if rules is not None and parser is not None:
        root = parser.parse(text.encode("utf-8", "surrogatepass")).root_node
        out["facts"] = _plain(rules.facts(root))
        last = root.end_point.row
        rows = sorted({last * i // SCOPE_ROWS for i in range(SCOPE_ROWS)})
        out["scope"] = {str(row): _plain(rules.scope(root, row)) for row in rows}
    return out


def _first_difference(old: Any, new: Any, where: str = "") -> str:
    if type(old) is not type(new):
        return f"{where}: {old!r:.200} -> {new!r:.200}"
    if isinstance(old, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}")
    if isinstance(old, list):
        if len(old) != len(new):
            return f"{where}: {len(old)} items -> {len(new)}"
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    return f"{where}: {old!r:.200} -> {new!r:.200}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--show", type=int, default=10, help="differences shown")
    args = parser.parse_args()
    start = time.perf_counter()
    records = {key: record_of(path, text) for key, path, text in _files()}
    elapsed = time.perf_counter() - start
    if args.mode == "record":
        with gzip.open(args.file, "wt") as f:
            json.dump(records, f)
        print(f"recorded {len(records)} files in {elapsed:.0f} s -> {args.file}")
        return 0
    with gzip.open(args.file, "rt") as f:
        old: dict[str, Any] = json.load(f)
    # JSON turned tuples into lists: compare like with like.
    new = json.loads(json.dumps(records))
    changed = Counter()
    shown = 0
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        changed[key.split("/")[1] if key.startswith("corpus/") else key.split("/")[0]] += 1
        if shown < args.show:
            shown += 1
            print(f"{key}\n    {_first_difference(old.get(key), new.get(key))}")
    total = sum(changed.values())
    print(f"{len(new)} files compared in {elapsed:.0f} s; {total} differ")
    for group, count in sorted(changed.items()):
        print(f"  {group}: {count}")
    return 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
