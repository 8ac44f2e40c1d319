"""After the dot: the members of the receiver's type, for the prompt and for the editor.

``members_at_cursor`` is the plain list (completion items, guided decoding);
``member_candidates`` turns it into snippets for the context builder: with a known type,
the class summary (header, docstring's first line, member signatures, the member being
typed first) of the class and of each workspace base declaring members; without one, the
classes of the workspace whose members fit what is typed, ranked by how well the class
fits the receiver's name and the members already used on it.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from indexer.grammars import BRACES
from indexer.grammars.base import Bindings, MemberFact, TypeRules
from indexer.grammars.exprs import parse_chain, receiver_text
from indexer.languages import comment_prefix, get_parser
from indexer.types import ParsedFile
from server.context import source
from server.context.bm25 import code_terms
from server.context.buffer import current_entry
from server.context.cursor import locate
from server.context.definitions import definition_span
from server.context.rank import Candidate
from server.context.receiver import CLASS_KINDS, ClassRef, Inference
from server.context.relevance import name_terms, term_weights
from server.context.typefacts import entry_language, rules_for
from server.context.workspace import FileEntry, Layered, WorkspaceView

TYPED_SCORE = 3.2  # the receiver's class: above every import-driven candidate
BASE_STEP = 0.2  # each base class further away scores this much less
GUESS_SCORE = 1.0  # unknown type: a class fitting the receiver, plus up to GUESS_RANGE
GUESS_RANGE = 1.0
GUESS_CLASSES = 3
MAX_SUMMARY_MEMBERS = 60
_PLACEHOLDER = "tandem__"  # completes `x.` so the buffer parses as an expression


@dataclass(frozen=True, slots=True)
class Member:
    """One member of the receiver's type: what completion lists and decoding may use."""

    name: str
    kind: str  # method | field | property | class
    signature: str
    path: str  # the file declaring it (workspace-relative)
    line: int  # 1-based
    owner: str  # the class declaring it (qualified), a base class for inherited members


@dataclass(slots=True)
class Receiver:
    """The member access at the cursor: the receiver's text, the partial member, and the
    receiver's class when it is known."""

    text: str
    partial: str
    cls: ClassRef | None
    instance: bool  # self/this: private members are fair game
    # The receiver is something else the index knows (a module, a function) or a name
    # imported from outside the workspace: no class is guessed for it.
    other: bool = False


def cursor_scope(
    rules: TypeRules, language: str, text: str, line: int, col: int, start: int = 0
) -> Bindings:
    """The scope at the cursor, from the buffer from row ``start`` (the enclosing top-level
    definition: module-level names come from the file's facts) to the cursor, the member
    access completed by a placeholder (a trailing dot would not parse) and the brackets
    left open closed."""
    parser = get_parser(language)
    if parser is None:
        return Bindings()
    lines = text.split("\n")[start : line + 1]
    if lines:
        before = lines[-1][:col]
        lines[-1] = before + (_PLACEHOLDER if before.rstrip().endswith(".") else "")
    source = "\n".join(lines)
    source += "\n" + closers(source, comment_prefix(language).strip())
    tree = parser.parse(source.encode("utf-8", "surrogatepass"))
    return rules.scope(tree.root_node, line - start)


def _region_start(entry: FileEntry, line: int) -> int:
    """The first row of the top-level definition holding ``line`` (0-based), 0 if none."""
    row1 = line + 1
    starts = [
        d.start_line
        for d in entry.definitions
        if d.qualified == d.name and d.start_line <= row1 <= d.end_line
    ]
    return min(starts) - 1 if starts else 0


_PAIRS = {"(": ")", "[": "]", "{": "}"}
_STRINGS = (
    r'"""[\s\S]*?(?:"""|$)|\'\'\'[\s\S]*?(?:\'\'\'|$)|/\*[\s\S]*?(?:\*/|$)'
    r'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
)
_NOISE: dict[str, re.Pattern[str]] = {}
_BRACKETS = re.compile(r"[()\[\]{}]")


def closers(text: str, comment: str) -> str:
    """The brackets ``text`` leaves open, closed (innermost first): a buffer cut at the
    cursor then parses as the blocks the cursor is in. Strings and line comments
    (``comment``: "#", "//") are skipped; a balanced buffer gets nothing."""
    noise = _NOISE.get(comment)
    if noise is None:
        tail = f"|{re.escape(comment)}[^\n]*" if comment else ""
        noise = _NOISE[comment] = re.compile(_STRINGS + tail)
    stack: list[str] = []
    for ch in _BRACKETS.findall(noise.sub(" ", text)):
        if ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif stack and stack[-1] == ch:
            stack.pop()
    return "".join(reversed(stack))


def receiver_at(inference: Inference, path: str, text: str, line: int, col: int) -> Receiver | None:
    """The receiver before the dot at the cursor and its class (None: no member access)."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    found = receiver_text(lines[line][:col])
    if found is None:
        return None
    receiver, partial = found
    steps = parse_chain(receiver)
    entry = inference.layer.file(path)
    rules = rules_for(entry) if entry is not None else None
    language = entry_language(entry) if entry is not None else None
    if steps is None or rules is None or language is None:
        return Receiver(receiver, partial, None, False, steps is None)
    start = _region_start(entry, line) if entry is not None else 0
    scope = cursor_scope(rules, language, text, line, col, start)
    val = inference.eval_chain(steps, path, scope)
    cls = val.cls if val is not None and val.kind == "class" else inference.instance_class(val)
    is_self = len(steps) == 1 and (steps[0][1] in scope.instance or steps[0][1] in scope.classes)
    imported = any(r.local_name == steps[0][1] for r in inference.layer.imports_of(path))
    other = cls is None and (val is not None or (len(steps) == 1 and imported))
    return Receiver(receiver, partial, cls, is_self, other)


def _layer(view: WorkspaceView, path: str, text: str, overlay: Any) -> Layered:
    current = current_entry(view, path, text, overlay)
    return Layered(view, overlay, current)


def members_at_cursor(
    index: Any,
    path: str,
    text: str,
    line: int,
    col: int,
    overlay: Mapping[str, ParsedFile] | None = None,
) -> list[Member]:
    """The members of the receiver's type at the cursor (0-based ``line``/``col`` of
    ``text``, the buffer of ``path``), those starting with the typed prefix first; [] when
    the cursor is not after a dot or the type is unknown. Private members (``_x``) only on
    ``self``/``this``."""
    from server.context.builder import view_for

    view = view_for(index)
    with view.lock:
        layer = _layer(view, path, text, overlay)
        return members_in(Inference(layer), path, text, line, col)


def members_in(inference: Inference, path: str, text: str, line: int, col: int) -> list[Member]:
    """``members_at_cursor`` over an existing inference (one per request)."""
    receiver = receiver_at(inference, path, text, line, col)
    if receiver is None or receiver.cls is None:
        return []
    pairs = [(o, m) for o, m in inference.members(receiver.cls) if _visible(m, receiver)]
    order = member_order([m for _, m in pairs], receiver, inference.layer.view, text, line, col)
    rank = {id(m): i for i, m in enumerate(order)}
    pairs.sort(key=lambda om: rank[id(om[1])])
    return [Member(m.name, m.kind, _render(m), o.path, m.line, o.name) for o, m in pairs]


def _visible(m: MemberFact, receiver: Receiver) -> bool:
    """Dunder members only when typed; private ones are listed (after the public ones)."""
    if m.name.startswith("__") and m.name.endswith("__"):
        return receiver.partial.startswith("__")
    return m.name != "constructor"  # JavaScript's; never called after a dot


def member_order(
    members: list[MemberFact],
    receiver: Receiver,
    view: WorkspaceView,
    text: str,
    line: int,
    col: int,
) -> list[MemberFact]:
    """Members most likely next first: those completing the typed prefix; public before
    private (unless on self/this); methods before fields; then by how well the name fits
    the lines before the cursor and how often the workspace uses it."""
    weights = term_weights(locate(text, line, col))
    bm25 = view.bm25
    top = math.log1p(max(1, len(bm25)))

    def score(m: MemberFact) -> float:
        value = 0.0
        if receiver.partial and m.name.startswith(receiver.partial):
            value += 100.0
        if not m.name.startswith("_") or receiver.instance:
            value += 10.0
        if m.kind in ("method", "property"):
            value += 1.0
        parts = name_terms(m.name)
        if parts:
            value += sum(weights.get(p, 0.0) for p in parts) / len(parts)
        value += math.log1p(bm25.df(m.name.lower())) / top
        return value

    return sorted(members, key=score, reverse=True)


def _render(m: MemberFact) -> str:
    """A member's one-line signature; a field shows its declared type when it has one."""
    if m.kind == "field":
        typed = next((v.type_text for v in m.values if v.type_text), "")
        if typed and not m.signature.lstrip().startswith(m.name):
            return f"{m.name}: {typed}"
    return m.signature


# --- snippets for the context builder -------------------------------------------------


def member_candidates(
    inference: Inference, path: str, text: str, line: int, col: int
) -> list[Candidate]:
    """Snippets for a cursor after ``receiver.``: see the module docstring."""
    receiver = receiver_at(inference, path, text, line, col)
    if receiver is None:
        return []
    if receiver.cls is not None:
        return _typed_candidates(inference, receiver, text, line, col)
    if receiver.other:
        return []
    return _guessed_candidates(inference, receiver, text, line, col)


def _typed_candidates(
    inference: Inference, receiver: Receiver, text: str, line: int, col: int
) -> list[Candidate]:
    assert receiver.cls is not None
    out: list[Candidate] = []
    partial = receiver.partial
    what = f"`{receiver.text}` is a `{receiver.cls.name}`"
    for depth, cls in enumerate(inference.mro(receiver.cls)):
        own = [m for m in inference.own_members(cls) if _visible(m, receiver)]
        if not own:
            continue
        own = member_order(own, receiver, inference.layer.view, text, line, col)
        score = TYPED_SCORE - BASE_STEP * depth
        if partial and any(m.name.startswith(partial) for m in own):
            score += BASE_STEP  # the class declaring the member being typed
        how = "its class" if depth == 0 else f"its base `{cls.name}`"
        exact = [m for m in own if partial and m.name.startswith(partial)]
        # The one member the prefix names is shown whole, the others by their signature.
        body = _member_text(inference, cls, exact[0]) if len(exact) == 1 else None
        expand = {exact[0].name: body} if body else {}
        summary = class_summary(inference, cls, own, expand)
        if summary is not None:
            why = f"{what}: {how}"
            span = (cls.start_line, cls.end_line)
            out.append(Candidate(cls.path, *span, summary, score, "member", why))
    return out


def _member_text(inference: Inference, cls: ClassRef, m: MemberFact) -> str | None:
    """A member's definition as its file has it (cut like any definition snippet)."""
    entry = inference.layer.file(cls.path)
    if entry is None:
        return None
    for d in entry.definitions:
        if d.qualified == f"{cls.name}.{m.name}":
            span = definition_span(entry, d)
            return span[2] if span is not None and "\n" in span[2] else None
    return None


def class_summary(
    inference: Inference,
    cls: ClassRef,
    members: list[MemberFact],
    expand: dict[str, str] | None = None,
) -> str | None:
    """The class's header line, its docstring's first line and one signature per member in
    the given order (``expand``: members shown by their whole definition instead), as the
    prompt shows a class."""
    fact = inference.class_fact(cls)
    entry = inference.layer.file(cls.path)
    language = entry_language(entry) if entry is not None else None
    if fact is None or language is None or not fact.header:
        return None
    comment = comment_prefix(language)
    lines = [fact.header]
    braces = language in BRACES
    if fact.doc:
        lines.append(f"    {comment}{fact.doc}")
    ordered = members  # already in the order to show
    for m in ordered[:MAX_SUMMARY_MEMBERS]:
        if expand and m.name in expand:
            lines.append(expand[m.name])
            continue
        body = " ..." if m.kind in ("method", "property") and not braces else ""
        lines.append(f"    {_render(m)}{body}")
    if len(ordered) > MAX_SUMMARY_MEMBERS:
        lines.append(f"    {comment}... {len(ordered) - MAX_SUMMARY_MEMBERS} more members")
    if braces:
        lines.append("}")
    return "\n".join(lines)


def _guessed_candidates(
    inference: Inference, receiver: Receiver, text: str, line: int, col: int
) -> list[Candidate]:
    """Unknown type: classes declaring members that start with what is typed, ranked by
    how well their name fits the receiver's and how many members already used on this
    receiver they declare."""
    layer = inference.layer
    classes = class_terms(layer.view)
    names = re.findall(r"[A-Za-z_$][\w$]*", receiver.text)
    last = names[-1] if names else ""
    terms = set(code_terms(last))
    used = set(re.findall(re.escape(receiver.text) + r"\s*\.\s*([A-Za-z_$][\w$]*)", text))
    used.discard(receiver.partial)
    scores: dict[tuple[str, str], float] = {}
    for term in terms:
        for key in classes.get(term, ()):
            scores[key] = scores.get(key, 0.0) + 1.0 / len(terms)
    for key in list(scores):
        if key[1].rsplit(".", 1)[-1].lower() == last.lower().lstrip("_"):
            scores[key] += 1.0
    for name in used:
        owners = {
            (p, d.qualified.rsplit(".", 1)[0])
            for p, d in layer.definitions(name)
            if "." in d.qualified and d.kind == "method"
        }
        for key in owners:
            scores[key] = scores.get(key, 0.0) + 1.0 / len(owners)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    out: list[Candidate] = []
    top = ranked[0][1] if ranked else 1.0
    for (cpath, qualified), fit in ranked:
        if len(out) >= GUESS_CLASSES:
            break
        cls = inference.class_named(cpath, qualified)
        if cls is None:
            continue
        own = [m for m in inference.own_members(cls) if _visible(m, receiver)]
        if receiver.partial:
            own = [m for m in own if m.name.startswith(receiver.partial)] or []
        own = member_order(own, receiver, layer.view, text, line, col)
        if not own or not any(m.kind in ("method", "property") for m in own):
            continue
        summary = class_summary(inference, cls, own)
        if summary is None:
            continue
        score = GUESS_SCORE + GUESS_RANGE * fit / top
        why = f"type of `{receiver.text}` unknown; `{cls.name}` fits its name and use"
        out.append(Candidate(cls.path, cls.start_line, cls.end_line, summary, score, "member", why))
    return out


_terms: weakref.WeakKeyDictionary[WorkspaceView, tuple[Any, dict[str, list[tuple[str, str]]]]]
_terms = weakref.WeakKeyDictionary()
_terms_lock = threading.Lock()


def class_terms(view: WorkspaceView) -> dict[str, list[tuple[str, str]]]:
    """Lower-cased word → the workspace classes whose name holds it (path, qualified);
    built once per view version."""
    with _terms_lock:
        hit = _terms.get(view)
        if hit is not None and view.version is not None and source.same(hit[0], view.version):
            return hit[1]
    out: dict[str, list[tuple[str, str]]] = {}
    for name, rows in view.by_name.items():
        for p, d in rows:
            if d.kind in CLASS_KINDS:
                for term in set(code_terms(name)):
                    out.setdefault(term, []).append((p, d.qualified))
    with _terms_lock:
        _terms[view] = (view.version, out)
    return out
