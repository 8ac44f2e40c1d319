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
