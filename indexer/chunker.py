"""Cut a file into retrieval chunks, and list its definitions and imports.

``parse_file`` is pure and total: any text gives a ``ParsedFile``, never an exception.

Rules (all line-aligned; a chunk's text is exactly the file's lines start..end, except a
``class_summary``, which is synthetic but repeats the real header line verbatim):

- one chunk per function, method or class-level definition (kind ``definition``), with its
  leading comments (adjacent ones, or a lone comment of up to three lines such as a section
  marker), decorators and attributes;
- code between definitions (imports, constants, docstrings) becomes ``module`` chunks;
- a chunk over the embedder's budget is split into line-aligned pieces, preferring to break
  where a statement of the definition's body starts. Pieces are plain lines (the header is
  not repeated); the piece holding the header line carries the symbol;
- a large class yields a ``class_summary`` (decorators, the class line(s), the docstring's
  first line and one signature line per member, within ``SUMMARY_TOKENS``, then "... N more
  members") carrying the class's symbol, then chunks of its body as for the top level (all
  of kind ``definition``; the first starts at the class line and carries no symbol, the
  closing brace joins the last); a small class stays one chunk carrying the class and all
  its members' symbols. Namespaces, Rust ``mod`` blocks and ``#if`` blocks are transparent:
  no summary, their members chunked as top-level code;
- runs of tiny siblings (definitions or statements, each under ``TINY_TOKENS``) are merged
  into one chunk of at most ``MERGE_TOKENS``;
- lines no node claims (an ``#else``) join the next chunk, so every non-blank line is in a
  chunk;
- languages without a grammar, and any failure of the syntax path, get ``window`` chunks:
  at most ``WINDOW_LINES`` lines and the token budget, no overlap, breaking at blank lines
  and headings where possible. A failure is never silent: ``ParsedFile.fallback`` says why,
  and the index stores and reports it (valid code must never get there).

Every symbol is carried by exactly one chunk, and that chunk's span holds its header line.

Token counts are approximate: the number of ``\\w+`` runs plus punctuation characters. On
Python from site-packages the MiniLM word-piece count is 1.38x that figure (identifiers split
into several pieces), so ``MAX_TOKENS = 186`` approximates the embedder's 256 word pieces.
"""

from __future__ import annotations

import re
import traceback
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tree_sitter import Node

from indexer.grammars import (
    BRACES,
    Desc,
    Name,
    comment_types,
    extract_imports,
    members,
    own_describer,
    recovered,
    text_of,
)
from indexer.languages import comment_prefix, get_parser, has_grammar, language_for_path
from indexer.types import Chunk, ImportRef, ParsedFile, SymbolDef

WORDPIECES_PER_TOKEN = 1.38
MAX_TOKENS = 186  # ~256 MiniLM word pieces
TINY_TOKENS = 32  # a sibling this small is merged with its tiny neighbours...
MERGE_TOKENS = 96  # ...as long as the merged chunk stays this small
WINDOW_LINES = 40
SUMMARY_TOKENS = 2 * MAX_TOKENS  # a summary may run past the embedder: its text is the point
SIGNATURE_CHARS = 120

_DATA_KINDS = frozenset({"const", "variable", "type"})
_CPP_WORDS = ("class", "namespace", "template")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_SPACE = re.compile(r"\s+")


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def looks_cpp(text: str) -> bool:
    """A C++ header: a line starting with class/namespace/template, or ``std::`` (as the
    regex ``(?m)^\\s*(?:class|namespace|template)\\b|\\bstd::`` would find them, but with
    ``str.find`` per word: the regex scanned whole headers at a sixth of the parse)."""
    index = text.find("std::")
    while index >= 0:
        if index == 0 or not _is_word(text[index - 1]):
            return True
        index = text.find("std::", index + 1)
    for word in _CPP_WORDS:
        index = text.find(word)
        while index >= 0:
            end = index + len(word)
            if end == len(text) or not _is_word(text[end]):
                start = index
                while start > 0 and text[start - 1].isspace():
                    start -= 1
                if start == 0 or "\n" in text[start:index]:
                    return True
            index = text.find(word, index + 1)
    return False


def approx_tokens(text: str) -> int:
    """The approximate embedder token count of ``text`` (see the module docstring)."""
    return round(len(_TOKEN.findall(text)) * WORDPIECES_PER_TOKEN)


def _byte_classes() -> bytes:
    """Each byte's class for token counting, as a ``bytes.translate`` table: 0 other (a
    token of its own), 1 space, 2 a word character (ASCII letters, digits, ``_`` and every
    byte of a non-ASCII letter), 3 the newline."""
    table = bytearray(256)
    for byte in b" \t\r\x0b\x0c":
        table[byte] = 1
    for byte in b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
        table[byte] = 2
    table[128:] = b"\x02" * 128
    table[ord("\n")] = 3
    return bytes(table)


_BYTE_CLASSES = _byte_classes()


def line_token_prefix(data: bytes) -> list[int]:
    """Prefix sums of the token counts of the ``\\n``-separated lines of UTF-8 ``data``
    (entry i: the tokens of lines before i; one entry more than there are lines). A token
    is a run of word characters or any other non-space character. Whole-buffer array
    operations: a regex over the text cost a fifth of the parse itself (the classes come
    from ``bytes.translate``, a quarter faster than a numpy table lookup)."""
    classes = np.frombuffer(data.translate(_BYTE_CLASSES), np.uint8)
    word = classes == 2
    token = classes == 0
    token[1:] |= word[1:] > word[:-1]  # a word starts here
    if len(word):
        token[0] |= word[0]
    counts = np.cumsum(token, dtype=np.int32)
    prefix = [0]
    prefix.extend(counts[classes == 3].tolist())
    prefix.append(int(counts[-1]) if len(counts) else 0)
    return prefix


Tier = list[int] | Callable[[], list[int]]  # rows where a piece may start, or how to find them


@dataclass(slots=True)
class _Unit:
    """A top-level node or container member, with its line span (0-based rows)."""

    start: int
    end: int
    desc: Desc


@dataclass(slots=True)
class _Piece:
    """A chunk in the making: rows (0-based), kind, and the names whose header it holds."""

    start: int
    end: int
    kind: str
    names: list[tuple[str, Name]] = field(default_factory=list)  # (qualified, name)
    mergeable: bool = True
    tiny: bool = False
    text: str | None = None  # only for class_summary


class _File:
    """One parse: the lines and per-line token prefix sums (every span count is O(1))."""

    def __init__(self, path: str, language: str, text: str, data: bytes) -> None:
        self.path = path
        self.data = data
        self.language = language
        self.lines = text.split("\n")
        self.prefix = line_token_prefix(data)
        self.describe = own_describer(language)
        self.comments = comment_types(language)

    def tokens(self, start: int, end: int) -> int:
        return self.prefix[end + 1] - self.prefix[start]

    def blank(self, row: int) -> bool:
        return self.prefix[row + 1] == self.prefix[row]

    def text(self, start: int, end: int) -> str:
        return "\n".join(self.lines[start : end + 1])

    def pack(
        self, start: int, end: int, tiers: list[Tier], max_lines: int | None = None
    ) -> list[tuple[int, int]]:
        """Split rows start..end into pieces within the token budget.

        Pieces aim at an even share of the total (never over ``MAX_TOKENS``). ``tiers`` are
        sorted rows where a new piece may start, best first; a break is taken from the best
        tier that leaves the piece at least a third full, else the piece ends where the
        budget does. A single line over the budget is a piece of its own. A tier given as
        a function is computed when first needed (a better tier usually suffices).
        """
        prefix = self.prefix
        out: list[tuple[int, int]] = []
        while start <= end:
            # Aim for an even share of what remains (no crumb at the end), with headroom
            # for breaking at statements.
            remaining = prefix[end + 1] - prefix[start]
            count = 1 if remaining <= MAX_TOKENS else -(-remaining * 20 // (17 * MAX_TOKENS))
            target = min(MAX_TOKENS, -(-remaining * 11 // (10 * count)))
            limit = prefix[start] + target
            last = bisect_right(prefix, limit, start + 1, end + 2) - 2
            if max_lines is not None:
                last = min(last, start + max_lines - 1)
            if last >= end:
                out.append((start, end))
                break
            if last < start:
                out.append((start, start))
                start += 1
                continue
            cut = last
            floor = start + max(1, (last + 1 - start) // 3)
            for index, tier in enumerate(tiers):
                if callable(tier):
                    tier = tiers[index] = tier()
                i = bisect_right(tier, last + 1) - 1
                if i >= 0 and tier[i] >= floor:
                    cut = tier[i] - 1
                    break
            out.append((start, cut))
            start = cut + 1
        if len(out) > 1:
            (first, _), (last_start, last_end) = out[-2], out[-1]
            tail = self.tokens(last_start, last_end)
            both = self.tokens(first, last_end)
            if tail < TINY_TOKENS and both <= MAX_TOKENS:
                out[-2:] = [(first, last_end)]  # no crumb at the end
        return out


def _units(file: _File, nodes: list[Node], in_class: bool) -> list[_Unit]:
    """Describe nodes, merge units sharing a row, and attach the comments directly above
    a unit (no blank line) to it; one pass."""
    units: list[_Unit] = []
    describe, comments = file.describe, file.comments
    for node in nodes:
        node_type = node.type
        if node_type in comments:
            desc = Desc("comment", node)
        elif node_type == "ERROR" and node.named_child_count:
            desc = recovered(node)
        else:
            desc = describe(node, in_class)
        # The node's rows (as grammars.rows: a node ending at column 0 does not own that row).
        start = node.start_point.row
        last = node.end_point
        end = last.row - 1 if last.column == 0 and last.row > start else last.row
        if units and start <= units[-1].end:
            prev = units[-1]
            if not desc.names and desc.role in ("code", "comment"):
                prev.end = max(prev.end, end)
                continue
            if prev.desc.names or prev.desc.role not in ("code", "comment"):
                # Two definitions on one row: one unit, keeping every name inside both.
                names = _flat_names(file, prev.desc) + _flat_names(file, desc)
                prev.end = max(prev.end, end)
                prev.desc = Desc("code", prev.desc.node, names)
                continue
            units.pop()  # the definition takes over the plain unit on its row
            start, end = prev.start, max(prev.end, end)
        unit = _Unit(start, end, desc)
        if desc.role != "comment":
            while units and units[-1].desc.role == "comment" and units[-1].end >= unit.start - 1:
                unit.start = units.pop().start
        units.append(unit)
    return units


def _qual(prefix: str, name: Name) -> tuple[str, Name]:
    if not prefix and not name.scope:
        return name.name, name  # a top-level name (most of them): no join
    return (".".join(p for p in (prefix, name.scope, name.name) if p), name)


def _in_span(names: list[tuple[str, Name]], start: int, end: int) -> list[tuple[str, Name]]:
    return [qn for qn in names if start <= qn[1].header <= end]


def _flat_names(file: _File, desc: Desc) -> list[Name]:
    """A unit's own names and, for a container, all its members' names (scoped)."""
    names = list(desc.names)
    if desc.role == "container":
        own = desc.prefix or ""
        for member in _units(file, members(desc), desc.summarize):
            for name in _flat_names(file, member.desc):
                scope = ".".join(p for p in (own, name.scope) if p)
                names.append(Name(name.name, name.kind, name.start, name.end, name.header, scope))
    return names


def _deep_names(file: _File, unit: _Unit, prefix: str) -> list[tuple[str, Name]]:
    """The unit's own names and, for a container, all its members' names, qualified."""
    return [_qual(prefix, n) for n in _flat_names(file, unit.desc)]


def _member_prefix(prefix: str, desc: Desc) -> str:
    own = desc.prefix or ""
    if prefix and own:
        return f"{prefix}.{own}"
    return prefix or own


def _level(
    file: _File,
    nodes: list[Node],
    prefix: str,
    in_class: bool,
    run_kind: str,
    span: tuple[int, int] | None = None,
    owner: Node | None = None,
    described: list[_Unit] | None = None,
) -> list[_Piece]:
    """Pieces for one level (the file, or a container body spanning ``span``); the
    nodes' units when the caller ``described`` them already (they are not changed)."""
    if described is None:
        units = _units(file, nodes, in_class)
    else:
        units = [_Unit(u.start, u.end, u.desc) for u in described]
    if span is not None and owner is not None:
        # The container's header rows lead its first run; its closer ends the last piece.
        first = units[0].start if units else span[1] + 1
        if first > span[0]:
            units.insert(0, _Unit(span[0], first - 1, Desc("code", owner)))
    pieces: list[_Piece] = []
    run: list[_Unit] = []
    for unit in units:
        if unit.desc.role in ("code", "comment"):
            run.append(unit)
            continue
        if run and all(u.desc.role == "comment" for u in run) and run[-1].end - run[0].start < 3:
            unit.start = run[0].start  # a lone section comment leads the next definition
            run = []
        pieces.extend(_run_pieces(file, run, prefix, run_kind))
        run = []
        if unit.desc.role == "def":
            pieces.extend(_def_pieces(file, unit, prefix))
        else:
            pieces.extend(_container_pieces(file, unit, prefix, run_kind))
    pieces.extend(_run_pieces(file, run, prefix, run_kind))
    if span is not None and pieces and pieces[-1].end < span[1]:
        pieces[-1].end = span[1]
    return _merge_tiny(file, pieces)


def _run_pieces(file: _File, run: list[_Unit], prefix: str, kind: str) -> list[_Piece]:
    """Consecutive non-definition units as one piece, or packed pieces when too long."""
    if not run:
        return []
    start, end = run[0].start, run[-1].end
    names = [_qual(prefix, n) for unit in run for n in unit.desc.names]
    spans = [(start, end)]
    if file.tokens(start, end) > MAX_TOKENS:
        breaks = sorted({unit.start for unit in run})
        counts = file.prefix

        def blank_after() -> list[int]:  # rows after a blank one, when a cut needs them
            return [r + 1 for r in range(start, end) if counts[r + 1] == counts[r]]

        spans = file.pack(start, end, [breaks, blank_after])
    return [_Piece(s, e, kind, _in_span(names, s, e)) for s, e in spans]


def _def_pieces(file: _File, unit: _Unit, prefix: str) -> list[_Piece]:
    """A definition as one piece, or split where its body's statements start."""
    names = [_qual(prefix, n) for n in unit.desc.names]
    if file.tokens(unit.start, unit.end) <= MAX_TOKENS:
        return [_Piece(unit.start, unit.end, "definition", names)]
    body = unit.desc.body
    children = body.named_children if body is not None else []
    shallow = [child.start_point.row for child in children]

    def deep() -> list[int]:
        """Rows of the statements one and two levels down: walked only when the body's
        own statements are too few to cut at, and then only when a cut needs them."""
        rows: list[int] = []
        if len(shallow) * MAX_TOKENS < 2 * file.tokens(unit.start, unit.end):
            for child in children:
                for grandchild in child.named_children:
                    rows.append(grandchild.start_point.row)
                    rows.extend(g.start_point.row for g in grandchild.named_children)
        return sorted(set(rows))

    spans = file.pack(unit.start, unit.end, [sorted(set(shallow)), deep])
    return [_Piece(s, e, "definition", _in_span(names, s, e), mergeable=False) for s, e in spans]


def _container_pieces(file: _File, unit: _Unit, prefix: str, run_kind: str) -> list[_Piece]:
    """A small container as one piece; a large one as a summary plus its body's pieces."""
    desc = unit.desc
    if file.tokens(unit.start, unit.end) <= MAX_TOKENS or desc.body is None:
        if desc.body is None and file.tokens(unit.start, unit.end) > MAX_TOKENS:
            return _def_pieces(file, unit, prefix)
        names = _deep_names(file, unit, prefix)
        defines = desc.summarize or any(n.kind not in _DATA_KINDS for _, n in names)
        return [_Piece(unit.start, unit.end, "definition" if defines else run_kind, names)]
    nodes = members(desc)
    units = _units(file, nodes, desc.summarize)  # once for the body and the summary
    inner = _member_prefix(prefix, desc)
    kind = "definition" if desc.summarize else run_kind
    body_pieces = _level(
        file, nodes, inner, desc.summarize, kind, (unit.start, unit.end), desc.node, units
    )
    if not desc.summarize:
        own = [_qual(prefix, n) for n in desc.names]
        if body_pieces and own:
            body_pieces[0].names = own + body_pieces[0].names
        return body_pieces
    summary = _Piece(
        unit.start,
        unit.end,
        "class_summary",
        [_qual(prefix, n) for n in desc.names],
        mergeable=False,
        text=_summary_text(file, unit, units),
    )
    return [summary, *body_pieces]


def _summary_text(file: _File, unit: _Unit, units: list[_Unit]) -> str:
    """Header lines verbatim, the docstring's first line, one signature per member."""
    desc = unit.desc
    body = desc.body
    assert body is not None
    braces = file.language in BRACES
    # Decorators/annotations are inside the outer node, whose rows the names carry.
    header_start = min([n.start for n in desc.names] + [desc.node.start_point.row])
    body_row = body.start_point.row
    header_end = body_row if braces else max(desc.node.start_point.row, body_row - 1)
    header_end = min(header_end, unit.end)
    lines = [file.lines[r] for r in range(header_start, header_end + 1)]
    if unit.start < header_start:
        # A doc comment above the class: its first line (a block comment closed again).
        first = file.lines[unit.start]
        if first.lstrip().startswith("/*") and "*/" not in first:
            first += " */"
        lines.insert(0, _clip(first))
    budget = SUMMARY_TOKENS - file.tokens(header_start, header_end)
    for index, member in enumerate(units):
        line = _signature(file, member, braces, first=index == 0)
        if line is None:
            continue
        cost = len(_TOKEN.findall(line))
        if cost > budget:
            rest = len(units) - index
            indent = _indent(file.lines[member.start])
            lines.append(f"{indent}{comment_prefix(file.language)}... {rest} more members")
            break
        budget -= cost
        lines.append(line)
    if braces and unit.end > header_end:
        lines.append(file.lines[unit.end])
    return "\n".join(lines)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _signature(file: _File, member: _Unit, braces: bool, first: bool) -> str | None:
    desc = member.desc
    node = desc.node
    indent = _indent(file.lines[node.start_point.row])
    if desc.role == "comment":
        return None
    if desc.role == "code":
        text = text_of(node).strip()
        if not text:
            return None
        if first and not braces and _is_docstring(node):
            return _docstring_line(indent, text)
        head = text.split("\n", 1)[0].rstrip()
        if "\n" in text:
            head += " ..."
        return indent + _clip(head)
    body = desc.body
    if desc.role == "container" and not desc.summarize:
        return None
    if body is None:
        return indent + _clip(_SPACE.sub(" ", text_of(node)).strip())
    stop = body.start_byte
    if not braces:
        # Up to the colon: a trailing comment must not swallow the " ..." marker.
        colons = [c for c in node.children if c.type == ":" and c.end_byte <= stop]
        stop = colons[-1].end_byte if colons else stop
    # Sliced from the file's bytes: ``node.text`` would copy the whole member first.
    sig = file.data[node.start_byte : stop].decode("utf-8", "replace")
    sig = _SPACE.sub(" ", sig).strip()
    suffix = " { ... }" if braces else " ..."
    return indent + _clip(sig) + suffix


def _is_docstring(node: Node) -> bool:
    children = node.named_children
    return (
        node.type == "expression_statement" and len(children) == 1 and children[0].type == "string"
    )


def _docstring_line(indent: str, text: str) -> str:
    """The docstring's first line of content, as a one-line docstring."""
    bare = text.lstrip("rRbBuUfF")
    quote = bare[:3] if bare[:3] in ('"""', "'''") else bare[:1]
    content = bare[len(quote) :]
    if content.endswith(quote):
        content = content[: -len(quote)]
    lines = [line.strip() for line in content.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    return f"{indent}{quote}{_clip(first)}{quote}"


def _clip(text: str) -> str:
    return text if len(text) <= SIGNATURE_CHARS else text[: SIGNATURE_CHARS - 3] + "..."


def _merge_tiny(file: _File, pieces: list[_Piece]) -> list[_Piece]:
    """Merge runs of tiny sibling pieces (never split pieces or summaries)."""
    out: list[_Piece] = []
    for piece in pieces:
        piece.tiny = piece.mergeable and file.tokens(piece.start, piece.end) < TINY_TOKENS
        if out and piece.tiny and out[-1].tiny:
            prev = out[-1]
            if file.tokens(prev.start, piece.end) <= MERGE_TOKENS:
                prev.end = piece.end
                prev.names = prev.names + piece.names
                if piece.kind == "definition":
                    prev.kind = "definition"
                continue
        out.append(piece)
    return out


def _windows(file: _File) -> list[_Piece]:
    """Line windows for text without a grammar: break at blank lines and headings."""
    last = len(file.lines) - 1
    after_blank = [r + 1 for r in range(last) if file.blank(r)]
    headings = [r for r in range(last + 1) if file.lines[r].startswith("#")]
    unindented = [r for r in after_blank if file.lines[r][:1] not in (" ", "\t")]
    spans = file.pack(0, last, [sorted(set(unindented) | set(headings)), after_blank], WINDOW_LINES)
    return [_Piece(s, e, "window") for s, e in spans]


def _trim(file: _File, pieces: list[_Piece]) -> list[_Piece]:
    """Drop blank lines at the pieces' edges, and pieces left empty (a summary keeps its
    span). A row is blank where the token prefix does not grow."""
    prefix = file.prefix
    kept: list[_Piece] = []
    for piece in pieces:
        if piece.kind != "class_summary":
            start, end = piece.start, piece.end
            while start <= end and prefix[start + 1] == prefix[start]:
                start += 1
            while end >= start and prefix[end + 1] == prefix[end]:
                end -= 1
            if start > end:
                continue
            piece.start, piece.end = start, end
        kept.append(piece)
    return kept


def _fill_gaps(file: _File, pieces: list[_Piece]) -> None:
    """Give lines no node claimed (an ``#else``, a stray token) to the next chunk."""
    plain = [p for p in pieces if p.kind != "class_summary"]
    if not plain:
        return
    prefix = file.prefix  # a row is blank where the token prefix does not grow
    row = 0
    for piece in plain:
        while row < piece.start and prefix[row + 1] == prefix[row]:
            row += 1
        if row < piece.start:
            piece.start = row
        row = max(row, piece.end + 1)
    last = len(file.lines) - 1
    while last > plain[-1].end and prefix[last + 1] == prefix[last]:
        last -= 1
    plain[-1].end = max(plain[-1].end, last)


def _syntax_pieces(file: _File, data: bytes) -> tuple[list[_Piece], list[ImportRef]]:
    parser = get_parser(file.language)
    if parser is None:
        if has_grammar(file.language):
            raise _GrammarMissing(f"the {file.language} grammar is not installed")
        return _windows(file), []
    tree = parser.parse(data)
    root = tree.root_node
    pieces = _level(file, root.named_children, "", False, "module")
    imports = extract_imports(file.language, file.path, root)
    return pieces, imports


class _GrammarMissing(RuntimeError):
    """A grammar language whose tree-sitter wheel cannot be loaded."""


def _failure(error: BaseException) -> str:
    """One line saying what failed and where: the user reports it, a developer fixes it."""
    message = str(error).split("\n", 1)[0][:160]
    if isinstance(error, _GrammarMissing):
        return message
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        text += f" ({Path(last.filename).name}:{last.lineno} in {last.name})"
    return text


def _definition_order(definition: SymbolDef) -> tuple[int, str]:
    return definition.start_line, definition.qualified


def parse_file(path: str, text: str, language: str | None = None) -> ParsedFile:
    """Chunks, definitions and imports of one file; never raises (a failure of the syntax
    path gives line windows and sets ``fallback``)."""
    language = language or language_for_path(path) or "text"
    if language == "c" and path.endswith(".h") and looks_cpp(text):
        language = "cpp"  # a C++ header: the C grammar would misread classes and templates
    result = ParsedFile(path=path, language=language)
    if not text or text.isspace():
        return result
    data = text.encode("utf-8", "surrogatepass")
    file = _File(path, language, text, data)
    try:
        pieces, imports = _syntax_pieces(file, data)
    except (Exception, RecursionError) as error:
        pieces, imports = _windows(file), []
        result.fallback = _failure(error)
    kept = _trim(file, pieces)
    _fill_gaps(file, kept)
    lines, chunks, definitions = file.lines, result.chunks, result.definitions
    for piece in kept:
        start, end, names = piece.start, piece.end, piece.names
        chunk_text = piece.text if piece.text is not None else "\n".join(lines[start : end + 1])
        symbols = tuple([q for q, _ in names])
        chunks.append(Chunk(path, start + 1, end + 1, language, chunk_text, symbols, piece.kind))
        for qualified, name in names:
            definitions.append(
                SymbolDef(name.name, qualified, name.kind, name.start + 1, name.end + 1)
            )
    definitions.sort(key=_definition_order)
    result.imports = imports
    return result
