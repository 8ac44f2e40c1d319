"""Plain data passed between the indexer's stages (and out to the server)."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


def _quick_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an ``__init__`` that fills its slots through their
    descriptors. The generated one calls ``object.__setattr__`` per field (frozen): 0.8 us
    a chunk, half of it saved here, and a parse makes dozens (chunks, definitions,
    imports). Everything else (frozen assignment, equality, hashing, pickling) is the
    dataclass's own."""
    params: list[str] = []
    body: list[str] = []
    env: dict[str, object] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        env[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        if f.default is dataclasses.MISSING:
            params.append(f.name)
        else:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        body.append(f"    _set_{f.name}(self, {f.name})")
    namespace: dict[str, object] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), env, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    setattr(cls, "__init__", init)  # noqa: B010 - replacing a method mypy sees as fixed
    return cls


def content_hash(text: str) -> str:
    """Stable hash of text; the key for change detection and the embedding cache."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@_quick_init
@dataclass(frozen=True, slots=True)
class SymbolDef:
    """A definition in a file: what a name lookup returns."""

    name: str  # short name, e.g. "parse"
    qualified: str  # dotted within the file, e.g. "Parser.parse"
    kind: str  # function | method | class | struct | interface | enum | type | const | variable
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive


@_quick_init
@dataclass(frozen=True, slots=True)
class ImportRef:
    """A name a file imports, with where it may come from.

    ``candidates`` are workspace-relative path suffixes the module may live at, computed
    from the importing file's path and the import text alone (so a file's rows never depend
    on which other files exist); ``indexer.resolve`` matches them against indexed paths at
    query time.
    """

    local_name: str  # the name bound in the importing file ("np", "Parser", "*")
    module: str  # as written: "..utils", "./foo", "pkg.mod", "github.com/x/y"
    name: str | None  # the imported member ("Parser"), None when the module itself is bound
    line: int  # 1-based
    candidates: tuple[str, ...] = ()


@_quick_init
@dataclass(frozen=True, slots=True)
class Chunk:
    """A syntax-aware slice of a file: the unit of retrieval."""

    path: str  # workspace-relative, POSIX separators
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    language: str
    text: str
    symbols: tuple[str, ...] = ()  # qualified names defined in this chunk
    kind: str = "definition"  # definition | class_summary | module | window

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def id(self) -> str:
        """Unique within an index: path, span and content."""
        return content_hash(f"{self.path}\0{self.start_line}\0{self.end_line}\0{self.text}")


@dataclass(slots=True)
class ParsedFile:
    """Everything the indexer keeps about one file."""

    path: str
    language: str
    chunks: list[Chunk] = field(default_factory=list)
    definitions: list[SymbolDef] = field(default_factory=list)
    imports: list[ImportRef] = field(default_factory=list)
    # Why the file got line windows although its language has a grammar (the grammar is
    # missing, or the syntax path raised); None when it parsed. Stored and reported.
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file the walk or the reader passed over, and why (shown to the user)."""

    path: str
    reason: str  # e.g. "binary", "too large (3.2 MB > 1 MB)", "invalid UTF-8", "secret file"


@dataclass(frozen=True, slots=True)
class ParseFallback:
    """A file of a grammar language that was cut into line windows instead, and why."""

    path: str
    reason: str  # e.g. "IndexError: list index out of range (chunker.py:194 in _units)"


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One retrieved chunk."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    symbol: str | None = None  # the chunk's first defined symbol, if any
    source: str = "hybrid"  # symbol | text | vector | hybrid | overlay
    language: str = ""
