"""Which language a path is, and the tree-sitter parser for it.

Grammar languages (python, javascript, typescript, tsx, go, rust, java, c, cpp) get
syntax-aware chunks; the other known text languages (markdown, yaml, ...) get line windows.
Grammars come from the per-language wheels and are loaded lazily, once per process.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from functools import cache
from typing import Any

import tree_sitter

# language -> (module, function returning the grammar's language pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}

GRAMMAR_LANGUAGES: frozenset[str] = frozenset(_GRAMMARS)

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".inl": "cpp",
    # Text languages without a grammar here: line windows.
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdx": "markdown",
    ".rst": "rst",
    ".txt": "text",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".json": "json",
    ".jsonc": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".fish": "shell",
    ".css": "css",
    ".scss": "css",
    ".less": "css",
    ".html": "html",
    ".htm": "html",
    ".xml": "xml",
    ".svg": "xml",
    ".sql": "sql",
    ".lua": "lua",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".cs": "csharp",
    ".hs": "haskell",
    ".ex": "elixir",
    ".exs": "elixir",
    ".r": "r",
    ".jl": "julia",
    ".dart": "dart",
    ".vue": "vue",
    ".svelte": "svelte",
    ".proto": "protobuf",
    ".graphql": "graphql",
    ".tf": "hcl",
    ".cmake": "cmake",
    ".mk": "make",
    ".el": "elisp",
    ".vim": "vim",
    ".ps1": "powershell",
    ".bat": "batch",
}

_FILENAMES: dict[str, str] = {
    "makefile": "make",
    "gnumakefile": "make",
    "dockerfile": "dockerfile",
    "cmakelists.txt": "cmake",
    "readme": "text",
    "license": "text",
    ".gitignore": "ignore",
    ".tandemignore": "ignore",
    ".dockerignore": "ignore",
    "go.mod": "gomod",
}

_COMMENT: dict[str, str] = {
    "python": "# ",
    "shell": "# ",
    "yaml": "# ",
    "toml": "# ",
    "ini": "; ",
    "ruby": "# ",
    "r": "# ",
    "julia": "# ",
    "elixir": "# ",
    "make": "# ",
    "cmake": "# ",
    "dockerfile": "# ",
    "ignore": "# ",
    "gomod": "// ",
    "powershell": "# ",
    "hcl": "# ",
    "graphql": "# ",
    "sql": "-- ",
    "lua": "-- ",
    "haskell": "-- ",
    "elisp": ";; ",
    "vim": '" ',
    "batch": "REM ",
    "markdown": "<!-- ",
    "html": "<!-- ",
    "xml": "<!-- ",
    "vue": "<!-- ",
    "svelte": "<!-- ",
    "css": "/* ",
    "text": "",
    "rst": ".. ",
    "json": "// ",
}

_COMMENT_END: dict[str, str] = {
    "markdown": " -->",
    "html": " -->",
    "xml": " -->",
    "vue": " -->",
    "svelte": " -->",
    "css": " */",
}


def language_for_path(path: str) -> str | None:
    """The language name for a path by its file name or extension; None if unknown."""
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1].lower()
    if name in _FILENAMES:
        return _FILENAMES[name]
    dot = name.rfind(".")
    if dot <= 0 and not name.startswith("."):
        return None
    return _EXTENSIONS.get(name[dot:]) if dot >= 0 else None


def has_grammar(language: str | None) -> bool:
    """True when ``language`` is chunked by syntax rather than by line windows."""
    return language in _GRAMMARS


_lock = threading.Lock()


@cache
def get_language(language: str) -> tree_sitter.Language | None:
    """The tree-sitter Language for a grammar language, loaded once; None otherwise."""
    spec = _GRAMMARS.get(language)
    if spec is None:
        return None
    module_name, func_name = spec
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    make: Callable[[], Any] = getattr(module, func_name)
    return tree_sitter.Language(make())


_parsers: dict[tuple[int, str], tree_sitter.Parser] = {}


def get_parser(language: str) -> tree_sitter.Parser | None:
    """A cached parser for ``language`` (None without a grammar).

    Parsers are not thread-safe, so each thread gets its own; the Language is shared.
    """
    key = (threading.get_ident(), language)
    parser = _parsers.get(key)
    if parser is not None:
        return parser
    lang = get_language(language)
    if lang is None:
        return None
    with _lock:
        parser = _parsers.setdefault(key, tree_sitter.Parser(lang))
    return parser


def comment_prefix(language: str | None) -> str:
    """The line-comment opener to render a snippet's path as a comment ("# ", "// ")."""
    if language is None:
        return "# "
    return _COMMENT.get(language, "// ")


def comment_suffix(language: str | None) -> str:
    """The closer for block-comment-only languages (" -->", " */"); "" for the rest."""
    return _COMMENT_END.get(language or "", "")
