"""Real, widely used code in every grammar language parses without a fallback, and its
top-level definitions become symbols.

The corpora (Go's standard library, Debian's Rust crates, OpenJDK, C and C++ libraries,
TypeScript, TSX and JavaScript from npm, Python from the virtualenv) are installed by
``make corpora`` (see tests/helpers/corpora.py); a missing one fails the test with the
command that installs it.

What counts as a top-level definition is decided here by a plain pattern per language, on
lines at column 0 (independent of the grammars, so a definition the chunker misses shows).
"""

from __future__ import annotations

import re

import pytest
from helpers.corpora import CORPORA, INSTALL_HINT, CorpusFile, corpora_root, missing, sample

from indexer.chunker import parse_file

_JS = (
    r"^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(?:function\s*\*?|class|interface|enum)\s+([A-Za-z_$][\w$]*)"
)
_C_FUNCTION = (
    r"^(?!(?:if|for|while|switch|return|else|do|case|typedef|using|namespace|template)\b)"
    r"[A-Za-z_][\w \t\*&:<>,]*?[\s\*&]\**([a-z_][A-Za-z0-9_]*)\s*\([^;{}]*\)\s*"
    r"(?:const\s*)?(?:noexcept\s*)?\{"
)
TOP_LEVEL: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"^(?:async\s+)?def\s+(\w+)|^class\s+(\w+)", re.M),
    "go": re.compile(r"^func\s+(?:\([^)]*\)\s*)?(\w+)|^type\s+(\w+)", re.M),
    "rust": re.compile(
        r"^(?:pub(?:\([^)]*\))?\s+)?(?:(?:unsafe|async|const|extern\s+\"\w+\")\s+)*"
        r"(?:fn|struct|enum|trait|union)\s+(\w+)",
        re.M,
    ),
    "java": re.compile(
        r"^(?:(?:public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)\s+)*"
        r"(?:class|interface|enum|record|@interface)\s+(\w+)",
        re.M,
    ),
    "c": re.compile(_C_FUNCTION + r"|^struct\s+(\w+)\s*\{", re.M),
    "cpp": re.compile(_C_FUNCTION + r"|^(?:struct|class)\s+(\w+)\s*(?:final\s*)?[:{]", re.M),
    "typescript": re.compile(_JS + r"|^(?:export\s+)?(?:declare\s+)?type\s+(\w+)", re.M),
    "tsx": re.compile(_JS + r"|^(?:export\s+)?type\s+(\w+)", re.M),
    "javascript": re.compile(_JS, re.M),
}


# Comments and strings hold code that defines nothing (doc examples, test inputs): blanked
# out before matching. Strings are matched first so that "**/*.js" opens no comment.
_STRING = r'"(?:\\.|[^"\\\n])*"' + r"|'(?:\\[^'\n]{1,10}|[^'\\\n])'"
_C_NOISE = r"(?P<keep>" + _STRING + r")|/\*[\s\S]*?\*/|//[^\n]*"
NOISE: dict[str, re.Pattern[str]] = {
    "python": re.compile(r"(?P<keep>#[^\n]*)|\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''"),
    "go": re.compile(_C_NOISE + r"|`[^`]*`"),
    "javascript": re.compile(_C_NOISE + r"|`(?:\\.|[^`\\])*`"),
    # A macro_rules! body is a template: what it defines exists only where it is expanded.
    "rust": re.compile(_C_NOISE + r"|^macro_rules!\s*\w+\s*\{[\s\S]*?^\}", re.M),
    **{lang: re.compile(_C_NOISE) for lang in ("java", "c", "cpp")},
}
NOISE["typescript"] = NOISE["tsx"] = NOISE["javascript"]


def _blank(match: re.Match[str]) -> str:
    return match.group() if match.group("keep") else re.sub(r"[^\n]", " ", match.group())


def top_level_names(language: str, text: str) -> set[str]:
    text = NOISE[language].sub(_blank, text)
    # A C function's header may span lines: join each header's lines up to its brace.
    if language in ("c", "cpp"):
        text = re.sub(r"\)\s*\n\s*\{", ") {", re.sub(r",\s*\n\s*", ", ", text))
    return {next(g for g in m.groups() if g) for m in TOP_LEVEL[language].finditer(text)}


# The share of top-level names that must come out as symbols. Below 1: what tree-sitter
# cannot parse (C/C++ macros around a function's header, Rust items made by macro_rules!
# or inside macro calls) and the odd pattern match the comment/string blanking leaves.
MIN_RECALL = {"c": 0.98, "cpp": 0.97, "rust": 0.99}
DEFAULT_MIN_RECALL = 0.995


def survey(language: str, files: list[CorpusFile]) -> dict[str, list[str]]:
    """Fallbacks, files whose top-level definitions yield no symbol, and names missed."""
    out: dict[str, list[str]] = {"fallbacks": [], "no_symbols": [], "missed": [], "names": []}
    for file in files:
        parsed = parse_file(file.path, file.text)
        if parsed.fallback is not None:
            out["fallbacks"].append(f"{file.path}: {parsed.fallback}")
            continue
        expected = top_level_names(language, file.text)
        found = {d.name for d in parsed.definitions}
        if expected and not found:
            out["no_symbols"].append(f"{file.path}: {sorted(expected)[:5]}")
        out["names"].extend(f"{file.path}: {name}" for name in sorted(expected))
        out["missed"].extend(f"{file.path}: {name}" for name in sorted(expected - found))
    return out


@pytest.mark.parametrize("language", sorted(CORPORA))
def test_real_code_parses_without_fallback_and_yields_its_definitions(language: str) -> None:
    absent = missing(language)
    if absent:
        names = ", ".join(s.package for s in absent)
        pytest.fail(f"{language} corpus missing in {corpora_root()} ({names}): run {INSTALL_HINT}")
    files = sample(language)
    assert len(files) >= 100, f"only {len(files)} {language} files in the corpus"
    result = survey(language, files)
    assert result["fallbacks"] == [], "\n".join(result["fallbacks"][:10])
    assert result["no_symbols"] == [], "\n".join(result["no_symbols"][:10])
    recall = 1 - len(result["missed"]) / max(1, len(result["names"]))
    assert recall >= MIN_RECALL.get(language, DEFAULT_MIN_RECALL), (
        f"{len(result['missed'])} of {len(result['names'])} top-level names missed:\n"
        + "\n".join(result["missed"][:20])
    )
