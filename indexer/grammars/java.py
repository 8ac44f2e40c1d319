"""Java: classes, interfaces, enums, records and their methods; single, wildcard and static
imports."""

from __future__ import annotations

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Bindings,
    ClassFact,
    Desc,
    FileFacts,
    MemberFact,
    Scope,
    TypeRules,
    TypeSyntax,
    Value,
    anchored,
    child_field,
    first_doc_line,
    make_name,
    members,
    path_to_row,
    rows,
    text_of,
    word_set,
)
from indexer.types import ImportRef

_JAVA_CONTAINERS = {
    "class_declaration": "class",
    "record_declaration": "class",
    "interface_declaration": "interface",
    "annotation_type_declaration": "interface",
    "enum_declaration": "enum",
}
_JAVA_METHODS = frozenset(
    {"method_declaration", "constructor_declaration", "compact_constructor_declaration"}
)


# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"line_comment", "block_comment"})


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind in COMMENTS:
        return Desc("comment", node)
    if kind not in _JAVA_CONTAINERS and kind not in _JAVA_METHODS:
        return Desc("code", node)
    name_node = child_field(node, "name")
    name = text_of(name_node)
    if kind in _JAVA_CONTAINERS:
        names = [make_name(node, name, _JAVA_CONTAINERS[kind], name_node)]
        return Desc("container", node, names, body=child_field(node, "body"), prefix=name)
    if kind in _JAVA_METHODS:
        names = [make_name(node, name, "method" if in_class else "function", name_node)]
        body = child_field(node, "body")
        if body is None:
            return Desc("code", node, names)
        return Desc("def", node, names, body=body)
    return Desc("code", node)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor((b"import",), frozenset({"import_declaration"}), line_start=True)


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        target = next(
            (c for c in node.named_children if c.type in ("scoped_identifier", "identifier")), None
        )
        parts = [p for p in "".join(text_of(target).split()).split(".") if p]
        if not parts:
            continue
        is_static = any(c.type == "static" for c in node.children)
        wildcard = any(c.type == "asterisk" for c in node.named_children)
        dotted = ".".join(parts)
        if wildcard and is_static:  # the static members of a type: "Type.*"
            candidates = (f"{'/'.join(parts)}.java",)
            refs.append(ImportRef("*", dotted, f"{parts[-1]}.*", line, candidates))
        elif wildcard:
            refs.append(ImportRef("*", dotted, "*", line, (f"{'/'.join(parts)}/",)))
        elif is_static and len(parts) > 1:  # a member, keyed by its type: "Type.member"
            module = ".".join(parts[:-1])
            member = ".".join(parts[-2:])
            refs.append(
                ImportRef(parts[-1], module, member, line, (f"{'/'.join(parts[:-1])}.java",))
            )
        else:
            module = ".".join(parts[:-1])
            refs.append(ImportRef(parts[-1], module, parts[-1], line, (f"{'/'.join(parts)}.java",)))
    return refs


# --- scope ---------------------------------------------------------------------------


def _package(path: str, siblings: list[str]) -> list[str]:
    """A package is a folder: its other .java files see each other's types."""
    return [p for p in siblings if p != path and p.endswith(".java")]


SCOPE = Scope(package=_package)


# --- receiver types ------------------------------------------------------------------

SYNTAX = TypeSyntax(
    containers=word_set(
        "List ArrayList LinkedList Set HashSet TreeSet LinkedHashSet SortedSet Collection "
        "Iterable Iterator Queue Deque ArrayDeque Stream"
    ),
    mappings=word_set("Map HashMap TreeMap LinkedHashMap SortedMap ConcurrentHashMap"),
    empty=word_set("null"),
)
_JAVA_METHODS = frozenset({"method_declaration", "constructor_declaration", "lambda_expression"})


def _java_signature(node: Node) -> str:
    body = child_field(node, "body")
    raw = (node.text or b"")[: (body.start_byte if body else node.end_byte) - node.start_byte]
    text = " ".join(raw.decode("utf-8", "replace").split()).rstrip(";")
    return text.split(") ", 1)[0] + ")" if "@" in text[:1] and ") " in text else text


def _java_class(node: Node, prefix: str, doc: str, facts: FileFacts) -> None:
    name = text_of(child_field(node, "name"))
    qualified = f"{prefix}.{name}" if prefix else name
    bases: list[str] = []
    superclass = child_field(node, "superclass")
    if superclass is not None:
        bases.extend(text_of(c) for c in superclass.named_children)
    for clause in node.named_children:
        if clause.type in ("super_interfaces", "extends_interfaces"):
            for group in clause.named_children:
                bases.extend(text_of(c) for c in group.named_children)
    start, end = rows(node)
    header = text_of(node).split("\n", 1)[0].rstrip()
    kind = _JAVA_CONTAINERS.get(node.type, "class")
    fact = ClassFact(qualified, kind, start + 1, end + 1, header, doc, tuple(bases))
    body = child_field(node, "body")
    member_doc = ""
    for child in members(Desc("container", node, body=body)):
        line = child.start_point.row + 1
        if child.type == "block_comment":
            member_doc = text_of(child)
            continue
        if child.type == "field_declaration":
            ftype = text_of(child_field(child, "type"))
            sig = " ".join(text_of(child).split()).rstrip(";")
            for decl in child.children_by_field_name("declarator"):
                fname = text_of(child_field(decl, "name"))
                fact.members.append(MemberFact(fname, "field", sig, line, (Value(ftype),)))
        elif child.type == "method_declaration":
            ret = text_of(child_field(child, "type"))
            values = (Value(ret),) if ret and ret != "void" else ()
            mname = text_of(child_field(child, "name"))
            fact.members.append(MemberFact(mname, "method", _java_signature(child), line, values))
        elif child.type in _JAVA_CONTAINERS:
            _java_class(child, qualified, first_doc_line(member_doc), facts)
        member_doc = ""
    facts.classes[qualified] = fact


def type_facts(root: Node) -> FileFacts:
    facts = FileFacts()
    doc = ""
    for node in root.named_children:
        if node.type == "block_comment":
            doc = first_doc_line(text_of(node)) if text_of(node).startswith("/**") else ""
            continue
        if node.type in _JAVA_CONTAINERS:
            _java_class(node, "", doc, facts)
        doc = ""
    return facts


def _java_locals(node: Node, names: dict[str, Value]) -> None:
    """``T x = v;`` and ``var x = v;``."""
    if node.type not in ("local_variable_declaration", "field_declaration"):
        return
    kind = text_of(child_field(node, "type"))
    for decl in node.children_by_field_name("declarator"):
        name, value = text_of(child_field(decl, "name")), child_field(decl, "value")
        if kind != "var":
            names[name] = Value(kind)
        elif value is not None:
            names[name] = Value(expr_text=text_of(value))


def scope_at(root: Node, row: int) -> Bindings:
    """Parameters, locals above the cursor, and ``this`` in a class's methods."""
    scope = Bindings()
    classes: list[str] = []
    for node, before in path_to_row(root, row):
        for sibling in before:
            _java_locals(sibling, scope.names)
        if node.type in _JAVA_CONTAINERS:
            classes.append(text_of(child_field(node, "name")))
        elif node.type in _JAVA_METHODS:
            params = child_field(node, "parameters")
            for p in params.named_children if params is not None else []:
                if p.type == "formal_parameter":
                    kind = text_of(child_field(p, "type"))
                    scope.names[text_of(child_field(p, "name"))] = Value(kind)
        elif node.type == "enhanced_for_statement":
            kind, value = text_of(child_field(node, "type")), child_field(node, "value")
            name = text_of(child_field(node, "name"))
            if kind != "var":
                scope.names[name] = Value(kind)
            elif value is not None:
                scope.names[name] = Value(expr_text=text_of(value), iterate=True)
    if classes:
        scope.instance["this"] = ".".join(classes)
    return scope


RULES = TypeRules(type_facts, scope_at, SYNTAX, frozenset({"this"}))
