"""How well a definition fits the cursor, to order definitions found by the same kind of
evidence (say, the twelve names a file imports and has not used yet).

Five cheap signals, each in [0, 1]: code elsewhere that resembles the lines before the
cursor uses the name (similar code calls similar things: a table of ``sin``/``cos`` values
goes on with ``pi``); in that code the name follows the same tokens as the cursor's
(``func(c *`` goes on with ``Context``: what tells a Go or C file's next package name, with
no import to announce it); the name shares words with those lines (``_null_highlighter = ``
before ``NullHighlighter``); the definition's own code is lexically close to them (BM25);
and the workspace imports the name often."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from indexer.scope import Resolver
from server.context.bm25 import code_terms
from server.context.cursor import Cursor
from server.context.definitions import Relevance, definition_span
from server.context.exceptions import ExceptionClasses, class_slot, exception_slot, is_class
from server.context.fieldtypes import (
    asserted_error,
    error_types,
    field_types,
    implementers,
    switched_error_types,
    target_field,
)
from server.context.predicates import is_predicate, truth_slot
from server.context.typefacts import facts_of
from server.context.workspace import Layered

USAGE, NAME, LEXICAL, POPULAR = 0.4, 0.3, 0.2, 0.1
FOLLOW = 0.8
TARGET = 0.5  # the name being assigned, declared or compared on the cursor's line
TYPE_FIT = 0.5  # a name that is, or gives, the type of the parameter the cursor fills
ARITY_FIT = 0.5  # a function returning as many results as the line assigns (``a, err := ‸``)
LINES = 10
DECAY = 0.85
NEIGHBOURS = 40  # similar chunks whose identifiers vote for names
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def term_weights(cursor: Cursor, n_lines: int = LINES) -> dict[str, float]:
    """Lower-cased words and sub-words of the last non-empty lines, 1.0 on the cursor line
    and decaying upwards."""
    weights: dict[str, float] = {}
    seen = 0
    for text in reversed(cursor.prefix_lines):
        if not text.strip():
            continue
        w = DECAY**seen
        for term in code_terms(text):
            if weights.get(term, 0.0) < w:
                weights[term] = w
        seen += 1
        if seen >= n_lines:
            break
    return weights


@lru_cache(maxsize=1 << 16)
def name_terms(name: str) -> tuple[str, ...]:
    """A name's sub-words without its first (``cJSON_AddItem`` → add, item): the prefix a
    whole API shares says nothing about which of its names comes next. Cached: hundreds of
    in-scope names are scored at every cursor."""
    terms = code_terms(name)
    return tuple(terms[1:] if len(terms) > 1 else terms)


def usage_votes(layer: Layered, path: str, lexical: np.ndarray) -> dict[str, float]:
    """Identifiers of the chunks most similar to the query window (other files only, so
    the cursor's own file cannot leak what comes next), weighted by similarity and
    normalised to [0, 1]."""
    return _chunk_votes(layer, path, lexical, NEIGHBOURS)


def _chunk_votes(layer: Layered, path: str, scores: np.ndarray, k: int) -> dict[str, float]:
    """The identifiers of the ``k`` best chunks by ``scores`` in other files (the cursor's
    own file and open buffers left out), each weighted by its chunk's score, normalised
    to [0, 1]."""
    view = layer.view
    votes: dict[str, float] = {}
    total = 0.0
    for (p, i), score in view.bm25.top_of(scores, k):
        if p == path or p in layer.overlay:
            continue
        total += score
        for name in _identifiers(view.files[p].chunks[i].text):
            votes[name] = votes.get(name, 0.0) + score
    if total > 0:
        for name in votes:
            votes[name] /= total
    return votes


# What the cursor's value goes into, on its line: ``x = ``, ``x := ``, ``key: ``, ``a.b == ``,
# a declared ``name `` (a Go field or variable, a parameter), behind ``&``, ``*``, ``(``,
# ``[]`` or a qualifier (``pkg.``).
_TARGET = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*)\s*(?::=|[!=]=|=|:|\s)\s*[&*(\[\]\s]*(?:[A-Za-z_]\w*\s*\.\s*)?$"
)
_NOT_TARGETS = frozenset(
    """
    return if else for while case switch go defer yield await new var let const not
    and or in is range func def fn
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


def _stem(term: str) -> str:
    return term[:-1] if len(term) > 3 and term.endswith("s") else term


def target_terms(cursor: Cursor) -> frozenset[str]:
    """The sub-words (3 letters or more, a plural's ``s`` dropped) of what the name at the
    cursor is assigned to, declared as or compared with on its line: ``categories `` →
    ``CommandCategories``, ``c.Params = `` → ``Params{``, ``x.Name == `` → ``helpName``."""
    line = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    line = line[: len(line) - len(cursor.partial)]
    m = _TARGET.search(line)
    if m is None or m.group(1) in _NOT_TARGETS:
        return frozenset()
    return frozenset(_stem(t) for t in name_terms(m.group(1)) if len(t) >= 3)


_CALLEE = re.compile(r"(?:([A-Za-z_]\w*)\s*\.\s*)?([A-Za-z_]\w*)\s*$")
_CALLABLE_KINDS = frozenset({"function", "method"})
_SELF_PARAMETERS = frozenset({"self", "cls", "&self", "&mut self", "mut self"})


def open_call(line: str) -> tuple[str | None, str, int] | None:
    """(qualifier, callee, argument index) when ``line`` ends inside a call's argument
    list on that line: ``f(a, `` → (None, "f", 1), ``pkg.f(`` → ("pkg", "f", 0)."""
    depth = commas = 0
    for i in range(len(line) - 1, -1, -1):
        ch = line[i]
        if ch in ")]}":
            depth += 1
        elif ch in "[{":
            if depth == 0:
                return None  # a literal's element or an index, not an argument
            depth -= 1
        elif ch == "(":
            if depth == 0:
                m = _CALLEE.search(line, 0, i)
                return (m.group(1), m.group(2), commas) if m else None
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        elif ch in "\"'`":
            return None  # inside or after a string: too rough to count commas
    return None


CALL_LINES = 8  # an argument list may open this many lines above the cursor
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|`[^`]*`|\'(?:\\.|[^\'\\\n])*\'')


def call_at(cursor: Cursor) -> tuple[str | None, str, int] | None:
    """``open_call`` over the last lines before the cursor, string literals emptied: an
    argument list often spans lines (``kong.Parse(&cli,`` then ``kong.Name("x"),``)."""
    lines = cursor.prefix_lines[-CALL_LINES:]
    if not lines:
        return None
    last = lines[-1][: len(lines[-1]) - len(cursor.partial)]
    text = "\n".join([*lines[:-1], last])
    return open_call(_STRING.sub("0", text))


@dataclass(frozen=True, slots=True)
class Parameter:
    """The declared parameter an argument at the cursor fills: its text (``typ
    ErrorType``), and the names in it that the workspace defines as types, resolved from
    the callee's file (``ErrorType``)."""

    text: str
    types: frozenset[str]


TYPE_KINDS = frozenset({"struct", "interface", "type", "class", "enum"})


def parameter_at(layer: Layered, path: str, cursor: Cursor) -> Parameter | None:
    """The parameter the argument at the cursor fills, when the callee is a function of
    the workspace in scope here (``ErrorLoggerT(`` with ``func ErrorLoggerT(typ
    ErrorType)``)."""
    call = call_at(cursor)
    if call is None:
        return None
    qualifier, callee, index = call
    resolver = Resolver(layer)
    for meaning in resolver.lookup(path, callee, qualifier):
        d = meaning.definition
        entry = layer.file(meaning.path)
        if d is None or d.kind not in _CALLABLE_KINDS or entry is None:
            continue
        span = definition_span(entry, d)
        params = _parameters(span[2], callee) if span is not None else []
        if params and params[0].strip() in _SELF_PARAMETERS:
            params = params[1:]  # a Python method's receiver is not passed in the list
        if not params:
            return None
        text = params[min(index, len(params) - 1)]
        types = frozenset(
            w
            for w in set(_IDENT.findall(text))
            if any(
                m.definition is not None and m.definition.kind in TYPE_KINDS
                for m in resolver.lookup(meaning.path, w)
            )
        )
        return Parameter(text, types)
    return None


_RETURN = re.compile(r"^\s*return\b(.*)$")


def result_at(layer: Layered, path: str, cursor: Cursor) -> Parameter | None:
    """``return ‸`` (or ``return x, ‸``): the result of the enclosing function that the
    value at the cursor fills, read from the function's header as declared (``func (p
    *DataPacket) Type() PacketType`` → ``PacketType``), with the names in it that the
    workspace defines as types. The cursor's own file gives the enclosing function (its
    header is above the cursor)."""
    line = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    m = _RETURN.match(line[: len(line) - len(cursor.partial)])
    if m is None:
        return None
    rest = _STRING.sub("0", m.group(1))
    index = _top_level_commas(rest)
    if index is None:
        return None  # inside a call or literal of the returned expression
    entry = layer.file(path)
    if entry is None:
        return None
    row = cursor.line + 1
    enclosing = [
        d
        for d in entry.definitions
        if d.kind in _CALLABLE_KINDS and d.start_line < row <= d.end_line
    ]
    if not enclosing:
        return None
    d = max(enclosing, key=lambda x: x.start_line)
    span = definition_span(entry, d)
    results = _results(span[2], d.name) if span is not None else []
    if not results:
        return None
    text = results[min(index, len(results) - 1)]
    resolver = Resolver(layer)
    types = frozenset(
        w
        for w in set(_IDENT.findall(text))
        if any(
            x.definition is not None and x.definition.kind in TYPE_KINDS
            for x in resolver.lookup(path, w)
        )
    )
    if types:  # the names of that type: its words would only favour the shortest ones
        return Parameter("", types)
    # Otherwise what the result's words say (``uint16`` → ``safeUint16``), unless it is a
    # word every function returns (``bool``, ``error``).
    words = [w for w in _IDENT.findall(text) if w.lower() not in _GENERIC_RESULTS]
    return Parameter(" ".join(words), types) if words else None


_GENERIC_RESULTS = frozenset(
    "bool boolean error err string str any interface object void none byte rune int".split()  # noqa: SIM905
)


# ``a, err := ‸`` / ``x.y, err = ‸``: several targets take one call's several results.
_MULTI_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z_][\w.]*\s*,\s*)+[A-Za-z_][\w.]*)\s*:?=\s*(?:[A-Za-z_]\w*\s*\.\s*)?$"
)


def results_wanted(cursor: Cursor) -> int:
    """How many results the call at the cursor must return, when its line assigns them
    to several targets (``tag, err := ‸`` → 2); 0 when the line does not say (or says
    ``v, ok :=``, which a map index or a type assertion fills as well)."""
    line = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    m = _MULTI_ASSIGN.match(line[: len(line) - len(cursor.partial)])
    if m is None:
        return 0
    targets = [t.strip() for t in m.group(1).split(",")]
    return 0 if targets[-1] == "ok" else len(targets)


def arity_of(layer: Layered, name: str, def_path: str) -> int | None:
    """How many results the function ``name`` of ``def_path`` returns, if its file says."""
    entry = layer.file(def_path)
    facts = facts_of(entry) if entry is not None else None
    return facts.arity.get(name) if facts is not None else None


def _top_level_commas(text: str) -> int | None:
    """How many commas ``text`` holds outside brackets; None when a bracket is left open."""
    depth = commas = 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
    return commas if depth == 0 else None


_RESULT_END = re.compile(r"\{|=>|\bwhere\b|:[ \t]*(?:#[^\n]*)?(?:\n|$)")


def _results(text: str, name: str) -> list[str]:
    """The declared results of ``name`` in its definition's text, one string each: what
    follows the parameter list up to the body (``(T, error)``, ``-> T``, ``: T``)."""
    m = re.search(rf"\b{re.escape(name)}\s*(?:<[^>]*>|\[[^\]]*\])?\s*\(", text)
    if m is None:
        return []
    depth = 0
    for i in range(m.end(), min(len(text), m.end() + 2000)):
        ch = text[i]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                tail = text[i + 1 : i + 400]
                end = _RESULT_END.search(tail)
                head = tail[: end.start()] if end is not None else tail.split("\n", 1)[0]
                head = head.strip().removeprefix("->").removeprefix(":").strip()
                if head.startswith("(") and head.endswith(")"):
                    head = head[1:-1]
                parts = _split_top(head)
                return [p.strip() for p in parts if p.strip()]
            depth -= 1
    return []


def _split_top(text: str) -> list[str]:
    """``text`` split at its commas outside brackets."""
    out: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def parameter_terms(layer: Layered, path: str, cursor: Cursor) -> frozenset[str]:
    """The sub-words of the parameter (its name and type as declared) that the argument at
    the cursor fills: ``ErrorLoggerT(`` with ``func ErrorLoggerT(typ ErrorType)`` →
    {typ, error, type}."""
    param = parameter_at(layer, path, cursor)
    return _parameter_terms(param) if param is not None else frozenset()


def _parameter_terms(param: Parameter) -> frozenset[str]:
    words = _IDENT.findall(param.text)
    terms = {_stem(t) for w in words for t in name_terms(w) if len(t) >= 3}
    return frozenset(terms - _NOT_TARGETS)


def declared_type(layer: Layered, name: str, def_path: str) -> frozenset[str]:
    """The names in what ``name``'s file says it is: a function's result type, a
    variable's or constant's declared type (``func Name(s string) Option`` → {Option})."""
    entry = layer.file(def_path)
    facts = facts_of(entry) if entry is not None else None
    if facts is None:
        return frozenset()
    text = facts.returns.get(name)
    if text is None:
        value = facts.names.get(name)
        text = value.type_text if value is not None else ""
        if not text and value is not None:  # ``T(iota)``, ``&T{…}``, ``pkg.T{…}``: T
            m = _HEAD.match(value.expr_text)
            text = m.group(1) if m is not None else ""
    return frozenset(_IDENT.findall(text)) if text else frozenset()


# The type an expression makes, when it says so: a conversion or a composite literal.
_HEAD = re.compile(r"[&*]?(?:[A-Za-z_]\w*\.)?([A-Za-z_]\w*)\s*[({]")


def _parameters(text: str, name: str) -> list[str]:
    """The declared parameters of ``name`` in its definition's text, one string each."""
    m = re.search(rf"\b{re.escape(name)}\s*(?:<[^>]*>|\[[^\]]*\])?\s*\(", text)
    if m is None:
        return []
    out: list[str] = []
    depth, start = 0, m.end()
    for i in range(m.end(), min(len(text), m.end() + 2000)):
        ch = text[i]
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            if depth == 0:
                out.append(text[start:i])
                return [p for p in out if p.strip()]
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    return []


def target_match(targets: frozenset[str], name: str) -> float:
    """How far ``name`` says what ``targets`` say: the share of ``targets`` among its
    sub-words, halved for the share of its sub-words that the target does not have
    (``value`` → ``Value`` 1, ``ValueCreator`` 0.75)."""
    if not targets:
        return 0.0
    parts = _stemmed_parts(name)
    shared = sum(1 for t in targets if t in parts)
    return (shared / len(targets)) * (1 + shared / len(parts)) / 2


@lru_cache(maxsize=1 << 16)
def _stemmed_parts(name: str) -> frozenset[str]:
    """``name``'s sub-words without its first, plurals' ``s`` dropped; cached: every
    in-scope name is matched at every cursor whose line says what it goes into."""
    terms = code_terms(name)
    return frozenset(_stem(t) for t in (terms[1:] if len(terms) > 1 else terms))


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[^\sA-Za-z0-9_]")
TAIL_TOKENS = 3
CONTINUATION_CHUNKS = 200


def _tail_pattern(line: str, n: int) -> re.Pattern[str] | None:
    """The last ``n`` tokens before the cursor, as a pattern capturing the identifier that
    follows them; None when the line holds fewer tokens or only punctuation."""
    tokens = _TOKEN.findall(line)[-n:]
    if len(tokens) < n or not any(t[0].isalpha() or t[0] == "_" for t in tokens):
        return None
    parts = [rf"\b{t}\b" if t[0].isalpha() or t[0] == "_" else re.escape(t) for t in tokens]
    return re.compile(r"\s*".join(parts) + r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def continuation_votes(
    layer: Layered, path: str, cursor: Cursor, lexical: np.ndarray
) -> dict[str, float]:
    """Identifiers that follow the same tokens as the cursor's (``func(c *`` → ``Context``)
    in the code most similar to the lines before it (other files only), weighted by
    similarity and normalised to [0, 1]: the longest tail that occurs at all."""
    line = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    if not _IDENT.search(line):  # a statement's start: the line above leads to it
        above = [t for t in cursor.prefix_lines[:-1] if t.strip()]
        line = f"{above[-1]}\n{line}" if above else line
    view = layer.view
    top = [
        (p, i, s)
        for (p, i), s in view.bm25.top_of(lexical, CONTINUATION_CHUNKS)
        if p != path and p not in layer.overlay
    ]
    for n in range(TAIL_TOKENS, 0, -1):
        pattern = _tail_pattern(line, n)
        if pattern is None:
            continue
        votes: dict[str, float] = {}
        for p, i, score in top:
            for m in pattern.finditer(view.files[p].chunks[i].text):
                votes[m.group(1)] = votes.get(m.group(1), 0.0) + score
        if votes:
            best = max(votes.values())
            return {k: v / best for k, v in votes.items()}
    return {}


ANCHORS = 3  # the rarest names of the line above (and the cursor's) whose successors vote
ANCHOR_DF = 60  # a name in more chunks than this says little about what follows it


def sequence_votes(layer: Layered, path: str, cursor: Cursor) -> dict[str, float]:
    """Names that come right after the names of the line above the cursor in the rest of
    the workspace (on the rest of their line or the next): ``kong.Description(…),`` goes
    on with ``kong.UsageOnError()`` where other code does. The rarest names of that line
    (and of the cursor's line so far) lead, since a rare name's successors are few;
    normalised to [0, 1]."""
    lines = [t for t in cursor.prefix_lines[:-1] if t.strip()][-1:]
    current = cursor.prefix_lines[-1] if cursor.prefix_lines else ""
    current = current[: len(current) - len(cursor.partial)]
    names = {w for t in [*lines, current] for w in _IDENT.findall(t) if len(w) > 2}
    view = layer.view
    bm25 = view.bm25
    dfs = sorted((bm25.df(w.lower()), w) for w in names)
    anchors = [w for df, w in dfs if 1 < df <= ANCHOR_DF][:ANCHORS]
    votes: dict[str, float] = {}
    for anchor in anchors:
        pattern = re.compile(rf"\b{re.escape(anchor)}\b[^\n]*\n?[^\n]*")
        for p, i in bm25.holders(anchor.lower()):
            if p == path or p in layer.overlay:
                continue
            text = view.files[p].chunks[i].text
            for m in pattern.finditer(text):
                for w in set(_IDENT.findall(m.group(0)[len(anchor) :])):
                    votes[w] = votes.get(w, 0.0) + 1.0
    best = max(votes.values(), default=0.0)
    return {k: v / best for k, v in votes.items()} if best else {}


def _identifiers(text: str) -> frozenset[str]:
    hit = _ident_cache.get(text)
    if hit is None:
        hit = frozenset(_IDENT.findall(text))
        _ident_cache[text] = hit
        if len(_ident_cache) > 8192:
            _ident_cache.pop(next(iter(_ident_cache)), None)
    return hit


_ident_cache: dict[str, frozenset[str]] = {}


CO_LINES = 40  # the lines above the cursor whose names ask what is used with them
CO_CHUNKS = 40
CO_MAX_DF = 0.05  # names in more chunks than this say nothing about what goes with them
CO_MIN_DF = 8  # (a small workspace's names are each in a larger share of its chunks)


def co_usage_votes(layer: Layered, path: str, cursor: Cursor) -> dict[str, float]:
    """Identifiers of the chunks (other files) that use the names of the last lines
    above the cursor, weighted by BM25 over those whole names (not their sub-words) and
    normalised to [0, 1]: what is used together with what this code has used so far
    (``cJSON_CreateObject`` … ``cJSON_AddItemToObject``, ``json_object_iter`` …
    ``json_object_iter_next``)."""
    names = {n.lower() for t in cursor.prefix_lines[-CO_LINES:] for n in _IDENT.findall(t)}
    bm25 = layer.view.bm25
    limit = max(CO_MAX_DF * len(bm25), CO_MIN_DF)
    scores = bm25.score_vector(sorted(n for n in names if bm25.df(n) <= limit))
    return _chunk_votes(layer, path, scores, CO_CHUNKS)


def make_relevance(layer: Layered, cursor: Cursor, lexical: np.ndarray, path: str) -> Relevance:
    """A relevance function over the view, given the BM25 scores of the query window (one
    per slot of the view's BM25)."""
    weights = term_weights(cursor)
    targets = target_terms(cursor)
    param = parameter_at(layer, path, cursor) if not targets else None
    if param is None and not targets:
        param = result_at(layer, path, cursor)
    if param is not None:
        targets = _parameter_terms(param)
    wanted = param.types if param is not None else frozenset()
    field = target_field(cursor)
    if field is not None:  # ``node.Type == ‸``: the constants of the field's type
        wanted = wanted | field_types(layer, path, field)
    if wanted:  # an interface is also filled by the types that implement it
        wanted = wanted | implementers(layer, path, wanted)
    if asserted_error(cursor):  # ``err.(‸``: the types an error may hold
        wanted = wanted | error_types(layer, path)
    wanted = wanted | switched_error_types(layer, path, cursor)
    results = results_wanted(cursor)
    top_lexical = (float(lexical.max()) if len(lexical) else 0.0) or 1.0
    bm25 = layer.view.bm25
    votes = usage_votes(layer, path, lexical)
    follows = continuation_votes(layer, path, cursor, lexical)
    after: dict[str, float] | None = None  # computed when first asked for
    counts = layer.view.imported_names
    top_count = math.log1p(max(counts.values(), default=0)) or 1.0
    co: dict[str, float] | None = None  # computed on first use: only headers' names ask
    raised = ExceptionClasses(layer) if exception_slot(path, cursor) else None
    classes = class_slot(path, cursor)
    truth = truth_slot(path, cursor)

    def relevance(
        name: str,
        def_path: str,
        chunk: int,
        local: str | None = None,
        usage: float = USAGE,
        sequence: float = 0.0,
        together: float = 0.0,
    ) -> float:
        nonlocal after, co
        parts = name_terms(name)
        match = sum(weights.get(p, 0.0) for p in parts) / len(parts) if parts else 0.0
        slot = None if chunk < 0 or def_path in layer.overlay else bm25.slot((def_path, chunk))
        lex = float(lexical[slot]) / top_lexical if slot is not None else 0.0
        popular = math.log1p(max(0, counts.get(name, 0))) / top_count
        used = max(votes.get(name, 0.0), votes.get(local, 0.0) if local else 0.0)
        if together:
            if co is None:
                co = co_usage_votes(layer, path, cursor)
            used += together * co.get(name, 0.0)
        follow = follows.get(name, 0.0)
        aim = target_match(targets, name)
        if wanted and (name in wanted or wanted & declared_type(layer, name, def_path)):
            aim += TYPE_FIT / TARGET  # it is, or gives, what the parameter takes
        if results and arity_of(layer, name, def_path) == results:
            aim += ARITY_FIT / TARGET  # it returns as many results as the line assigns
        if raised is not None and raised(name, def_path):
            aim += TYPE_FIT / TARGET  # ``raise ‸``, ``except ‸``: an exception class
        if classes and is_class(layer, name, def_path):
            aim += TYPE_FIT / TARGET  # ``class T(‸``, ``isinstance(x, ‸``: a class
        if truth and is_predicate(layer, name, def_path):
            aim += TYPE_FIT / TARGET  # ``if ‸``, ``and not ‸``: a function returning bool
        score = (
            usage * used
            + NAME * match
            + LEXICAL * lex
            + POPULAR * popular
            + FOLLOW * follow
            + TARGET * aim
        )
        if sequence:
            if after is None:
                after = sequence_votes(layer, path, cursor)
            score += sequence * after.get(name, 0.0)
        return score

    return relevance
