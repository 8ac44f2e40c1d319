"""TypeScript: a type position ranks the imported types first; ``x as ‸`` in an export
list shows ``x``'s definition."""

from __future__ import annotations

from typing import Any

import pytest
from test_scope import index_files, top

from indexer.grammars import scope
from indexer.grammars.ts_kinds import TYPES

NOTHING: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("above", "line", "kinds"),
    [
        ("", "function handle(msg: ", TYPES),
        ("", "  wsClient?: Partial<", TYPES),
        ("", "let cache: Record<string, ", TYPES),
        ("", "class Router implements ", TYPES),
        ("", "const x = y as unknown as ", TYPES),
        ("", "type Name = ", TYPES),
        ("type Child =", "  | ", TYPES),
        ("", "function f(a: number): ", TYPES),
        ("interface Options {", "  env: ", TYPES),
        ("function make(", "  options: ", TYPES),
        ("const options = {", "  env: ", NOTHING),
        ("", "const y = ok ? a : ", NOTHING),
        ("", "if (a < ", NOTHING),
        ("", "const z = a || ", NOTHING),
        ("", "return ", NOTHING),
    ],
)
def test_ts_line_says_where_a_type_comes(above: str, line: str, kinds: frozenset[str]) -> None:
    assert scope("typescript").expected_kinds([above, line]) == kinds


FUNCTIONS = ("parseBody", "parseQuery", "parseHeaders", "parseCookies", "parseParams")
PADDING = "".join(f"const v{i} = {i};\n" for i in range(12))
TS = {
    "src/parse.ts": "".join(
        f"export function {n}(input: string): string {{\n  return input.trim();\n}}\n\n"
        for n in FUNCTIONS
    ),
    "src/types.ts": ("export interface RequestOptions {\n  method: string;\n  body?: string;\n}\n"),
    "src/proxy.ts": (
        "export function makeProxy(target: object): object {\n  return target;\n}\n\n"
        "export function makeFlatProxy(target: object): object {\n  return target;\n}\n"
    ),
    "src/handler.ts": (
        "import { " + ", ".join(FUNCTIONS) + " } from './parse';\n"
        "import { RequestOptions } from './types';\n\n"
        + "".join(f"const {n.lower()}In = 'parse {n[5:].lower()}';\n" for n in FUNCTIONS * 3)
        + "export function handle(url: string, input: <|>RequestOptions) {\n"
        + "".join(f"  {n}(url);\n" for n in FUNCTIONS)
        + "}\n"
    ),
    "src/index.ts": (
        "export { "
        + ", ".join(FUNCTIONS)
        + " } from './parse';\n\n"
        + PADDING
        + "export {\n  makeFlatProxy as createFlatProxy,\n  makeProxy as <|>createProxy,\n"
        "} from './proxy';\n"
    ),
}


@pytest.fixture(scope="module")
def ts_pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("tspkg"), TS)


def test_a_type_position_ranks_the_imported_type_first(ts_pkg: Any) -> None:
    snippets = top(ts_pkg, TS, "src/handler.ts", k=10)
    assert snippets[0][0] == "src/types.ts", snippets


def test_a_renamed_export_shows_the_definition_renamed(ts_pkg: Any) -> None:
    snippets = top(ts_pkg, TS, "src/index.ts", k=10)
    assert "function makeProxy(" in snippets[0][1], snippets


SCHEMAS = ("string", "number", "boolean", "object", "array")
BARREL = {
    "lib/schemas.ts": "".join(
        f"export function {n}(): {n.capitalize()}Schema {{\n  return make('{n}');\n}}\n\n"
        for n in SCHEMAS
    ),
    "lib/classic/index.ts": "export * from '../schemas';\n",
    "lib/index.ts": "export * from './classic/index';\n",
    "test/object.test.ts": (
        "import * as z from '../lib/index';\n\n"
        + "".join(f"const field{i} = {i};\n" for i in range(12))
        + "const schema = z.<|>object();\n"
    ),
}


@pytest.fixture(scope="module")
def barrel(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return index_files(tmp_path_factory.mktemp("barrel"), BARREL)


def test_a_namespace_offers_what_its_barrels_re_export_in_turn(barrel: Any) -> None:
    """``z.‸`` where z's index re-exports a barrel that re-exports the schemas."""
    snippets = top(barrel, BARREL, "test/object.test.ts", k=10)
    shown = {p for p, _ in snippets}
    assert "lib/schemas.ts" in shown, snippets
