"""What a syntax node defines, per grammar language.

The chunker walks a file's top-level nodes (and the bodies of classes, impls and
namespaces) and asks :func:`describe` what each one is:

- ``def``: a function or method; its own chunk (split when too long);
- ``container``: a class/struct/interface/impl/namespace whose body holds members; one chunk
  when small, else a ``class_summary`` plus chunks for its members;
- ``code``: anything else, possibly defining names (constants, variables, type aliases);
- ``comment``: comments and attributes, attached to the definition they precede.

Everything here is best-effort and total: an unexpected node shape is plain ``code``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

_CONST_NAME = re.compile(r"_*[A-Z][A-Z0-9_]*")


@dataclass(slots=True)
class Name:
    """One defined name; rows are 0-based, ``header`` is the row holding its declaration."""

    name: str
    kind: str
    start: int
    end: int
    header: int
    scope: str = ""  # an extra qualifier: a Go receiver, a C++ "Class::" scope


@dataclass(slots=True)
class Desc:
    """What a node is, for the chunker."""

    role: str  # def | container | code | comment
    node: Node  # the inner definition node (decorators and export wrappers removed)
    names: list[Name] = field(default_factory=list)
    body: Node | None = None  # container: holds the members; def: the statements (split points)
    prefix: str | None = None  # container: how members are qualified ("Parser")
    # container: class-like (members are methods; a class_summary when large), or a
    # transparent namespace/module/#if block whose members are top-level-like.
    summarize: bool = True


def text_of(node: Node | None) -> str:
    """A node's source text ("" for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def rows(node: Node) -> tuple[int, int]:
    """0-based inclusive rows; a node ending at column 0 does not own that last row."""
    start = node.start_point.row
    end = node.end_point.row
    if end > start and node.end_point.column == 0:
        end -= 1
    return start, end


def _name(node: Node, name: str, kind: str, header: Node | None = None, scope: str = "") -> Name:
    start, end = rows(node)
    return Name(name, kind, start, end, (header or node).start_point.row, scope)


# Member lists nested one level deeper than the body (Java enum methods, #else branches).
_FLATTEN = frozenset({"enum_body_declarations", "preproc_else", "preproc_elif", "preproc_elifdef"})


def members(desc: Desc) -> list[Node]:
    """The member nodes of a container's body, in source order."""
    out: list[Node] = []
    stack = list(reversed(desc.body.named_children)) if desc.body is not None else []
    while stack:
        child = stack.pop()
        if child.type in _FLATTEN:
            stack.extend(reversed(child.named_children))
        else:
            out.append(child)
    return out


def _var_kind(name: str) -> str:
    return "const" if _CONST_NAME.fullmatch(name) else "variable"


def _field(node: Node, name: str) -> Node | None:
    return node.child_by_field_name(name)


# --- Python -------------------------------------------------------------------------------


def _py_targets(node: Node | None, out: list[Node]) -> None:
    if node is None:
        return
    if node.type == "identifier":
        out.append(node)
    elif node.type in ("pattern_list", "tuple_pattern", "list_pattern"):
        for child in node.named_children:
            _py_targets(child, out)


_PY_COMPOUND = frozenset({"if_statement", "try_statement", "with_statement"})
_PY_CLAUSES = frozenset(
    {"else_clause", "elif_clause", "except_clause", "except_group_clause", "finally_clause"}
)


def _py_blocks(node: Node) -> list[Node]:
    """The statement blocks of an if/try/with statement and its clauses."""
    blocks: list[Node] = []
    for child in node.named_children:
        if child.type == "block":
            blocks.append(child)
        elif child.type in _PY_CLAUSES:
            blocks.extend(c for c in child.named_children if c.type == "block")
    return blocks


def _python(node: Node, in_class: bool) -> Desc:
    kind = node.type
    inner = node
    if kind == "decorated_definition":
        inner = _field(node, "definition") or node
    if inner.type == "function_definition":
        name = text_of(_field(inner, "name"))
        fkind = "method" if in_class else "function"
        return Desc("def", inner, [_name(node, name, fkind, inner)], body=_field(inner, "body"))
    if inner.type == "class_definition":
        name = text_of(_field(inner, "name"))
        return Desc(
            "container",
            inner,
            [_name(node, name, "class", inner)],
            body=_field(inner, "body"),
            prefix=name,
        )
    if kind == "comment":
        return Desc("comment", node)
    names: list[Name] = []
    if not in_class and kind in _PY_COMPOUND:
        # try: from fast import f / except ImportError: def f(): ... - one level deep.
        for block in _py_blocks(node):
            for statement in block.named_children:
                inner_desc = _python(statement, False)
                names.extend(inner_desc.names)
    elif not in_class:
        if kind == "expression_statement":
            for child in node.named_children:
                assign: Node | None = child
                while assign is not None and assign.type in ("assignment", "augmented_assignment"):
                    if assign.type == "assignment":
                        targets: list[Node] = []
                        _py_targets(_field(assign, "left"), targets)
                        for target in targets:
                            ident = text_of(target)
                            names.append(_name(node, ident, _var_kind(ident)))
                    right = _field(assign, "right")
                    assign = right if right is not None and right.type == "assignment" else None
        elif kind == "type_alias_statement":
            left = _field(node, "left")
            ident = text_of(left.named_children[0] if left and left.named_children else left)
            if ident:
                names.append(_name(node, ident, "type"))
    return Desc("code", node, names)


# --- JavaScript / TypeScript / TSX --------------------------------------------------------

_JS_FUNCTIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "function_signature"}
)
_JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_JS_CLASSES = {
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "class": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
}
_JS_MEMBER_FUNCTIONS = frozenset({"method_definition"})
_JS_SIGNATURES = frozenset({"method_signature", "abstract_method_signature"})


def _js_unwrap(node: Node) -> Node:
    while node.type in ("export_statement", "ambient_declaration"):
        inner = _field(node, "declaration")
        if inner is None:
            named = [c for c in node.named_children if c.type not in ("decorator", "comment")]
            if node.type == "ambient_declaration" and named:
                inner = named[0]
            else:
                return node
        node = inner
    if node.type == "expression_statement" and node.named_children:
        child = node.named_children[0]
        if child.type == "internal_module":
            return child
    return node


def _is_require(node: Node | None) -> bool:
    while node is not None and node.type == "await_expression":
        node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "call_expression":
        return False
    return text_of(_field(node, "function")) == "require"


def _js_commonjs_export(node: Node) -> tuple[str, Node | None] | None:
    """``exports.name = value`` / ``module.exports.name = value`` -> (name, value)."""
    if node.type != "assignment_expression":
        return None
    left = _field(node, "left")
    if left is None or left.type != "member_expression":
        return None
    owner = text_of(_field(left, "object"))
    if owner not in ("exports", "module.exports"):
        return None
    return text_of(_field(left, "property")), _field(node, "right")


def _javascript(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    if node.type == "comment":
        return Desc("comment", node)
    inner = _js_unwrap(node)
    kind = inner.type
    if kind in _JS_FUNCTIONS or kind in _JS_MEMBER_FUNCTIONS:
        name = text_of(_field(inner, "name"))
        fkind = "method" if in_class or kind in _JS_MEMBER_FUNCTIONS else "function"
        names = [_name(node, name, fkind, inner)] if name else []
        return Desc("def", inner, names, body=_field(inner, "body"))
    if kind in _JS_CLASSES:
        name = text_of(_field(inner, "name"))
        names = [_name(node, name, _JS_CLASSES[kind], inner)] if name else []
        return Desc("container", inner, names, body=_field(inner, "body"), prefix=name)
    if kind in ("internal_module", "module"):
        name = text_of(_field(inner, "name")).strip("\"'")
        return Desc("container", inner, body=_field(inner, "body"), prefix=name, summarize=False)
    names = []
    if in_class and kind in ("field_definition", "public_field_definition"):
        value = _field(inner, "value")
        target = _field(inner, "property") or _field(inner, "name")
        if value is not None and value.type in _JS_FUNCTION_VALUES and target is not None:
            method = _name(node, text_of(target), "method", inner)
            return Desc("def", inner, [method], body=_field(value, "body"))
        return Desc("code", node)
    if not in_class and kind == "expression_statement" and inner.named_children:
        exported = _js_commonjs_export(inner.named_children[0])
        if exported is not None:
            name, value = exported
            if value is not None and value.type in _JS_FUNCTION_VALUES:
                fn = _name(node, name, "function", inner)
                return Desc("def", inner, [fn], body=_field(value, "body"))
            return Desc("code", node, [_name(node, name, _var_kind(name), inner)])
    if in_class and kind in _JS_SIGNATURES:
        name = text_of(_field(inner, "name"))
        return Desc("code", node, [_name(node, name, "method", inner)] if name else [])
    if kind == "type_alias_declaration":
        names.append(_name(node, text_of(_field(inner, "name")), "type", inner))
    elif kind in ("lexical_declaration", "variable_declaration") and not in_class:
        declarators = [c for c in inner.named_children if c.type == "variable_declarator"]
        is_const = inner.child(0) is not None and text_of(inner.child(0)) == "const"
        if len(declarators) == 1:
            value = _field(declarators[0], "value")
            target = _field(declarators[0], "name")
            if (
                value is not None
                and value.type in _JS_FUNCTION_VALUES
                and target is not None
                and target.type == "identifier"
            ):
                fn = _name(node, text_of(target), "function", inner)
                return Desc("def", inner, [fn], body=_field(value, "body"))
        for declarator in declarators:
            target = _field(declarator, "name")
            if target is None or target.type != "identifier":
                continue
            if _is_require(_field(declarator, "value")):
                continue
            ident = text_of(target)
            names.append(_name(node, ident, "const" if is_const else "variable", inner))
    return Desc("code", inner if inner is not node else node, names)


# --- Go -----------------------------------------------------------------------------------


def _go_receiver(node: Node) -> str:
    receiver = _field(node, "receiver")
    if receiver is None:
        return ""
    for param in receiver.named_children:
        kind = _field(param, "type")
        while kind is not None and kind.type in ("pointer_type", "generic_type"):
            kind = kind.named_children[0] if kind.type == "pointer_type" else _field(kind, "type")
            if kind is not None and kind.type == "pointer_type":
                continue
        if kind is not None:
            return text_of(kind).split("[", 1)[0]
    return ""


def _go(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind == "comment":
        return Desc("comment", node)
    if kind == "function_declaration":
        name = text_of(_field(node, "name"))
        return Desc("def", node, [_name(node, name, "function")], body=_field(node, "body"))
    if kind == "method_declaration":
        name = text_of(_field(node, "name"))
        scope = _go_receiver(node)
        method = _name(node, name, "method", scope=scope)
        return Desc("def", node, [method], body=_field(node, "body"))
    names: list[Name] = []
    if kind == "type_declaration":
        type_specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
        for spec in type_specs:
            type_node = _field(spec, "type")
            tkind = {"struct_type": "struct", "interface_type": "interface"}.get(
                type_node.type if type_node is not None else "", "type"
            )
            names.append(_name(spec, text_of(_field(spec, "name")), tkind))
        if len(type_specs) == 1 and names[0].kind != "type":
            type_node = _field(type_specs[0], "type")
            body = type_node.named_children[-1] if type_node and type_node.named_children else None
            if names[0].kind == "interface":
                body = type_node
            names[0] = _name(node, names[0].name, names[0].kind)
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
                    names.append(_name(spec, name, vkind))
    return Desc("code", node, names)


# --- Rust ---------------------------------------------------------------------------------

_RUST_COMMENTS = frozenset({"line_comment", "block_comment", "attribute_item"})
_RUST_CONTAINERS = {
    "struct_item": "struct",
    "union_item": "struct",
    "enum_item": "enum",
    "trait_item": "trait",
}


def _rust_type_name(node: Node | None) -> str:
    """``&'a mut crate::Foo<T>`` -> ``Foo``."""
    text = text_of(node).split("<", 1)[0]
    words = [w for w in text.replace("&", " ").split() if w != "mut" and not w.startswith("'")]
    return words[-1].rsplit("::", 1)[-1] if words else ""


def _rust(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    kind = node.type
    if kind in _RUST_COMMENTS:
        return Desc("comment", node)
    if kind == "function_item":
        name = text_of(_field(node, "name"))
        fkind = "method" if in_class else "function"
        return Desc("def", node, [_name(node, name, fkind)], body=_field(node, "body"))
    if kind == "function_signature_item":
        fkind = "method" if in_class else "function"
        return Desc("code", node, [_name(node, text_of(_field(node, "name")), fkind)])
    if kind in _RUST_CONTAINERS:
        name = text_of(_field(node, "name"))
        body = _field(node, "body")
        names = [_name(node, name, _RUST_CONTAINERS[kind])]
        if body is None or body.type == "ordered_field_declaration_list":
            return Desc("def", node, names)
        return Desc("container", node, names, body=body, prefix=name)
    if kind == "impl_item":
        name = _rust_type_name(_field(node, "type"))
        return Desc("container", node, [], body=_field(node, "body"), prefix=name)
    if kind == "mod_item" and _field(node, "body") is not None:
        name = text_of(_field(node, "name"))
        return Desc("container", node, body=_field(node, "body"), prefix=name, summarize=False)
    if kind in ("macro_definition",):
        return Desc("def", node, [_name(node, text_of(_field(node, "name")), "function")])
    names = []
    if kind == "const_item":
        names.append(_name(node, text_of(_field(node, "name")), "const"))
    elif kind == "static_item":
        mutable = any(c.type == "mutable_specifier" for c in node.children)
        names.append(_name(node, text_of(_field(node, "name")), "variable" if mutable else "const"))
    elif kind in ("type_item", "associated_type"):
        names.append(_name(node, text_of(_field(node, "name")), "type"))
    return Desc("code", node, names)


# --- Java ---------------------------------------------------------------------------------

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


def _java(node: Node, in_class: bool) -> Desc:
    kind = node.type
    if kind in ("line_comment", "block_comment"):
        return Desc("comment", node)
    name = text_of(_field(node, "name"))
    if kind in _JAVA_CONTAINERS:
        names = [_name(node, name, _JAVA_CONTAINERS[kind], _field(node, "name"))]
        return Desc("container", node, names, body=_field(node, "body"), prefix=name)
    if kind in _JAVA_METHODS:
        names = [_name(node, name, "method" if in_class else "function", _field(node, "name"))]
        body = _field(node, "body")
        if body is None:
            return Desc("code", node, names)
        return Desc("def", node, names, body=body)
    return Desc("code", node)


# --- C / C++ ------------------------------------------------------------------------------

_C_DECLARATOR_NAMES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "primitive_type",
    }
)
_C_RECORDS = {
    "struct_specifier": "struct",
    "union_specifier": "struct",
    "enum_specifier": "enum",
    "class_specifier": "class",
}
_C_TRANSPARENT = frozenset(
    {"preproc_if", "preproc_ifdef", "linkage_specification", "namespace_definition"}
)


def _c_declarator(node: Node | None) -> tuple[str, bool]:
    """The declared name under a declarator chain, and whether it declares a function."""
    is_function = False
    while node is not None and node.type not in _C_DECLARATOR_NAMES:
        if node.type == "function_declarator":
            is_function = True
        inner = _field(node, "declarator")
        if inner is None:
            named = [c for c in node.named_children if c.type != "attribute_specifier"]
            inner = named[0] if named else None
        node = inner
    return text_of(node), is_function


def _split_scope(qualified: str) -> tuple[str, str]:
    parts = [p.strip() for p in qualified.split("::")]
    return ".".join(p.split("<", 1)[0] for p in parts[:-1] if p), parts[-1]


def _c(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    kind = node.type
    if kind == "comment":
        return Desc("comment", node)
    inner = node
    while inner.type == "template_declaration":
        named = [c for c in inner.named_children if c.type != "template_parameter_list"]
        if not named:
            break
        inner = named[-1]
    kind = inner.type
    if kind == "function_definition":
        declared, _ = _c_declarator(_field(inner, "declarator"))
        scope, name = _split_scope(declared)
        fkind = "method" if in_class or scope else "function"
        return Desc(
            "def", inner, [_name(node, name, fkind, inner, scope)], body=_field(inner, "body")
        )
    record = inner
    if kind == "type_definition":
        spec = _field(inner, "type")
        if spec is not None and spec.type in _C_RECORDS and _field(spec, "body") is not None:
            alias, _ = _c_declarator(_field(inner, "declarator"))
            name = alias or text_of(_field(spec, "name"))
            names = [_name(node, name, _C_RECORDS[spec.type], inner)]
            return Desc("container", inner, names, body=_field(spec, "body"), prefix=name)
        alias, _ = _c_declarator(_field(inner, "declarator"))
        return Desc("code", node, [_name(node, alias, "type", inner)] if alias else [])
    if kind in _C_RECORDS and _field(record, "body") is not None:
        name = text_of(_field(record, "name"))
        scope, short = _split_scope(name)
        names = [_name(node, short, _C_RECORDS[kind], inner, scope)] if short else []
        return Desc("container", inner, names, body=_field(record, "body"), prefix=short)
    if kind in _C_TRANSPARENT:
        body = _field(inner, "body") or inner
        prefix = (
            text_of(_field(inner, "name")).replace("::", ".") if kind.startswith("name") else ""
        )
        return Desc("container", inner, body=body, prefix=prefix, summarize=False)
    names = []
    if kind in ("preproc_def", "preproc_function_def"):
        ident = text_of(_field(inner, "name"))
        pkind = "function" if kind == "preproc_function_def" else _var_kind(ident)
        names.append(_name(node, ident, pkind))
    elif kind == "alias_declaration":
        names.append(_name(node, text_of(_field(inner, "name")), "type", inner))
    elif kind in ("declaration", "field_declaration") and not in_class:
        for declarator in inner.children_by_field_name("declarator"):
            declared, is_function = _c_declarator(declarator)
            if not declared:
                continue
            scope, ident = _split_scope(declared)
            dkind = "function" if is_function else _var_kind(ident)
            names.append(_name(node, ident, dkind, inner, scope))
    elif kind in ("declaration", "field_declaration"):
        for declarator in inner.children_by_field_name("declarator"):
            declared, is_function = _c_declarator(declarator)
            if declared and is_function:
                names.append(_name(node, declared, "method", inner))
    return Desc("code", node, names)


# --- registry -----------------------------------------------------------------------------

Describer = Callable[[Node, bool], Desc]

DESCRIBERS: dict[str, Describer] = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "c": _c,
    "cpp": _c,
}

# Languages whose bodies are delimited by braces (a summary repeats "{ ... }" and the closer).
BRACES: frozenset[str] = frozenset(
    {"javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp"}
)


def describe(language: str, node: Node, in_class: bool) -> Desc:
    """What ``node`` (a top-level node, or a member of a container body) defines."""
    describer = DESCRIBERS.get(language)
    if describer is None:
        return Desc("comment" if "comment" in node.type else "code", node)
    return describer(node, in_class)
