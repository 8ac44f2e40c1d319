"""parse_file: chunk rules that retrieval relies on, and totality on any text."""

from __future__ import annotations

import itertools
import os
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.chunker import MAX_TOKENS, WINDOW_LINES, parse_file
from indexer.languages import comment_prefix, get_parser, language_for_path
from indexer.types import ParsedFile

_COUNT = re.compile(r"\w+|[^\w\s]")


FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None


def blank(line: str) -> bool:
    """The chunker's notion of an empty line: ASCII whitespace only."""
    return not line.strip(" \t\r\x0b\x0c")


def check_invariants(parsed: ParsedFile, text: str) -> None:
    """What every consumer of chunks may rely on."""
    assert parsed.fallback is None, parsed.fallback  # any text parses; no silent windows
    lines = text.split("\n")
    plain = [c for c in parsed.chunks if c.kind != "class_summary"]
    for chunk in parsed.chunks:
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines)
        assert chunk.path == parsed.path and chunk.language == parsed.language
        if chunk.kind != "class_summary":
            assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
            assert not all(blank(line) for line in chunk.text.split("\n"))
    # Plain chunks are sorted and disjoint.
    for before, after in itertools.pairwise(plain):
        assert before.end_line < after.start_line
    # Every symbol is carried by exactly one chunk, which lies within its definition (the
    # one holding the header line: with long decorators that need not be the first piece).
    carried = [s for c in parsed.chunks for s in c.symbols]
    assert sorted(carried) == sorted(d.qualified for d in parsed.definitions)
    for definition in parsed.definitions:
        holders = [c for c in parsed.chunks if definition.qualified in c.symbols]
        assert any(
            c.start_line <= definition.end_line and definition.start_line <= c.end_line
            for c in holders
        ), definition
    # Every non-blank line is in some plain chunk.
    covered = set()
    for chunk in plain:
        covered.update(range(chunk.start_line, chunk.end_line + 1))
    for number, line in enumerate(lines, 1):
        if not blank(line):
            assert number in covered, f"line {number} not in any chunk: {line!r}"


def big_function(n: int) -> str:
    body = "\n".join(f"    total += compute_value(item_{i}, factor={i}) * weight" for i in range(n))
    return f"def crunch(items, weight):\n    total = 0\n{body}\n    return total\n"


def test_empty_and_whitespace_files_have_no_chunks() -> None:
    for text in ("", "\n", "   \n\t\n", "\r\n\r\n"):
        for path in ("a.py", "a.md", "a.unknown"):
            parsed = parse_file(path, text)
            assert parsed.chunks == [] and parsed.definitions == []


def test_one_chunk_per_definition_with_decorators_and_comments() -> None:
    text = (
        "import os\n\n\n"
        "# Loads the thing from disk, with caching and validation of the result.\n"
        "@cache\n"
        "def load(path):\n"
        "    data = read_everything_from(path, mode='rb', buffering=4096)\n"
        "    return validate(data, schema=SCHEMA, strict=True, context=path)\n\n\n"
        "def save(path, data):\n"
        "    with open(path, 'wb') as handle:\n"
        "        handle.write(serialise(data, compress=True, level=9, checksum=True))\n"
    )
    parsed = parse_file("pkg/io.py", text)
    check_invariants(parsed, text)
    by_symbol = {s: c for c in parsed.chunks for s in c.symbols}
    assert by_symbol["load"].start_line == 4  # the comment and the decorator come along
    assert by_symbol["load"].text.startswith("# Loads")
    assert by_symbol["save"].start_line == 11
    assert by_symbol["load"] is not by_symbol["save"]


def test_long_function_is_split_into_line_aligned_pieces_within_budget() -> None:
    text = big_function(120)
    parsed = parse_file("m.py", text)
    check_invariants(parsed, text)
    pieces = [c for c in parsed.chunks if c.start_line <= 123]
    assert len(pieces) > 3
    assert pieces[0].symbols == ("crunch",) and all(not c.symbols for c in pieces[1:])
    for piece in pieces:
        assert len(_COUNT.findall(piece.text)) <= MAX_TOKENS
    # Pieces tile the function: nothing lost, nothing repeated.
    assert pieces[0].start_line == 1 and pieces[-1].end_line == 123
    sizes = [len(_COUNT.findall(p.text)) for p in pieces]
    assert min(sizes) > max(sizes) / 3  # even pieces, no crumb at the end


def engine_class(count: int) -> str:
    methods = "\n".join(
        f"    def method_{i}(self, value: int) -> float:\n"
        f"        scaled = self.base_{i} * value * self.scale + self.offset\n"
        f"        return self.clamp(scaled, low=self.low_{i}, high=self.high_{i})\n"
        for i in range(count)
    )
    return (
        '@dataclass\nclass Engine(Base):\n    """Runs things.\n\n    More.\n    """\n\n'
        f"    rate: int = 3\n\n{methods}"
    )


def test_large_class_gives_summary_plus_members_small_class_one_chunk() -> None:
    small = "class Point:\n    def norm(self):\n        return 1\n"
    text = engine_class(8) + "\n\n" + small
    parsed = parse_file("engine.py", text)
    check_invariants(parsed, text)
    summary = next(c for c in parsed.chunks if c.kind == "class_summary")
    assert summary.symbols == ("Engine",)
    assert (summary.start_line, summary.end_line) == (1, 40)
    assert summary.text.split("\n")[:4] == [
        "@dataclass",
        "class Engine(Base):",
        '    """Runs things."""',
        "    rate: int = 3",
    ]
    for i in range(8):
        assert f"    def method_{i}(self, value: int) -> float: ..." in summary.text
    method_chunks = [c for c in parsed.chunks if any(s.startswith("Engine.") for s in c.symbols)]
    assert {s for c in method_chunks for s in c.symbols} == {f"Engine.method_{i}" for i in range(8)}
    assert all(c.kind == "definition" for c in method_chunks)
    # The class head (decorator, class line, docstring, fields) is a real chunk as well.
    head = next(c for c in parsed.chunks if c.kind == "definition" and c.start_line == 1)
    assert "rate: int = 3" in head.text and not head.symbols
    point = [c for c in parsed.chunks if "Point" in c.symbols]
    assert len(point) == 1 and point[0].symbols == ("Point", "Point.norm")


def test_huge_class_summary_is_bounded_and_says_what_it_left_out() -> None:
    text = engine_class(80)
    parsed = parse_file("engine.py", text)
    check_invariants(parsed, text)
    summary = next(c for c in parsed.chunks if c.kind == "class_summary")
    listed = summary.text.count("    def method_")
    last = summary.text.split("\n")[-1]
    assert 10 < listed < 80
    assert last == f"    # ... {80 - listed} more members"
    assert len(_COUNT.findall(summary.text)) <= 2 * MAX_TOKENS + 10


def test_tiny_siblings_are_merged_but_normal_ones_are_not() -> None:
    tiny = "\n\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(6))
    normal = (
        "\n\n\ndef bigger(a, b, c):\n"
        "    result = [transform(item, a, b) for item in collect(c) if keep(item)]\n"
        "    return sorted(result, key=lambda pair: (pair[0], -pair[1]), reverse=True)\n"
    )
    text = tiny + normal
    parsed = parse_file("t.py", text)
    check_invariants(parsed, text)
    assert len(parsed.chunks) < 6
    merged = parsed.chunks[0]
    assert len(merged.symbols) > 1 and merged.symbols[0] == "f0"
    assert parsed.chunks[-1].symbols == ("bigger",)


def test_module_code_between_definitions_is_module_chunks() -> None:
    imports = "\n".join(f"from package.module_{i} import Thing{i}, helper_{i}" for i in range(8))
    text = (
        imports
        + "\n\n\ndef main(argv):\n"
        + "".join(f"    run_step_{i}(argv, verbose=True, retries=3)\n" for i in range(8))
    )
    parsed = parse_file("app.py", text)
    check_invariants(parsed, text)
    assert parsed.chunks[0].kind == "module" and parsed.chunks[0].end_line == 8
    assert parsed.chunks[-1].symbols == ("main",)


def test_text_files_get_line_windows() -> None:
    text = "\n".join(f"line {i} of the notes with a few words" for i in range(200))
    parsed = parse_file("notes.md", text)
    check_invariants(parsed, text)
    assert parsed.language == "markdown"
    assert all(c.kind == "window" for c in parsed.chunks)
    assert all(c.end_line - c.start_line < WINDOW_LINES for c in parsed.chunks)
    assert all(len(_COUNT.findall(c.text)) <= MAX_TOKENS for c in parsed.chunks)


def test_odd_line_breaks_keep_rows_aligned_with_the_grammar() -> None:
    # \r\n, a lone \r, form feed and U+2028 must not shift lines (only \n ends a line).
    text = "x = 1\r\n\x0c\ndef f():\r\n    return 'a\u2028b'\r\n\rdef g():\n    pass\n"
    parsed = parse_file("odd.py", text)
    check_invariants(parsed, text)
    assert {d.qualified for d in parsed.definitions} >= {"f", "g"}


def test_syntax_errors_still_chunk() -> None:
    text = "def broken(:\n    pass\n\nclass Fine:\n    def ok(self):\n        return 1\n"
    parsed = parse_file("bad.py", text)
    check_invariants(parsed, text)
    assert "Fine" in {d.qualified for d in parsed.definitions}


def test_language_detection_and_comment_prefix() -> None:
    assert language_for_path("src/a.tsx") == "tsx"
    assert language_for_path("lib/x.H") is None or language_for_path("lib/x.h") == "c"
    assert language_for_path("Makefile") == "make"
    assert language_for_path("README") == "text"
    assert language_for_path("data.bin") is None
    assert comment_prefix("python") == "# " and comment_prefix("go") == "// "
    assert comment_prefix("sql") == "-- "
    for language in ("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"):
        assert get_parser(language) is not None
    assert get_parser("markdown") is None


CODE_FRAGMENTS = [
    "def f(a, b):",
    "    return a",
    "class C(B):",
    "    x = 1",
    "    def m(self):",
    "        pass",
    "@deco",
    "import os",
    "from . import x",
    "X = [",
    "]",
    "# comment",
    '"""doc',
    "",
    "    ",
    "\t",
    "if x:",
    "async def g():",
    "function h() {",
    "}",
    "export const k = () => {",
    "pub fn r() {",
    "impl S {",
    '#include "a.h"',
    "struct T {",
]


@settings(
    max_examples=FUZZ_EXAMPLES or 150,
    deadline=None,
    derandomize=FUZZ_EXAMPLES is None,  # deterministic in CI; FUZZ_EXAMPLES=5000 to explore
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from(CODE_FRAGMENTS) | st.text(max_size=30), max_size=60),
    st.sampled_from(
        ["a.py", "a.js", "a.ts", "a.tsx", "a.go", "a.rs", "A.java", "a.c", "a.cpp", "a.md"]
    ),
)
def test_any_text_is_chunked_without_error(lines: list[str], path: str) -> None:
    text = "\n".join(lines)
    parsed = parse_file(path, text)
    if not text.strip():
        assert parsed.chunks == []
        return
    check_invariants(parsed, text)


@settings(max_examples=FUZZ_EXAMPLES or 60, deadline=None, derandomize=FUZZ_EXAMPLES is None)
@given(st.text(max_size=400))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    for path in ("x.py", "x.cpp"):
        parsed = parse_file(path, text)
        if text.strip():
            check_invariants(parsed, text)


def test_throughput_is_linear() -> None:
    """A file 4x larger takes about 4x longer (no quadratic work hidden anywhere)."""
    unit = "\n\n".join(
        f"class K{i}:\n"
        + "".join(f"    def m{j}(self, v):\n        return v + {j}\n" for j in range(12))
        for i in range(20)
    )
    small, large = unit * 2, unit * 8

    def timed(text: str) -> float:
        start = time.perf_counter()
        parse_file("big.py", text)
        return time.perf_counter() - start

    # Best of three each, so a busy machine does not fail the test; quadratic work would
    # make the 4x file 16x slower.
    t_small = min(timed(small) for _ in range(3))
    t_large = min(timed(large) for _ in range(3))
    assert t_large < 10 * t_small + 0.05, (t_small, t_large)


@pytest.mark.parametrize("path", ["a.py", "a.js", "a.go", "a.rs", "A.java", "a.c", "a.cpp"])
def test_huge_single_line_is_one_chunk_not_a_crash(path: str) -> None:
    text = "x" + " + y" * 5000
    parsed = parse_file(path, text)
    check_invariants(parsed, text)
    assert len(parsed.chunks) == 1


def test_brace_language_summary_keeps_doc_comment_header_and_closer() -> None:
    methods = "\n".join(
        f"    public int method{i}(int a, String b) {{\n"
        f"        int x = a * {i} + b.length();\n        return helper(x, a, b, {i});\n    }}\n"
        for i in range(12)
    )
    text = (
        "/** Counts things,\n * carefully. */\n@Service\n"
        f"public class Big extends Base {{\n    private int count = 0;\n{methods}}}\n"
    )
    parsed = parse_file("Big.java", text)
    check_invariants(parsed, text)
    summary = next(c for c in parsed.chunks if c.kind == "class_summary")
    lines = summary.text.split("\n")
    assert lines[:4] == [
        "/** Counts things, */",
        "@Service",
        "public class Big extends Base {",
        "    private int count = 0;",
    ]
    assert lines[4] == "    public int method0(int a, String b) { ... }"
    assert lines[-1] == "}"
    assert summary.symbols == ("Big",)
    assert {s for c in parsed.chunks for s in c.symbols} == {"Big"} | {
        f"Big.method{i}" for i in range(12)
    }


def test_parsing_from_several_threads_gives_the_same_results() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [engine_class(6 + i) + f"\n\ndef tail_{i}():\n    return {i}\n" for i in range(8)]
    expected = [parse_file(f"m{i}.py", t) for i, t in enumerate(texts)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda it: parse_file(f"m{it[0]}.py", it[1]), enumerate(texts)))
    assert got == expected


def test_a_lone_section_comment_leads_the_next_definition() -> None:
    body = "\n".join(
        f"    def op{i}(self, key, value):\n        self.items[key] = transform(value, {i})\n"
        f"        return self.items[key]\n"
        for i in range(10)
    )
    text = f"class Store:\n{body}\n    # -- tables {'-' * 60}\n\n    def tables(self):\n"
    text += "        return sorted(self.items, key=len)\n"
    parsed = parse_file("store.py", text)
    check_invariants(parsed, text)
    tables = next(c for c in parsed.chunks if "Store.tables" in c.symbols)
    assert tables.text.startswith("    # -- tables")
    assert all(c.text.strip() != text.split("\n")[-4].strip() for c in parsed.chunks)


BODY = "total = compute(first_value, second_value, limit) + adjust(third_value, factor=2, scale=4)"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("a.py", "def {name}():\n    {body}\n"),
        ("a.go", "func {name}() {{\n\t{body}\n}}\n"),
        ("a.ts", "function {name}() {{\n  {body};\n}}\n"),
        ("a.rs", "fn {name}() {{\n    {body};\n}}\n"),
    ],
)
def test_a_comment_run_above_the_last_definition_keeps_every_definition(
    path: str, template: str
) -> None:
    """Regression: two comment lines directly above the last definition made ``_units``
    raise IndexError, and the whole file fell back to line windows without a definition."""
    prefix = comment_prefix(language_for_path(path)).strip()
    header = "package p\n\n" if path.endswith(".go") else ""
    text = (
        header
        + template.format(name="first", body=BODY)
        + f"{prefix} one\n{prefix} two\n"
        + template.format(name="second", body=BODY)
    )
    parsed = parse_file(path, text)
    check_invariants(parsed, text)
    assert [d.name for d in parsed.definitions] == ["first", "second"]
    second = next(c for c in parsed.chunks if "second" in c.symbols)
    assert second.text.startswith(f"{prefix} one\n{prefix} two\n")
