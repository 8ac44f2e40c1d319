"""Python: functions, classes, module-level assignments; ``import`` and ``from ... import``."""

from __future__ import annotations

import posixpath

from tree_sitter import Node

from indexer.grammars.base import (
    Anchor,
    Bindings,
    ClassFact,
    Desc,
    FileFacts,
    MemberFact,
    Name,
    TypeRules,
    TypeSyntax,
    Value,
    anchored,
    child_field,
    make_name,
    rows,
    text_of,
    var_kind,
    word_set,
)
from indexer.types import ImportRef

# --- definitions ---------------------------------------------------------------------


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


# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"comment"})


def describe(node: Node, in_class: bool) -> Desc:
    kind = node.type
    inner = node
    if kind == "decorated_definition":
        inner = child_field(node, "definition") or node
    if inner.type == "function_definition":
        name = text_of(child_field(inner, "name"))
        fkind = "method" if in_class else "function"
        return Desc(
            "def", inner, [make_name(node, name, fkind, inner)], body=child_field(inner, "body")
        )
    if inner.type == "class_definition":
        name = text_of(child_field(inner, "name"))
        return Desc(
            "container",
            inner,
            [make_name(node, name, "class", inner)],
            body=child_field(inner, "body"),
            prefix=name,
        )
    if kind in COMMENTS:
        return Desc("comment", node)
    names: list[Name] = []
    if not in_class and kind in _PY_COMPOUND:
        # try: from fast import f / except ImportError: def f(): ... - one level deep.
        for block in _py_blocks(node):
            for statement in block.named_children:
                inner_desc = describe(statement, False)
                names.extend(inner_desc.names)
    elif not in_class:
        if kind == "expression_statement":
            for child in node.named_children:
                assign: Node | None = child
                while assign is not None and assign.type in ("assignment", "augmented_assignment"):
                    if assign.type == "assignment":
                        targets: list[Node] = []
                        _py_targets(child_field(assign, "left"), targets)
                        for target in targets:
                            ident = text_of(target)
                            names.append(make_name(node, ident, var_kind(ident)))
                    right = child_field(assign, "right")
                    assign = right if right is not None and right.type == "assignment" else None
        elif kind == "type_alias_statement":
            left = child_field(node, "left")
            ident = text_of(left.named_children[0] if left and left.named_children else left)
            if ident:
                names.append(make_name(node, ident, "type"))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor(
    (b"import", b"from"), frozenset({"import_statement", "import_from_statement"}), line_start=True
)


def _py_files(parts: list[str]) -> list[str]:
    base = "/".join(parts)
    if not base:
        return ["__init__.py"]
    return [f"{base}.py", f"{base}/__init__.py"]


def _py_base(importer: str, module: str) -> list[str] | None:
    """Path parts of a module as written ("..a.b"), relative to ``importer``; None if the
    relative import climbs above the workspace root."""
    level = len(module) - len(module.lstrip("."))
    rest = [p for p in module[level:].split(".") if p]
    if level == 0:
        return rest
    folder = [p for p in posixpath.dirname(importer).split("/") if p]
    if level - 1 > len(folder):
        return None
    return folder[: len(folder) - (level - 1)] + rest


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        if node.type == "import_statement":
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    module = text_of(item.child_by_field_name("name"))
                    local = text_of(item.child_by_field_name("alias"))
                else:
                    module = local = text_of(item)
                refs.append(
                    ImportRef(local, module, None, line, tuple(_py_files(module.split("."))))
                )
            continue
        module = "".join(text_of(node.child_by_field_name("module_name")).split())
        base = _py_base(path, module)
        module_files = _py_files(base) if base is not None else []
        if base is not None and not module.strip("."):
            module_files = [f"{'/'.join(base)}/__init__.py" if base else "__init__.py"]
        if any(child.type == "wildcard_import" for child in node.named_children):
            refs.append(ImportRef("*", module, "*", line, tuple(module_files)))
            continue
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                name = text_of(item.child_by_field_name("name"))
                local = text_of(item.child_by_field_name("alias"))
            else:
                name = local = text_of(item)
            member = _py_files([*base, *name.split(".")]) if base is not None else []
            refs.append(ImportRef(local, module, name, line, tuple(member + module_files)))
    return refs


# --- receiver types ------------------------------------------------------------------

SYNTAX = TypeSyntax(
    containers=word_set(
        "list List Sequence MutableSequence Iterable Iterator Generator AsyncIterator "
        "AsyncIterable AsyncGenerator Collection Set set frozenset FrozenSet AbstractSet "
        "MutableSet tuple Tuple deque Deque KeysView ValuesView Reversible"
    ),
    mappings=word_set(
        "dict Dict Mapping MutableMapping DefaultDict defaultdict OrderedDict ChainMap "
        "Counter WeakKeyDictionary WeakValueDictionary"
    ),
    wrappers=word_set("Optional Union Annotated Final ClassVar Required NotRequired"),
    empty=word_set("None"),
    self_types=word_set("Self"),
    awaitables=word_set("Awaitable Coroutine"),
)
_PROPERTY = frozenset({"property", "cached_property", "functools.cached_property"})
_SKIP_DEFS = frozenset({"function_definition", "class_definition", "decorated_definition"})


def _unwrap(node: Node) -> tuple[Node, list[str]]:
    """A decorated definition's inner node and its decorators' texts (without ``@``)."""
    if node.type != "decorated_definition":
        return node, []
    decorators = [text_of(c)[1:].strip() for c in node.named_children if c.type == "decorator"]
    return child_field(node, "definition") or node, decorators


def _doc(body: Node | None) -> str:
    first = body.named_children[0] if body is not None and body.named_children else None
    if first is None or first.type != "expression_statement" or not first.named_children:
        return ""
    string = first.named_children[0]
    if string.type != "string":
        return ""
    content = "".join(text_of(c) for c in string.named_children if c.type == "string_content")
    return next((line.strip() for line in content.split("\n") if line.strip()), "")


def _params(fn: Node) -> list[tuple[str, Value | None]]:
    """(name, value) of each parameter, None for an unannotated one."""
    out: list[tuple[str, Value | None]] = []
    params = child_field(fn, "parameters")
    for p in params.named_children if params is not None else []:
        if p.type == "identifier":
            out.append((text_of(p), None))
        elif p.type in ("typed_parameter", "typed_default_parameter", "default_parameter"):
            name = child_field(p, "name") or (p.named_children[0] if p.named_children else None)
            if name is None or name.type != "identifier":
                continue
            kind = child_field(p, "type")
            out.append((text_of(name), Value(type_text=text_of(kind)) if kind else None))
    return out


def _signature(fn: Node) -> str:
    body = child_field(fn, "body")
    raw = (fn.text or b"")[: (body.start_byte if body else fn.end_byte) - fn.start_byte]
    return " ".join(raw.decode("utf-8", "replace").split()).rstrip(":").rstrip()


def _assigned(node: Node) -> list[tuple[Node, Value]]:
    """Targets of an assignment statement (``x = v``, ``x: T = v``, ``a = b = v``)."""
    out: list[tuple[Node, Value]] = []
    for child in node.named_children if node.type == "expression_statement" else []:
        assign: Node | None = child
        while assign is not None and assign.type == "assignment":
            left, right = child_field(assign, "left"), child_field(assign, "right")
            kind = child_field(assign, "type")
            if left is not None and left.type in ("identifier", "attribute"):
                if kind is not None:
                    out.append((left, Value(type_text=text_of(kind))))
                elif right is not None and right.type != "assignment":
                    out.append((left, Value(expr_text=text_of(right))))
            assign = right if right is not None and right.type == "assignment" else None
    return out


def _self_fields(fn: Node, selfname: str, params: dict[str, Value]) -> list[MemberFact]:
    """``self.x = …`` (or ``self.x: T = …``) anywhere in a method's body."""
    out: list[MemberFact] = []
    body = child_field(fn, "body")
    stack = list(reversed(body.named_children)) if body is not None else []
    while stack:
        node = stack.pop()
        if node.type in _SKIP_DEFS:
            continue
        for left, value in _assigned(node):
            obj = child_field(left, "object")
            if left.type != "attribute" or obj is None or text_of(obj) != selfname:
                continue
            attr = text_of(child_field(left, "attribute"))
            rhs = value.expr_text.strip()
            if rhs in params:  # self.jar = jar, jar: CookieJar
                value = params[rhs]
            line = left.start_point.row + 1
            sig = text_of(node).split("\n", 1)[0].strip()
            out.append(MemberFact(attr, "field", sig, line, (value,)))
        if node.type != "expression_statement":
            stack.extend(reversed(node.named_children))
    return out


def _class_fact(node: Node, prefix: str, out: dict[str, ClassFact]) -> None:
    name = text_of(child_field(node, "name"))
    qualified = f"{prefix}.{name}" if prefix else name
    supers = child_field(node, "superclasses")
    bases = tuple(
        text_of(c)
        for c in (supers.named_children if supers is not None else [])
        if c.type in ("identifier", "attribute", "subscript")
    )
    body = child_field(node, "body")
    start, end = rows(node)
    header = text_of(node).split("\n", 1)[0].rstrip()
    fact = ClassFact(qualified, "class", start + 1, end + 1, header, _doc(body), bases)
    fields: list[MemberFact] = []
    for child in body.named_children if body is not None else []:
        inner, decorators = _unwrap(child)
        if inner.type == "function_definition":
            fname = text_of(child_field(inner, "name"))
            ret = child_field(inner, "return_type")
            values = (Value(type_text=text_of(ret)),) if ret is not None else ()
            is_property = any(d in _PROPERTY or d.endswith(".setter") for d in decorators)
            kind = "property" if is_property else "method"
            line = inner.start_point.row + 1
            fact.members.append(MemberFact(fname, kind, _signature(inner), line, values))
            params = _params(inner)
            if params and "staticmethod" not in decorators and "classmethod" not in decorators:
                typed = {n: v for n, v in params[1:] if v is not None}
                fields.extend(_self_fields(inner, params[0][0], typed))
        elif inner.type == "class_definition":
            _class_fact(inner, qualified, out)
            line = inner.start_point.row + 1
            sig = text_of(inner).split("\n", 1)[0].rstrip().rstrip(":")
            fact.members.append(MemberFact(text_of(child_field(inner, "name")), "class", sig, line))
        else:
            for left, value in _assigned(child):
                if left.type == "identifier":
                    sig = text_of(child).split("\n", 1)[0].strip()
                    line = left.start_point.row + 1
                    fact.members.append(MemberFact(text_of(left), "field", sig, line, (value,)))
    known = {m.name for m in fact.members}
    for f in fields:  # self.x in methods, after the class-level declarations
        if f.name not in known:
            known.add(f.name)
            fact.members.append(f)
        else:
            for m in fact.members:
                if m.name == f.name and m.kind == "field":
                    m.values = m.values + f.values
    out[qualified] = fact


def type_facts(root: Node) -> FileFacts:
    facts = FileFacts()
    stack = list(reversed(root.named_children))
    while stack:
        node = stack.pop()
        inner, _ = _unwrap(node)
        if inner.type == "class_definition":
            _class_fact(inner, "", facts.classes)
        elif inner.type == "function_definition":
            ret = child_field(inner, "return_type")
            if ret is not None:
                facts.returns[text_of(child_field(inner, "name"))] = text_of(ret)
        elif node.type in _PY_COMPOUND:  # if TYPE_CHECKING: class FlaskProxy(...)
            for block in reversed(_py_blocks(node)):
                stack.extend(reversed(block.named_children))
        else:
            for left, value in _assigned(node):
                name = text_of(left)
                old = facts.names.get(name)
                if left.type == "identifier" and (old is None or old.expr_text == "None"):
                    facts.names[name] = value
    return facts


def _bind_statement(node: Node, names: dict[str, Value]) -> None:
    """Names a statement (fully above the cursor) binds, into ``names``."""
    kind = node.type
    if kind in _SKIP_DEFS:
        return
    if kind == "expression_statement":
        for left, value in _assigned(node):
            if left.type == "identifier":
                names[text_of(left)] = value
        return
    if kind == "with_item":
        _bind_with(node, names)
        return
    if kind == "for_statement":
        _bind_for(node, names)
    for child in node.named_children:
        nested = child.type in ("block", "with_clause", "with_item")
        if kind == "block" or nested or child.type.endswith("_clause"):
            _bind_statement(child, names)


def _bind_for(node: Node, names: dict[str, Value]) -> None:
    left, right = child_field(node, "left"), child_field(node, "right")
    if left is not None and left.type == "identifier" and right is not None:
        names[text_of(left)] = Value(expr_text=text_of(right), iterate=True)


def _bind_with(item: Node, names: dict[str, Value]) -> None:
    value = child_field(item, "value")
    if value is not None and value.type == "as_pattern":
        alias = child_field(value, "alias")
        target = alias.named_children[0] if alias is not None and alias.named_children else None
        expr = value.named_children[0] if value.named_children else None
        if target is not None and target.type == "identifier" and expr is not None:
            names[text_of(target)] = Value(expr_text=text_of(expr))


def scope_at(root: Node, row: int) -> Bindings:
    """Parameters, locals and the instance names visible at ``row`` (0-based)."""
    scope = Bindings()
    classes: list[str] = []
    class_body = False  # the block being read is a class body (its functions are methods)
    outer: dict[str, Value] = {}  # names bound outside the innermost class
    block: Node | None = root
    while block is not None:
        inside: Node | None = None
        for node in block.named_children:
            if node.start_point.row > row:
                break
            if node.end_point.row < row:
                _bind_statement(node, scope.names)
                continue
            inside = node
            break
        if inside is None:
            break
        inner, decorators = _unwrap(inside)
        if inner.type in ("class_definition", "function_definition"):
            body = child_field(inner, "body")
            if body is None or row < body.start_point.row:
                break  # in a decorator or the signature: the enclosing scope's names
        if inner.type == "class_definition":
            classes.append(text_of(child_field(inner, "name")))
            outer = dict(scope.names)
            block, class_body = child_field(inner, "body"), True
            continue
        if inner.type == "function_definition":
            if class_body:  # a class body's names are not in scope in its methods
                scope.names = dict(outer)
            for i, (pname, value) in enumerate(_params(inner)):
                if i == 0 and class_body and "staticmethod" not in decorators:
                    owner = ".".join(classes)
                    target = scope.classes if "classmethod" in decorators else scope.instance
                    target[pname] = owner
                elif value is not None:
                    scope.names[pname] = value
            block, class_body = child_field(inner, "body"), False
            continue
        if inner.type == "for_statement":
            body = child_field(inner, "body")
            if body is not None and body.start_point.row <= row:
                _bind_for(inner, scope.names)
        for child in inner.named_children:
            if child.type == "with_clause":
                for item in child.named_children:
                    if item.end_point.row <= row:
                        _bind_with(item, scope.names)
        block, class_body = _block_at(inner, row), False
    return scope


def _block_at(node: Node, row: int) -> Node | None:
    """The block (of a compound statement or its clauses) holding ``row``."""
    for child in node.named_children:
        if child.start_point.row <= row <= child.end_point.row:
            if child.type == "block":
                return child
            if child.type.endswith("_clause"):
                return _block_at(child, row)
    return None


RULES = TypeRules(type_facts, scope_at, SYNTAX, frozenset({"self"}))
