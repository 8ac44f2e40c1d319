"""Chunk boundaries, kinds, symbols, definitions and imports per language, against
reviewed golden files: tests/golden/chunks/<language>/<case>.<ext> beside <case>.<ext>.json.

Regenerate after an intended change with ``UPDATE_GOLDENS=1 pytest
tests/indexer/test_chunker_golden.py`` and review the diff before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from indexer.chunker import parse_file
from indexer.types import ParsedFile

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "chunks"
CASES = sorted(p for p in GOLDEN.glob("*/*") if p.suffix != ".json")


def render(parsed: ParsedFile) -> str:
    """Readable JSON: one line per chunk, definition and import."""
    chunks = []
    for chunk in parsed.chunks:
        item: dict[str, object] = {
            "lines": f"{chunk.start_line}-{chunk.end_line}",
            "kind": chunk.kind,
            "symbols": list(chunk.symbols),
        }
        if chunk.kind == "class_summary":
            item["text"] = chunk.text
        chunks.append(item)
    defs = [[d.qualified, d.kind, d.start_line, d.end_line] for d in parsed.definitions]
    imports = [
        {
            "local": i.local_name,
            "module": i.module,
            "name": i.name,
            "line": i.line,
            "candidates": list(i.candidates),
        }
        for i in parsed.imports
    ]

    def block(items: list[object]) -> str:
        if not items:
            return "[]"
        lines = ",\n".join("    " + json.dumps(x, ensure_ascii=False) for x in items)
        return "[\n" + lines + "\n  ]"

    return (
        "{\n"
        f'  "language": {json.dumps(parsed.language)},\n'
        f'  "chunks": {block(list(chunks))},\n'
        f'  "definitions": {block(list(defs))},\n'
        f'  "imports": {block(list(imports))}\n'
        "}\n"
    )


def test_every_grammar_language_has_a_golden_case() -> None:
    languages = {p.parent.name for p in CASES}
    expected = {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
    assert expected | {"markdown"} <= languages


@pytest.mark.parametrize("source", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(source: Path) -> None:
    relative = source.relative_to(GOLDEN).as_posix()
    parsed = parse_file(relative, source.read_text(encoding="utf-8"))
    assert parsed.language == source.parent.name
    actual = render(parsed)
    expected_path = source.with_name(source.name + ".json")
    if os.environ.get("UPDATE_GOLDENS") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"no golden for {relative}: run with UPDATE_GOLDENS=1"
    assert actual == expected_path.read_text(encoding="utf-8")
