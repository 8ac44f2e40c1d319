"""Rust: functions, structs, enums, traits, impls (members qualified by type), const/static,
type aliases, macros; ``use`` trees and ``mod x;`` declarations."""

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
    first_doc_line,
    make_name,
    path_to_row,
    rows,
    text_of,
    word_set,
)
from indexer.types import ImportRef

# Node types that are comments to the chunker (attached to what follows them).
COMMENTS = frozenset({"line_comment", "block_comment", "attribute_item"})
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


def describe(node: Node, in_class: bool) -> Desc:
    names: list[Name]
    kind = node.type
    if kind in COMMENTS:
        return Desc("comment", node)
    if kind == "function_item":
        name = text_of(child_field(node, "name"))
        fkind = "method" if in_class else "function"
        return Desc("def", node, [make_name(node, name, fkind)], body=child_field(node, "body"))
    if kind == "function_signature_item":
        fkind = "method" if in_class else "function"
        return Desc("code", node, [make_name(node, text_of(child_field(node, "name")), fkind)])
    if kind in _RUST_CONTAINERS:
        name = text_of(child_field(node, "name"))
        body = child_field(node, "body")
        names = [make_name(node, name, _RUST_CONTAINERS[kind])]
        if body is None or body.type == "ordered_field_declaration_list":
            return Desc("def", node, names)
        return Desc("container", node, names, body=body, prefix=name)
    if kind == "impl_item":
        name = _rust_type_name(child_field(node, "type"))
        return Desc("container", node, [], body=child_field(node, "body"), prefix=name)
    if kind == "mod_item" and child_field(node, "body") is not None:
        name = text_of(child_field(node, "name"))
        return Desc("container", node, body=child_field(node, "body"), prefix=name, summarize=False)
    if kind in ("macro_definition",):
        return Desc("def", node, [make_name(node, text_of(child_field(node, "name")), "function")])
    names = []
    if kind == "const_item":
        names.append(make_name(node, text_of(child_field(node, "name")), "const"))
    elif kind == "static_item":
        mutable = any(c.type == "mutable_specifier" for c in node.children)
        names.append(
            make_name(node, text_of(child_field(node, "name")), "variable" if mutable else "const")
        )
    elif kind in ("type_item", "associated_type"):
        names.append(make_name(node, text_of(child_field(node, "name")), "type"))
    return Desc("code", node, names)


# --- imports -------------------------------------------------------------------------

ANCHOR = Anchor((b"use", b"mod"), frozenset({"use_declaration", "mod_item"}))


def _rust_module_dir(path: str) -> list[str]:
    """The folder holding a Rust file's child modules (src/a.rs -> src/a)."""
    folder = [p for p in posixpath.dirname(path).split("/") if p]
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return folder if stem in ("mod", "lib", "main") else [*folder, stem]


def _rust_files(parts: list[str]) -> list[str]:
    base = "/".join(parts)
    return [f"{base}.rs", f"{base}/mod.rs"] if base else []


def _rust_candidates(path: str, module: list[str], name: str | None) -> tuple[str, ...]:
    """Exact paths for crate-relative ``self``/``super`` paths, suffixes otherwise."""
    if not module:
        return ()
    head, rest = module[0], module[1:]
    bases: list[list[str]]
    if head in ("self", "super"):
        base = _rust_module_dir(path)
        i = 1 if head == "self" else 0
        while i < len(module) and module[i] == "super":
            if not base:
                return ()
            base = base[:-1]
            i += 1
        bases = [[*base, *module[i:]]]
    elif head == "crate":
        bases = [["src", *rest], rest]
    else:
        # A child module of this one (``mod config;`` then ``use config::X``), else
        # another crate of a cargo workspace.
        bases = [[*_rust_module_dir(path), *module], [head, "src", *rest]]
    out: list[str] = []
    for base in bases:
        if name and name not in ("*", "self"):
            out.extend(_rust_files([*base, name]))
        out.extend(_rust_files(base))
        if base == ["src"]:
            out.extend(["src/lib.rs", "src/main.rs"])
    return tuple(dict.fromkeys(out))


def _rust_use(
    node: Node | None, prefix: list[str], path: str, line: int, refs: list[ImportRef]
) -> None:
    if node is None:
        return
    kind = node.type
    if kind in ("scoped_use_list",):
        inner = node.child_by_field_name("path")
        base = [*prefix, *text_of(inner).split("::")] if inner is not None else prefix
        _rust_use(node.child_by_field_name("list"), [p for p in base if p], path, line, refs)
    elif kind == "use_list":
        for item in node.named_children:
            _rust_use(item, prefix, path, line, refs)
    elif kind == "use_wildcard":
        inner = node.named_children[0] if node.named_children else None
        parts = [*prefix, *[p for p in text_of(inner).split("::") if p]]
        module = "::".join(parts)
        refs.append(ImportRef("*", module, "*", line, _rust_candidates(path, parts, None)))
    elif kind == "use_as_clause":
        parts = [*prefix, *[p for p in text_of(node.child_by_field_name("path")).split("::")]]
        alias = text_of(node.child_by_field_name("alias"))
        _rust_ref(parts, alias, path, line, refs)
    elif kind in ("scoped_identifier", "identifier", "self", "crate", "super"):
        parts = [*prefix, *[p for p in text_of(node).split("::") if p]]
        _rust_ref(parts, None, path, line, refs)


def _rust_ref(
    parts: list[str], alias: str | None, path: str, line: int, refs: list[ImportRef]
) -> None:
    if not parts:
        return
    if parts[-1] == "self":  # use a::{self} binds the module a
        parts = parts[:-1]
        if not parts:
            return
        refs.append(
            ImportRef(
                alias or parts[-1],
                "::".join(parts),
                None,
                line,
                _rust_candidates(path, parts, None),
            )
        )
        return
    module, name = parts[:-1], parts[-1]
    refs.append(
        ImportRef(
            alias or name,
            "::".join(module) or name,
            name if module else None,
            line,
            _rust_candidates(path, module or parts, name if module else None),
        )
    )


def imports(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in anchored(root, ANCHOR):
        line = node.start_point.row + 1
        if node.type == "mod_item":
            if node.child_by_field_name("body") is not None:
                continue
            name = text_of(node.child_by_field_name("name"))
            files = _rust_files([*_rust_module_dir(path), name])
            refs.append(ImportRef(name, f"self::{name}", None, line, tuple(files)))
            continue
        _rust_use(node.child_by_field_name("argument"), [], path, line, refs)
    return refs


# --- receiver types ------------------------------------------------------------------

SYNTAX = TypeSyntax(
    containers=word_set("Vec VecDeque HashSet BTreeSet LinkedList BinaryHeap Iter IntoIter"),
    mappings=word_set("HashMap BTreeMap IndexMap"),
    wrappers=word_set("Option Box Rc Arc RefCell Cell Mutex RwLock Cow"),
    firsts=word_set("Result"),
    empty=word_set("()"),
    self_types=word_set("Self"),
)


def _rust_fn(node: Node) -> MemberFact:
    body = child_field(node, "body")
    raw = (node.text or b"")[: (body.start_byte if body else node.end_byte) - node.start_byte]
    sig = " ".join(raw.decode("utf-8", "replace").split()).rstrip(";")
    ret = text_of(child_field(node, "return_type"))
    values = (Value(ret),) if ret else ()
    return MemberFact(
        text_of(child_field(node, "name")), "method", sig, node.start_point.row + 1, values
    )


def type_facts(root: Node) -> FileFacts:
    facts = FileFacts()
    doc = ""
    for node in root.named_children:
        if node.type == "line_comment" or node.type == "block_comment":
            doc = doc or first_doc_line(text_of(node))
            continue
        if node.type in ("struct_item", "trait_item", "enum_item"):
            name = text_of(child_field(node, "name"))
            start, end = rows(node)
            header = text_of(node).split("\n", 1)[0].rstrip()
            kind = _RUST_CONTAINERS.get(node.type, "struct")
            fact = ClassFact(name, kind, start + 1, end + 1, header, doc)
            body = child_field(node, "body")
            for child in body.named_children if body is not None else []:
                line = child.start_point.row + 1
                if child.type == "field_declaration":
                    ftype = text_of(child_field(child, "type"))
                    sig = " ".join(text_of(child).split())
                    fname = text_of(child_field(child, "name"))
                    fact.members.append(MemberFact(fname, "field", sig, line, (Value(ftype),)))
                elif child.type in ("function_item", "function_signature_item"):
                    fact.members.append(_rust_fn(child))
            old = facts.classes.get(name)
            if old is not None:  # an impl seen first
                fact.members.extend(old.members)
                fact.bases = old.bases
            facts.classes[name] = fact
        elif node.type == "impl_item":
            owner = _rust_type_name(child_field(node, "type"))
            fact = facts.classes.setdefault(owner, ClassFact(owner, "struct", 0, 0))
            trait = child_field(node, "trait")
            if trait is not None:
                fact.bases = (*fact.bases, text_of(trait))
            body = child_field(node, "body")
            for child in body.named_children if body is not None else []:
                if child.type == "function_item":
                    fact.members.append(_rust_fn(child))
        elif node.type == "function_item":
            ret = text_of(child_field(node, "return_type"))
            if ret:
                facts.returns[text_of(child_field(node, "name"))] = ret
        doc = ""
    return facts


def scope_at(root: Node, row: int) -> Bindings:
    """Parameters, ``let`` bindings above the cursor, ``self`` in an ``impl``."""
    scope = Bindings()
    owner = ""
    for node, before in path_to_row(root, row):
        for sibling in before:
            pattern = child_field(sibling, "pattern")
            if sibling.type != "let_declaration" or pattern is None:
                continue
            if pattern.type == "mut_pattern" and pattern.named_children:
                pattern = pattern.named_children[0]
            kind, value = child_field(sibling, "type"), child_field(sibling, "value")
            if pattern.type != "identifier":
                continue
            if kind is not None:
                scope.names[text_of(pattern)] = Value(text_of(kind))
            elif value is not None:
                scope.names[text_of(pattern)] = Value(expr_text=text_of(value))
        if node.type == "impl_item":
            owner = _rust_type_name(child_field(node, "type"))
        elif node.type in ("function_item", "closure_expression"):
            params = child_field(node, "parameters")
            for p in params.named_children if params is not None else []:
                if p.type == "self_parameter" and owner:
                    scope.instance["self"] = owner
                elif p.type == "parameter":
                    pat, kind = child_field(p, "pattern"), child_field(p, "type")
                    if pat is not None and pat.type == "identifier" and kind is not None:
                        scope.names[text_of(pat)] = Value(text_of(kind))
        elif node.type == "for_expression":
            pat, value = child_field(node, "pattern"), child_field(node, "value")
            if pat is not None and pat.type == "identifier" and value is not None:
                scope.names[text_of(pat)] = Value(expr_text=text_of(value), iterate=True)
    return scope


RULES = TypeRules(type_facts, scope_at, SYNTAX, frozenset({"self"}), members_across_files=True)
