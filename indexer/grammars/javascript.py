"""JavaScript, TypeScript and TSX: functions, classes, interfaces, enums, types, top-level
const/let/var and CommonJS exports; ES imports, re-exports and ``require``."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable
from functools import lru_cache

from tree_sitter import Node

from indexer.grammars import ts_kinds
from indexer.grammars.base import (
    Anchor,
    Bindings,
    ClassFact,
    Desc,
    FileFacts,
    MemberFact,
    Name,
    Scope,
    Source,
    TypeRules,
    TypeSyntax,
    Value,
    anchored,
    child_field,
    first_doc_line,
    join_in,
    make_name,
    path_to_row,
    rows,
    text_of,
    unquote,
    var_kind,
    word_set,
)
from indexer.types import ImportRef

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
    node_type = node.type
    while node_type in ("export_statement", "ambient_declaration"):
        inner = node.child_by_field_name("declaration")
        if inner is None:
            named = [c for c in node.named_children if c.type not in ("decorator", "comment")]
            if node_type == "ambient_declaration" and named:
                inner = named[0]
            else:
                return node
        node = inner
        node_type = node.type
    if node_type == "expression_statement" and node.named_children:
        child = node.named_children[0]
        if child.type == "internal_module":
            return child
    return node


def _is_require(node: Node | None) -> bool:
    while node is not None and node.type == "await_expression":
        node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "call_expression":
        return False
    return text_of(node.child_by_field_name("function")) == "require"


def _js_commonjs_export(node: Node) -> tuple[str, Node | None] | None:
    """``exports.name = value`` / ``module.exports.name = value`` -> (name, value)."""
    if node.type != "assignment_expression":
        return None
    left = node.child_by_field_name("left")
    if left is None or left.type != "member_expression":
        return None
    owner = text_of(left.child_by_field_name("object"))
    if owner not in ("exports", "module.exports"):
        return None
    return text_of(left.child_by_field_name("property")), node.child_by_field_name("right")


# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"comment"})


_JS_WRAPPERS = frozenset({"export_statement", "ambient_declaration", "expression_statement"})


def describe(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    node_type = node.type
    if node_type in COMMENTS:
        return Desc("comment", node)
    if node_type == "import_statement":
        return Desc("code", node)
    # Most nodes wrap nothing (members, declarations): their type is read once.
    inner = _js_unwrap(node) if node_type in _JS_WRAPPERS else node
    kind = inner.type if inner is not node else node_type
    if kind == "export_statement":
        # export default class { } / export default () => { }: named "default".
        value = inner.child_by_field_name("value")
        if value is not None and value.type == "class":
            names = [make_name(node, "default", "class", value)]
            return Desc(
                "container", value, names, body=value.child_by_field_name("body"), prefix="default"
            )
        if value is not None and value.type in _JS_FUNCTION_VALUES:
            names = [make_name(node, "default", "function", value)]
            return Desc("def", value, names, body=value.child_by_field_name("body"))
    if kind in _JS_FUNCTIONS or kind in _JS_MEMBER_FUNCTIONS:
        name = text_of(inner.child_by_field_name("name"))
        fkind = "method" if in_class or kind in _JS_MEMBER_FUNCTIONS else "function"
        names = [make_name(node, name, fkind, inner)] if name else []
        return Desc("def", inner, names, body=inner.child_by_field_name("body"))
    if kind in _JS_CLASSES:
        name = text_of(inner.child_by_field_name("name"))
        names = [make_name(node, name, _JS_CLASSES[kind], inner)] if name else []
        return Desc("container", inner, names, body=inner.child_by_field_name("body"), prefix=name)
    if kind in ("internal_module", "module"):
        name = text_of(inner.child_by_field_name("name")).strip("\"'")
        return Desc(
            "container", inner, body=inner.child_by_field_name("body"), prefix=name, summarize=False
        )
    names = []
    if in_class and kind in ("field_definition", "public_field_definition"):
        value = inner.child_by_field_name("value")
        target = inner.child_by_field_name("property") or inner.child_by_field_name("name")
        if value is not None and value.type in _JS_FUNCTION_VALUES and target is not None:
            method = make_name(node, text_of(target), "method", inner)
            return Desc("def", inner, [method], body=value.child_by_field_name("body"))
        return Desc("code", node)
    if not in_class and kind == "expression_statement" and inner.named_children:
        exported = _js_commonjs_export(inner.named_children[0])
        if exported is not None:
            name, value = exported
            if value is not None and value.type in _JS_FUNCTION_VALUES:
                fn = make_name(node, name, "function", inner)
                return Desc("def", inner, [fn], body=value.child_by_field_name("body"))
            return Desc("code", node, [make_name(node, name, var_kind(name), inner)])
    if in_class and kind in _JS_SIGNATURES:
        name = text_of(inner.child_by_field_name("name"))
        return Desc("code", node, [make_name(node, name, "method", inner)] if name else [])
    if kind == "type_alias_declaration":
        names.append(make_name(node, text_of(inner.child_by_field_name("name")), "type", inner))
    elif kind in ("lexical_declaration", "variable_declaration") and not in_class:
        declarators = [c for c in inner.named_children if c.type == "variable_declarator"]
        is_const = inner.child(0) is not None and text_of(inner.child(0)) == "const"
        if len(declarators) == 1:
            value = declarators[0].child_by_field_name("value")
            target = declarators[0].child_by_field_name("name")
            if (
                value is not None
                and value.type in _JS_FUNCTION_VALUES
                and target is not None
                and target.type == "identifier"
            ):
                fn = make_name(node, text_of(target), "function", inner)
                return Desc("def", inner, [fn], body=value.child_by_field_name("body"))
        for declarator in declarators:
            target = declarator.child_by_field_name("name")
            if target is None or target.type != "identifier":
                continue
            if _is_require(declarator.child_by_field_name("value")):
                continue
            ident = text_of(target)
            names.append(make_name(node, ident, "const" if is_const else "variable", inner))
    return Desc("code", inner if inner is not node else node, names)


# --- imports -------------------------------------------------------------------------

# `export` before a declaration (most exports of a TypeScript file) binds no other name:
# not an import, a re-export or an alias (`export type {` and `export default` are).
_DECLARATION_EXPORT = re.compile(
    rb"export[ \t\r\n]+(?:(?:async|abstract|declare|const|let|var|function|class|interface|enum"
    rb"|namespace|module)(?![\w$])|type[ \t\r\n]+[A-Za-z_$])"
)

ANCHOR = Anchor(
    (b"import", b"export", b"require", b"module.exports"),
    frozenset({"import_statement", "export_statement", "call_expression", "assignment_expression"}),
    skip=_DECLARATION_EXPORT,
)


_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
_JS_COMPILED = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_JS_ASSETS = frozenset({".json", ".css", ".scss", ".less", ".vue", ".svelte", ".d.ts", ".mts"})


def _js_variants(base: str) -> tuple[str, ...]:
    """Files an extensionless or compiled-extension specifier may name."""
    ext = _extension(base)
    if ext in _JS_EXTENSIONS or ext in _JS_ASSETS:
        # TypeScript's ESM style imports "./x.js" for the source file x.ts.
        stem = base[: len(base) - len(ext)]
        return (base, *(stem + alt for alt in _JS_COMPILED.get(ext, ())))
    if not base:
        return _JS_INDEXES
    return tuple(map(base.__add__, _JS_SUFFIXES))


def _extension(path: str) -> str:
    """``posixpath.splitext(path)[1]``: from the last dot of the last part, unless only
    dots come before it there (".eslintrc" has none)."""
    dot = path.rfind(".")
    name = path.rfind("/") + 1
    if dot <= name or not path[name:dot].strip("."):
        return ""
    return path[dot:]


_JS_INDEXES = tuple(f"index{e}" for e in _JS_EXTENSIONS)
_JS_SUFFIXES = _JS_EXTENSIONS + tuple(f"/{index}" for index in _JS_INDEXES)


@lru_cache(maxsize=4096)
def _js_candidates(folder: str, spec: str) -> tuple[str, ...]:
    """Candidate paths of a specifier imported by a file of ``folder``. Cached: a
    folder's files import the same modules, and the server re-parses a file per edit."""
    if spec.startswith("."):
        base = join_in(folder, spec)
        return _js_variants(base) if base is not None else ()
    if spec.startswith(("@/", "~/", "#/")):
        spec = spec[2:]
    elif spec.startswith("@") or "/" not in spec:
        return ()  # a package from node_modules
    return _js_variants(spec.strip("/"))


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    folder = posixpath.dirname(path)
    text = Source(root).text
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        kind = node.type
        if kind == "call_expression":
            if text(node.child_by_field_name("function")) == "require":
                _js_require(node, text, folder, line, refs)
            continue
        if kind == "assignment_expression":
            _js_module_exports(node, text, line, refs)
            continue
        source = node.child_by_field_name("source")
        if source is None:
            if kind == "export_statement":
                if node.child_by_field_name("declaration") is not None:
                    continue  # `export function f` (most exports) names nothing else
                _js_local_exports(node, text, line, refs)
                continue
            require = [c for c in node.named_children if c.type == "import_require_clause"]
            if not require:
                continue
            spec = unquote(text(require[0].child_by_field_name("source")))
            local = text(require[0].named_children[0]) if require[0].named_children else ""
            refs.append(ImportRef(local, spec, None, line, _js_candidates(folder, spec)))
            continue
        spec = unquote(text(source))
        candidates = _js_candidates(folder, spec)
        before = len(refs)
        for clause in node.named_children:
            if clause.type in _JS_CLAUSES:
                _js_clause(clause, text, spec, line, candidates, refs)
        if len(refs) == before:
            if kind == "export_statement":
                refs.append(ImportRef("*", spec, "*", line, candidates))  # export * from
            else:
                refs.append(ImportRef("", spec, None, line, candidates))  # side effect only
    return refs


_JS_CLAUSES = frozenset({"import_clause", "export_clause", "namespace_export"})
Text = Callable[[Node | None], str]


def _js_require(node: Node, text: Text, folder: str, line: int, refs: list[ImportRef]) -> None:
    """``require("x")``: bound to a name, destructured, or for its side effects."""
    args = node.child_by_field_name("arguments")
    spec = unquote(text(args.named_children[0] if args and args.named_children else None))
    candidates = _js_candidates(folder, spec)
    parent = node.parent
    while parent is not None and parent.type == "await_expression":
        parent = parent.parent
    target = parent.child_by_field_name("name") if parent is not None else None
    if parent is None or parent.type != "variable_declarator" or target is None:
        refs.append(ImportRef("", spec, None, line, candidates))
    elif target.type == "identifier":
        refs.append(ImportRef(text(target), spec, None, line, candidates))
    elif target.type == "object_pattern":
        for item in target.named_children:
            if item.type == "shorthand_property_identifier_pattern":
                name = text(item)
                refs.append(ImportRef(name, spec, name, line, candidates))
            elif item.type == "pair_pattern":
                key = text(item.child_by_field_name("key"))
                value = text(item.child_by_field_name("value"))
                refs.append(ImportRef(value, spec, key, line, candidates))


def _js_local_exports(node: Node, text: Text, line: int, refs: list[ImportRef]) -> None:
    """Exports of the file's own names under another name, as aliases inside the file
    (module ""): ``export default foo``, ``export = Foo`` (both bind "default") and
    ``export { a as b }``."""
    value = node.child_by_field_name("value")
    named = [c for c in node.named_children if c.type not in ("comment", "decorator")]
    if value is None and len(named) == 1 and named[0].type == "identifier":
        value = named[0]  # export = Foo
    if value is not None and value.type == "identifier":
        refs.append(ImportRef("default", "", text(value), line, ()))
        return
    for clause in (c for c in named if c.type == "export_clause"):
        for item in clause.named_children:
            alias = item.child_by_field_name("alias")
            if item.type == "export_specifier" and alias is not None:
                name = text(item.child_by_field_name("name"))
                refs.append(ImportRef(text(alias), "", name, line, ()))


def _js_module_exports(node: Node, text: Text, line: int, refs: list[ImportRef]) -> None:
    """``module.exports = foo``: the CommonJS default export, an alias of ``foo``."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if text(left) == "module.exports" and right is not None and right.type == "identifier":
        refs.append(ImportRef("default", "", text(right), line, ()))


def _js_clause(
    clause: Node,
    text: Text,
    spec: str,
    line: int,
    candidates: tuple[str, ...],
    refs: list[ImportRef],
) -> None:
    if clause.type == "namespace_export":
        local = text(clause.named_children[0]) if clause.named_children else "*"
        refs.append(ImportRef(local, spec, None, line, candidates))
        return
    for item in clause.named_children:
        kind = item.type
        if kind == "import_specifier" or kind == "export_specifier":
            name = text(item.child_by_field_name("name"))
            alias = item.child_by_field_name("alias")
            refs.append(ImportRef(text(alias) if alias else name, spec, name, line, candidates))
        elif kind == "identifier":  # import D from
            refs.append(ImportRef(text(item), spec, "default", line, candidates))
        elif kind == "namespace_import":
            local = text(item.named_children[0]) if item.named_children else "*"
            refs.append(ImportRef(local, spec, None, line, candidates))
        elif kind == "named_imports" or kind == "export_clause":
            _js_clause(item, text, spec, line, candidates, refs)


# --- scope ---------------------------------------------------------------------------

_JSON_NOISE = re.compile(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*[\s\S]*?\*/')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@lru_cache(maxsize=1024)
def _loose_json(text: str) -> dict[str, object]:
    """tsconfig.json and package.json as JSON with comments and trailing commas; {} when
    unreadable (a half-typed file resolves nothing through it). Cached by text: every
    import resolution reads them."""
    cleaned = _TRAILING_COMMA.sub(r"\1", _JSON_NOISE.sub(lambda m: m.group(1) or "", text))
    try:
        data = json.loads(cleaned)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _under(folder: str, importer: str) -> bool:
    return not folder or importer.startswith(folder + "/")


def _tsconfig_targets(spec: str, folder: str, options: dict[str, object]) -> list[str]:
    """Where ``compilerOptions.paths`` and ``baseUrl`` send a bare specifier."""
    base = posixpath.normpath(posixpath.join(folder, str(options.get("baseUrl", "."))))
    base = "" if base == "." else base
    out: list[str] = []
    paths = options.get("paths")
    for pattern, targets in paths.items() if isinstance(paths, dict) else []:
        head, star, tail = str(pattern).partition("*")
        if star and spec.startswith(head) and spec.endswith(tail):
            rest = spec[len(head) : len(spec) - len(tail)]
        elif not star and spec == pattern:
            rest = ""
        else:
            continue
        for target in targets if isinstance(targets, list) else []:
            out.append(posixpath.normpath(posixpath.join(base, str(target).replace("*", rest))))
    if "baseUrl" in options:
        out.append(posixpath.join(base, spec) if base else spec)
    return out


def _package_targets(spec: str, folder: str, name: object) -> list[str]:
    """A package of the workspace imported by its name (monorepo workspaces): its
    sources (src/) first, then its folder."""
    if not isinstance(name, str) or not (spec == name or spec.startswith(name + "/")):
        return []
    rest = spec[len(name) :].strip("/")
    return [posixpath.join(folder, "src", rest).rstrip("/"), posixpath.join(folder, rest)]


def _configured(spec: str, importer: str, configs: dict[str, str]) -> tuple[str, ...]:
    """Exact candidates for a bare specifier: tsconfig/jsconfig ``paths`` and ``baseUrl``
    (the nearest config above the importer), then packages of the workspace by name."""
    if spec.startswith(".") or not spec:
        return ()
    out: list[str] = []
    nearest = sorted(
        (p for p in configs if not p.endswith("package.json")),
        key=lambda p: -p.count("/"),
    )
    for config in nearest:
        folder = posixpath.dirname(config)
        if not _under(folder, importer):
            continue
        options = _loose_json(configs[config]).get("compilerOptions")
        if isinstance(options, dict):
            out.extend(_tsconfig_targets(spec, folder, options))
            break
    for config in sorted(p for p in configs if p.endswith("package.json")):
        out.extend(
            _package_targets(
                spec, posixpath.dirname(config), _loose_json(configs[config]).get("name")
            )
        )
    return tuple(dict.fromkeys(v for base in out for v in _js_variants(base)))


SCOPE = Scope(
    config_files=("tsconfig.json", "jsconfig.json", "package.json"),
    config=_configured,
    expected_kinds=ts_kinds.expected_kinds,
)


# --- receiver types ------------------------------------------------------------------

SYNTAX = TypeSyntax(
    containers=word_set(
        "Array ReadonlyArray Set ReadonlySet Iterable Iterator IterableIterator "
        "AsyncIterable AsyncIterableIterator Generator AsyncGenerator"
    ),
    mappings=word_set("Map ReadonlyMap WeakMap Record"),
    wrappers=word_set("Readonly Partial Required NonNullable"),
    empty=word_set("null undefined void"),
    self_types=word_set("this"),
    awaitables=word_set("Promise PromiseLike"),
)
_JS_CLASS_NODES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
_JS_FUNCTION_NODES = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "method_definition",
        "arrow_function",
        "function_expression",
        "function",
        "generator_function",
    }
)
_JS_DECLARATIONS = frozenset({"lexical_declaration", "variable_declaration"})
_JS_PARAMS = frozenset({"required_parameter", "optional_parameter"})
_JS_TYPE_MEMBERS = frozenset(
    {"method_signature", "abstract_method_signature", "property_signature"}
)


def _annotation(node: Node | None) -> str:
    """A type annotation's type (``: Foo`` → ``Foo``)."""
    return text_of(node).lstrip(":").strip() if node is not None else ""


def _js_params(fn: Node) -> list[tuple[str, Value | None, bool]]:
    """(name, value, declares a field) of each parameter of a function."""
    out: list[tuple[str, Value | None, bool]] = []
    params = child_field(fn, "parameters")
    for p in params.named_children if params is not None else []:
        if p.type == "identifier":
            out.append((text_of(p), None, False))
        elif p.type in _JS_PARAMS:
            pattern = child_field(p, "pattern")
            if pattern is None or pattern.type != "identifier":
                continue
            kind = _annotation(child_field(p, "type"))
            field_param = any(c.type == "accessibility_modifier" for c in p.named_children)
            field_param = field_param or text_of(p).startswith("readonly ")
            out.append((text_of(pattern), Value(type_text=kind) if kind else None, field_param))
    return out


def _declared(node: Node) -> list[tuple[str, Value]]:
    """``const x: T = v`` / ``let x = v``: names with their type or value."""
    out: list[tuple[str, Value]] = []
    if node.type not in _JS_DECLARATIONS:
        return out
    for decl in node.named_children:
        name = child_field(decl, "name")
        if decl.type != "variable_declarator" or name is None or name.type != "identifier":
            continue
        kind, value = _annotation(child_field(decl, "type")), child_field(decl, "value")
        if kind:
            out.append((text_of(name), Value(type_text=kind)))
        elif value is not None and value.type not in _JS_FUNCTION_VALUES:
            out.append((text_of(name), Value(expr_text=text_of(value))))
    return out


def _js_signature(node: Node) -> str:
    body = child_field(node, "body")
    raw = (node.text or b"")[: (body.start_byte if body else node.end_byte) - node.start_byte]
    return " ".join(raw.decode("utf-8", "replace").split()).rstrip(";{ ")


def _this_fields(fn: Node, params: dict[str, Value]) -> list[MemberFact]:
    """``this.x = …`` in a constructor."""
    out: list[MemberFact] = []
    body = child_field(fn, "body")
    for statement in body.named_children if body is not None else []:
        expr = statement.named_children[0] if statement.named_children else None
        if statement.type != "expression_statement" or expr is None:
            continue
        if expr.type != "assignment_expression":
            continue
        left, right = child_field(expr, "left"), child_field(expr, "right")
        obj = child_field(left, "object") if left is not None else None
        if left is None or left.type != "member_expression" or text_of(obj) != "this":
            continue
        rhs = text_of(right).strip()
        value = params.get(rhs) or Value(expr_text=rhs)
        name = text_of(child_field(left, "property"))
        line = left.start_point.row + 1
        out.append(MemberFact(name, "field", text_of(statement).strip(), line, (value,)))
    return out


def _js_member(node: Node, fact: ClassFact, fields: list[MemberFact]) -> None:
    kind = node.type
    name = text_of(child_field(node, "name"))
    line = node.start_point.row + 1
    if kind == "method_definition" or kind in ("method_signature", "abstract_method_signature"):
        ret = _annotation(child_field(node, "return_type"))
        values = (Value(type_text=ret),) if ret else ()
        getter = any(c.type == "get" for c in node.children)
        fact.members.append(
            MemberFact(name, "property" if getter else "method", _js_signature(node), line, values)
        )
        if name == "constructor":
            params = _js_params(node)
            typed = {n: v for n, v, _ in params if v is not None}
            for pname, pvalue, is_field in params:
                if is_field:
                    sig = f"{pname}: {pvalue.type_text}" if pvalue else pname
                    pvalues = (pvalue,) if pvalue else ()
                    fact.members.append(MemberFact(pname, "field", sig, line, pvalues))
            fields.extend(_this_fields(node, typed))
    elif kind in ("public_field_definition", "field_definition", "property_signature"):
        name = name or text_of(child_field(node, "property"))
        ftype, value = _annotation(child_field(node, "type")), child_field(node, "value")
        if value is not None and value.type in _JS_FUNCTION_VALUES:
            ret = _annotation(child_field(value, "return_type"))
            returns = (Value(type_text=ret),) if ret else ()
            fact.members.append(MemberFact(name, "method", _js_signature(node), line, returns))
            return
        values = (Value(type_text=ftype),) if ftype else ()
        if value is not None:
            values = (*values, Value(expr_text=text_of(value)))
        sig = " ".join(text_of(node).split("\n", 1)[0].split()).rstrip(";")
        fact.members.append(MemberFact(name, "field", sig, line, values))


def _js_class(node: Node, doc: str, out: dict[str, ClassFact]) -> None:
    name = text_of(child_field(node, "name"))
    if not name:
        return
    body = child_field(node, "body") or child_field(node, "value")
    bases: list[str] = []
    for child in node.named_children:
        if child.type in ("class_heritage", "extends_type_clause"):
            for clause in [child, *child.named_children]:
                for t in clause.named_children:
                    if t.type not in ("extends_clause", "implements_clause", "type_arguments"):
                        bases.append(text_of(t))
    start, end = rows(node)
    kind = "class" if node.type in _JS_CLASS_NODES else "interface"
    header = text_of(node).split("\n", 1)[0].rstrip()
    fact = ClassFact(name, kind, start + 1, end + 1, header, doc, tuple(bases))
    fields: list[MemberFact] = []
    for child in body.named_children if body is not None else []:
        _js_member(child, fact, fields)
    known = {m.name for m in fact.members}
    fact.members.extend(f for f in fields if f.name not in known)
    out[name] = fact


def type_facts(root: Node) -> FileFacts:
    facts = FileFacts()
    doc = ""
    for top in root.named_children:
        if top.type == "comment":
            doc = first_doc_line(text_of(top)) if text_of(top).startswith("/**") else ""
            continue
        node = _js_unwrap(top)
        if node.type in _JS_CLASS_NODES or node.type == "interface_declaration":
            _js_class(node, doc, facts.classes)
        elif node.type == "type_alias_declaration":
            value = child_field(node, "value")
            if value is not None and value.type == "object_type":
                _js_class(node, doc, facts.classes)
        elif node.type in ("function_declaration", "generator_function_declaration"):
            ret = _annotation(child_field(node, "return_type"))
            if ret:
                facts.returns[text_of(child_field(node, "name"))] = ret
        elif node.type in _JS_DECLARATIONS:
            for decl in node.named_children:
                value = child_field(decl, "value")
                if value is not None and value.type in _JS_FUNCTION_VALUES:
                    ret = _annotation(child_field(value, "return_type"))
                    if ret:
                        facts.returns[text_of(child_field(decl, "name"))] = ret
            facts.names.update(_declared(node))
        doc = ""
    return facts


def scope_at(root: Node, row: int) -> Bindings:
    """Parameters, declarations above the cursor, and ``this`` in a class's methods."""
    scope = Bindings()
    owner = ""
    for node, before in path_to_row(root, row):
        for sibling in before:
            for name, value in _declared(_js_unwrap(sibling)):
                scope.names[name] = value
        if node.type in _JS_CLASS_NODES:
            owner = text_of(child_field(node, "name"))
        elif node.type in _JS_FUNCTION_NODES:
            if owner and node.type in ("function", "function_expression", "function_declaration"):
                owner = ""  # a plain function has its own `this`
            for name, param, _ in _js_params(node):
                if param is not None:
                    scope.names[name] = param
        elif node.type == "for_in_statement":
            left, right = child_field(node, "left"), child_field(node, "right")
            body = child_field(node, "body")
            of = any(c.type == "of" for c in node.children)
            in_body = body is not None and body.start_point.row <= row
            simple = left is not None and left.type == "identifier" and right is not None
            if simple and of and in_body:
                scope.names[text_of(left)] = Value(expr_text=text_of(right), iterate=True)
    if owner:
        scope.instance["this"] = owner
    return scope


RULES = TypeRules(type_facts, scope_at, SYNTAX, frozenset({"this"}))
