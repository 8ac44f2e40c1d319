"""Go: functions, methods (qualified by receiver), types, const/var; package imports as
folder candidates."""

from __future__ import annotations

import posixpath
import re

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Bindings,
    ClassFact,
    Desc,
    FileFacts,
    MemberFact,
    Name,
    Scope,
    TypeRules,
    TypeSyntax,
    Value,
    anchored,
    child_field,
    first_doc_line,
    make_name,
    path_to_row,
    rows,
    string_value,
    text_of,
    word_set,
)
from indexer.types import ImportRef

# --- definitions ---------------------------------------------------------------------


def _go_receiver(node: Node) -> str:
    """The receiver's type name: ``func (s *Stack[T]) Push`` -> ``Stack``."""
    receiver = child_field(node, "receiver")
    if receiver is None:
        return ""
    for param in receiver.named_children:
        kind = child_field(param, "type")
        while kind is not None and kind.type in ("pointer_type", "generic_type"):
            if kind.type == "pointer_type":
                kind = kind.named_children[0] if kind.named_children else None
            else:
                kind = child_field(kind, "type")
        if kind is not None:
            return text_of(kind).split("[", 1)[0]
    return ""


# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"comment"})


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind in COMMENTS:
        return Desc("comment", node)
    if kind == "function_declaration":
        name = text_of(child_field(node, "name"))
        return Desc(
            "def", node, [make_name(node, name, "function")], body=child_field(node, "body")
        )
    if kind == "method_declaration":
        name = text_of(child_field(node, "name"))
        scope = _go_receiver(node)
        method = make_name(node, name, "method", scope=scope)
        return Desc("def", node, [method], body=child_field(node, "body"))
    names: list[Name] = []
    if kind == "type_declaration":
        type_specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
        for spec in type_specs:
            type_node = child_field(spec, "type")
            tkind = {"struct_type": "struct", "interface_type": "interface"}.get(
                type_node.type if type_node is not None else "", "type"
            )
            names.append(make_name(spec, text_of(child_field(spec, "name")), tkind))
        if len(type_specs) == 1 and names[0].kind != "type":
            type_node = child_field(type_specs[0], "type")
            body = type_node.named_children[-1] if type_node and type_node.named_children else None
            if names[0].kind == "interface":
                body = type_node
            names[0] = make_name(node, names[0].name, names[0].kind)
            return Desc("container", node, names, body=body, prefix=names[0].name)
    elif kind in ("const_declaration", "var_declaration") and not in_class:
        specs: list[Node] = []
        for child in node.named_children:
            if child.type in ("const_spec", "var_spec"):
                specs.append(child)
            elif child.type == "var_spec_list":
                specs.extend(c for c in child.named_children if c.type == "var_spec")
        for spec in specs:
            for ident in spec.children_by_field_name("name"):
                if not ident.is_named:
                    continue
                name = text_of(ident)
                vkind = "const" if kind == "const_declaration" else "variable"
                if name != "_":
                    names.append(make_name(spec, name, vkind))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor((b"import",), frozenset({"import_declaration"}))


_GO_VERSION = re.compile(r"v\d+")


def _go_candidates(spec: str) -> tuple[str, ...]:
    parts = [p for p in spec.split("/") if p]
    if not parts:
        return ()
    if "." not in parts[0] and len(parts) == 1:
        return ()  # the standard library ("fmt")
    stdlib_like = "." not in parts[0]
    lowest = 2 if stdlib_like else 1
    return tuple("/".join(parts[i:]) + "/" for i in range(len(parts) - lowest + 1))


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    specs: list[Node] = []
    for declaration in anchored(root, ANCHOR):
        for child in declaration.named_children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.named_children if c.type == "import_spec")
    for spec_node in specs:
        spec = string_value(spec_node.child_by_field_name("path"))
        alias_node = spec_node.child_by_field_name("name")
        parts = [p for p in spec.split("/") if p]
        if len(parts) > 1 and _GO_VERSION.fullmatch(parts[-1]):
            parts = parts[:-1]
        local = text_of(alias_node) if alias_node is not None else (parts[-1] if parts else "")
        if local == ".":
            local = "*"
        line = spec_node.start_point.row + 1
        refs.append(ImportRef(local, spec, None, line, _go_candidates(spec)))
    return refs


# --- scope ---------------------------------------------------------------------------

_MODULE_LINE = re.compile(r"(?m)^\s*module\s+\"?([^\s\"]+)")


def _package(path: str, siblings: list[str]) -> list[str]:
    """A package is a folder: its other .go files (test files only for a test file, which
    may belong to the package as well)."""
    test = path.endswith("_test.go")
    return [
        p
        for p in siblings
        if p != path and p.endswith(".go") and (test or not p.endswith("_test.go"))
    ]


def _module_folders(spec: str, importer: str, configs: dict[str, str]) -> tuple[str, ...]:
    """The folder an import spec names inside a module of the workspace: the spec minus a
    go.mod's module path, under that go.mod's folder (the nearest go.mod first)."""
    found: list[tuple[int, str]] = []
    for gomod, text in configs.items():
        match = _MODULE_LINE.search(text)
        if match is None:
            continue
        module = match.group(1)
        if spec != module and not spec.startswith(module + "/"):
            continue
        folder = posixpath.dirname(gomod)
        rest = spec[len(module) :].strip("/")
        target = posixpath.join(folder, rest) if rest else folder
        near = importer.startswith(folder + "/") if folder else True
        found.append((0 if near else 1, target + "/"))
    return tuple(t for _, t in sorted(found))


# A slice, array, map or channel type goes on with a type; a ``*`` may be a product, so
# # it is set aside and what stands before it decides: ``&T{`` (a composite literal's
# address), ``(*T)``, ``x.(T)``, ``...T``, ``new(T``, ``var v T``, ``type A T``, a field, a
# parameter or a result.
_TYPE_WRAPPERS = re.compile(r"(?:\*|\[[^\[\]]*\]|\bmap\[[^\[\]]*\]|\bchan\s+)+$")
_CONVERSION = re.compile(r"\(\*+$")  # (*T)(x), case (*T):
_LITERAL = re.compile(r"(?<![&\w)\]\s])\s*&$")  # &T{...}, not ``a & b``
# ``flags & ‸``, ``mode | ‸``, ``x &^ ‸``: a bit mask, so a constant or a variable.
_BITWISE = re.compile(r"[\w)\]]\s*(?:&\^?|\|)=?\s*$")
# ``&x,`` alone on a line: the address of a variable, as the next element's sibling.
_ADDRESS_ELEMENT = re.compile(r"^\s*&[A-Za-z_][\w.]*\s*,\s*$")
_BEFORE_TYPE = re.compile(
    r"(?:\.\(|\.\.\.|\bnew\(|\bmake\(|^\s*var\s+\w+(?:\s*,\s*\w+)*\s+"
    r"|^\s*type\s+\w+(?:\[[^\]]*\])?\s+(?:=\s*)?)$"
)
# ``name T`` at a line's start: a struct field, a parameter or a ``var (`` / ``const (``
# entry; in a function body no statement has that shape (unless a keyword leads it).
_FIELD = re.compile(r"^\s*([A-Za-z_]\w*)(?:\s*,\s*[A-Za-z_]\w*)*\s+$")
_STATEMENT_WORDS = frozenset(
    """
    return go defer case if for switch else select range goto break continue fallthrough
    package import default var const type func
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
# Inside a signature: ``(a T``, ``, b *T`` after ``func``, or the result after ``)``.
_PARAMETER = re.compile(r"\bfunc\b.*[(,]\s*[A-Za-z_]\w*\s+$")
_RESULT = re.compile(r"\bfunc\b.*\)\s*(?:\(\s*)?$")
_EMBEDDING = re.compile(r"\b(?:struct|interface)\s*\{\s*$")


TYPES = frozenset({"struct", "interface", "type"})
LITERAL_TYPES = frozenset({"struct", "type"})  # &T{...}: never an interface
NOTHING: frozenset[str] = frozenset()
VALUES = frozenset({"const", "variable"})


def _expected_kinds(lines: list[str]) -> frozenset[str]:
    """What the name after ``lines[-1]`` is, by what stands before it on its line (or, on
    an empty line inside a struct or interface body, an embedded type)."""
    line = lines[-1] if lines else ""
    if _BITWISE.search(line):
        return VALUES
    if _LITERAL.search(line):
        above = next((t for t in reversed(lines[:-1]) if t.strip()), "")
        if not line.strip("& \t") and _ADDRESS_ELEMENT.match(above):
            return VALUES  # ``&x,`` after ``&y,``: a variable's address
        return LITERAL_TYPES
    wrapper = _TYPE_WRAPPERS.search(line)
    if wrapper is not None and wrapper.group(0).strip("* "):
        return TYPES  # []T, map[K]T, chan T
    before = line[: wrapper.start()] if wrapper is not None else line
    if (
        _CONVERSION.search(line)
        or _BEFORE_TYPE.search(before)
        or _PARAMETER.search(before)
        or _RESULT.search(before)
    ):
        return TYPES
    if _CASE.match(before):  # ``case *T:`` in a type switch names types
        opener = _innermost_brace(lines[:-1])
        return TYPES if opener is not None and _TYPE_SWITCH.search(opener) else NOTHING
    field = _FIELD.match(before)
    if field is not None:
        return TYPES if field.group(1) not in _STATEMENT_WORDS else NOTHING
    if before.strip():
        return NOTHING
    opener = _innermost_brace(lines[:-1])
    if opener is None:
        return NOTHING
    if _EMBEDDING.search(opener):
        return TYPES  # an embedded type
    # A statement's start: a call or an assignment, so a function or a variable (a type
    # starts no statement but a rare ``T{…}.m()``).
    return STATEMENT if _STATEMENT_BLOCK.search(opener) else NOTHING


def _innermost_brace(above: list[str], limit: int = 60) -> str | None:
    """The line of the innermost brace left open above, if within ``limit`` lines."""
    depth = 0
    for text in reversed(above[-limit:]):
        for ch in reversed(text):  # right to left: ``} else {`` opens a block
            if ch == "}":
                depth += 1
            elif ch == "{":
                depth -= 1
                if depth < 0:
                    return text
    return None


STATEMENT = frozenset({"function", "variable"})
_CASE = re.compile(r"^\s*case\s+(?:[^:]*,\s*)?$")
_TYPE_SWITCH = re.compile(r"\bswitch\b.*\.\(\s*type\s*\)")
# A brace that opens statements: a function's body (``func … {``, a literal's too) or a
# control statement's block; not a composite literal (``[]T{``, ``T{``).
_STATEMENT_BLOCK = re.compile(
    r"^\s*(?:\}\s*)?(?:if|for|else|switch|select|go|defer)\b|\bfunc\b.*\)[^{}]*\{\s*$"
    r"|^\s*\{\s*$"
)


SCOPE = Scope(
    package=_package,
    config_files=("go.mod",),
    config=_module_folders,
    expected_kinds=_expected_kinds,
)


# --- receiver types ------------------------------------------------------------------

SYNTAX = TypeSyntax(empty=word_set("nil"))


def _go_type(node: Node | None) -> str:
    """A result or field type; the first of a result list (``(*T, error)`` → ``*T``)."""
    if node is not None and node.type == "parameter_list":
        first = node.named_children[0] if node.named_children else None
        return text_of(child_field(first, "type") if first is not None else None)
    return text_of(node)


def _go_arity(node: Node | None) -> int:
    """How many results a result clause declares (``(a, b int, err error)`` → 3)."""
    if node is None:
        return 0
    if node.type != "parameter_list":
        return 1
    return sum(
        max(1, len(p.children_by_field_name("name")))
        for p in node.named_children
        if p.type in ("parameter_declaration", "variadic_parameter_declaration")
    )


def _go_params(fn: Node, field: str = "parameters") -> list[tuple[str, str]]:
    params = child_field(fn, field)
    out: list[tuple[str, str]] = []
    for p in params.named_children if params is not None else []:
        kind = text_of(child_field(p, "type"))
        for name in p.children_by_field_name("name"):
            out.append((text_of(name), kind))
    return out


def _go_signature(node: Node) -> str:
    body = child_field(node, "body")
    raw = (node.text or b"")[: (body.start_byte if body else node.end_byte) - node.start_byte]
    return " ".join(raw.decode("utf-8", "replace").split())


def _go_struct(spec: Node, facts: FileFacts, doc: str) -> None:
    name = text_of(child_field(spec, "name"))
    kind_node = child_field(spec, "type")
    if kind_node is None or kind_node.type not in ("struct_type", "interface_type"):
        return
    start, end = rows(spec)
    header = text_of(spec).split("\n", 1)[0].rstrip()
    kind = "struct" if kind_node.type == "struct_type" else "interface"
    fact = ClassFact(name, kind, start + 1, end + 1, f"type {header}", doc)
    bases: list[str] = []
    fields = kind_node.named_children[0] if kind_node.type == "struct_type" else kind_node
    for child in fields.named_children if fields is not None else []:
        line = child.start_point.row + 1
        sig = " ".join(text_of(child).split())
        if child.type == "field_declaration":
            ftype = text_of(child_field(child, "type"))
            names = child.children_by_field_name("name")
            if not names:  # an embedded struct: its fields and methods are promoted
                bases.append(ftype)
            for n in names:
                fact.members.append(MemberFact(text_of(n), "field", sig, line, (Value(ftype),)))
        elif child.type in ("method_elem", "method_spec"):
            result = _go_type(child_field(child, "result"))
            values = (Value(result),) if result else ()
            member = MemberFact(text_of(child_field(child, "name")), "method", sig, line, values)
            fact.members.append(member)
        elif child.type in ("type_elem", "constraint_elem"):
            bases.append(text_of(child))
    fact.bases = tuple(bases)
    old = facts.classes.get(name)
    if old is not None:  # methods seen first
        fact.members.extend(old.members)
    facts.classes[name] = fact


def type_facts(root: Node) -> FileFacts:
    facts = FileFacts()
    doc = ""
    for node in root.named_children:
        if node.type == "comment":
            doc = doc or first_doc_line(text_of(node))
            continue
        if node.type == "type_declaration":
            for spec in node.named_children:
                if spec.type == "type_spec":
                    _go_struct(spec, facts, doc)
        elif node.type == "function_declaration":
            name = text_of(child_field(node, "name"))
            result = _go_type(child_field(node, "result"))
            if result:
                facts.returns[name] = result
            facts.arity[name] = _go_arity(child_field(node, "result"))
        elif node.type == "method_declaration":
            owner = _go_receiver(node)
            fact = facts.classes.setdefault(owner, ClassFact(owner, "struct", 0, 0))
            result = _go_type(child_field(node, "result"))
            name = text_of(child_field(node, "name"))
            line = node.start_point.row + 1
            values = (Value(result),) if result else ()
            fact.members.append(MemberFact(name, "method", _go_signature(node), line, values))
        elif node.type in ("var_declaration", "const_declaration"):
            _go_vars(node, facts.names)
        doc = ""
    return facts


def _go_vars(node: Node, names: dict[str, Value]) -> None:
    """``var x T = v``, ``x := v``, ``a, b := f()`` (the first name gets the first value)."""
    if node.type == "short_var_declaration":
        left, right = child_field(node, "left"), child_field(node, "right")
        values = right.named_children if right is not None else []
        for i, ident in enumerate(left.named_children if left is not None else []):
            if i < len(values):
                names[text_of(ident)] = Value(expr_text=text_of(values[i]))
            elif len(values) == 1 and i == 0:
                names[text_of(ident)] = Value(expr_text=text_of(values[0]))
        return
    specs = [c for c in node.named_children if c.type in ("var_spec", "const_spec")]
    for group in node.named_children:
        if group.type in ("var_spec_list", "const_spec_list"):
            specs.extend(c for c in group.named_children if c.type in ("var_spec", "const_spec"))
    last: tuple[Node | None, list[Node]] = (None, [])
    for spec in specs:
        kind, value = child_field(spec, "type"), child_field(spec, "value")
        values = value.named_children if value is not None else []
        if spec.type == "const_spec":
            if kind is None and value is None:  # ``B`` after ``A T = iota``: A's type and value
                kind, values = last
            else:
                last = (kind, values)
        for i, ident in enumerate(spec.children_by_field_name("name")):
            if kind is not None:
                names[text_of(ident)] = Value(text_of(kind))
            elif i < len(values):
                names[text_of(ident)] = Value(expr_text=text_of(values[i]))


_GO_DECLS = frozenset({"short_var_declaration", "var_declaration", "const_declaration"})
_GO_FUNCS = frozenset({"function_declaration", "method_declaration", "func_literal"})


def scope_at(root: Node, row: int) -> Bindings:
    """Parameters, the receiver, and declarations above the cursor."""
    scope = Bindings()
    for node, before in path_to_row(root, row):
        for sibling in before:
            if sibling.type in _GO_DECLS:
                _go_vars(sibling, scope.names)
        if node.type in _GO_FUNCS:
            if node.type == "method_declaration":
                for name, _ in _go_params(node, "receiver"):
                    scope.instance[name] = _go_receiver(node)
            for name, kind in _go_params(node):
                scope.names[name] = Value(kind)
        elif node.type == "range_clause" or (
            node.type == "for_statement" and child_field(node, "body") is not None
        ):
            clause = next((c for c in node.named_children if c.type == "range_clause"), node)
            left, right = child_field(clause, "left"), child_field(clause, "right")
            idents = left.named_children if left is not None else []
            if clause.type == "range_clause" and len(idents) == 2 and right is not None:
                scope.names[text_of(idents[1])] = Value(expr_text=text_of(right), iterate=True)
    return scope


RULES = TypeRules(type_facts, scope_at, SYNTAX, members_across_files=True)
