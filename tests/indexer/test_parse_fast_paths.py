"""The parser's fast paths agree with the plain definitions they replace: each is checked
against the obvious implementation (a regex, ``posixpath``) on generated inputs."""

from __future__ import annotations

import posixpath
import re
from itertools import accumulate

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chunker import line_token_prefix, looks_cpp
from indexer.grammars import c, go, java, javascript, python, rust
from indexer.grammars.base import Anchor, join_in, keyword_spots
from indexer.grammars.javascript import _extension

# Pieces that exercise every boundary: words, keywords, blanks, newlines, non-ASCII.
_PIECES = [
    "import", "from", "export", "require", "module.exports", "use", "mod", "include", "#",
    "class", "namespace", "template", "std::", "std:", "x", "_", "1", "é", "\u2003", " ",
    "\t", "\n", "\r", "\x0b", ";", ".", "$", "(", "{", "re", "s", "function", "type", "async",
]  # fmt: skip
texts = st.lists(st.sampled_from(_PIECES), max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_line_token_prefix_counts_words_and_punctuation(text: str) -> None:
    data = text.encode()
    marked = re.sub(rb"[\w\x80-\xff]+", b"w", data).translate(None, b" \t\r\x0b\x0c")
    expected = list(accumulate(map(len, marked.split(b"\n")), initial=0))
    assert line_token_prefix(data) == expected


@settings(max_examples=400, deadline=None)
@given(texts)
def test_looks_cpp_is_the_header_regex(text: str) -> None:
    hint = re.compile(r"^\s*(?:class|namespace|template)\b|\bstd::", re.MULTILINE)
    assert looks_cpp(text) == (hint.search(text) is not None)


# Each grammar's anchor and the regex it stands for (match start moved past blanks).
_ANCHOR_REGEXES: list[tuple[Anchor, str]] = [
    (python.ANCHOR, r"(?m)^[ \t]*(?:import|from)\b"),
    (java.ANCHOR, r"(?m)^[ \t]*import\b"),
    (go.ANCHOR, r"\bimport\b"),
    (rust.ANCHOR, r"\b(?:use|mod)\b"),
    (c.ANCHOR, r"(?m)^[ \t]*#[ \t]*include"),
    (
        javascript.ANCHOR,
        r"\b(?:import|require|module\.exports)\b|\bexport\b(?![ \t\r\n]+(?:(?:async|abstract"
        r"|declare|const|let|var|function|class|interface|enum|namespace|module)(?![\w$])"
        r"|type[ \t\r\n]+[A-Za-z_$]))",
    ),
]


@settings(max_examples=400, deadline=None)
@given(texts)
def test_keyword_spots_are_the_anchor_regexes(text: str) -> None:
    data = text.encode()
    for anchor, pattern in _ANCHOR_REGEXES:
        expected = []
        for match in re.finditer(pattern.encode(), data):
            start = match.start()
            while start < match.end() - 1 and data[start] in b" \t":
                start += 1
            expected.append((start, match.end()))
        assert sorted(keyword_spots(data, anchor)) == expected, pattern


_PARTS = st.sampled_from(["a", "b", ".", "..", "", "c.d", "...", ".x"])
paths = st.lists(_PARTS, max_size=5).map("/".join)


@settings(max_examples=600, deadline=None)
@given(paths, paths, st.sampled_from(["", "/"]))
def test_join_in_is_normpath(folder: str, relative: str, lead: str) -> None:
    folder = lead + folder
    joined = posixpath.normpath(posixpath.join(folder, relative))
    outside = joined == ".." or joined.startswith(("../", "/"))
    expected = None if outside else ("" if joined == "." else joined)
    assert join_in(folder, relative) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", ".", "/", "b", "ts"]), max_size=7).map("".join))
def test_extension_is_splitext(path: str) -> None:
    assert _extension(path) == posixpath.splitext(path)[1]
