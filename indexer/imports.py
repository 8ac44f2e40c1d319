"""The names a file imports, with the workspace paths each may come from.

Candidates are computed from the importing file's path and the import text alone (never
from which files exist), so a file's rows stay valid when other files change:

- a relative import gives exact workspace-relative paths ("pkg/m.py");
- an absolute import gives path suffixes ("a/b.py" matches "src/a/b.py");
- a candidate ending in "/" names a folder: any file directly inside it (Go packages,
  Java wildcard imports).

Conventions for ``ImportRef``: ``local_name`` is "*" and ``name`` is "*" for star imports
(``from m import *``, ``export * from``, C ``#include``); ``name`` is None when the module
itself is bound (``import a.b as c``); ``import a.b`` binds ``local_name`` "a.b", the dotted
expression the file uses; a side-effect import (``import './x'``) has ``local_name`` "".
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from tree_sitter import Node

from indexer.definitions import text_of
from indexer.types import ImportRef

# --- Python -------------------------------------------------------------------------------


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


def _python(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures(language, root):
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


# --- JavaScript / TypeScript --------------------------------------------------------------

_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs")
_JS_COMPILED = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_JS_ASSETS = frozenset({".json", ".css", ".scss", ".less", ".vue", ".svelte", ".d.ts", ".mts"})


def _js_variants(base: str) -> list[str]:
    """Files an extensionless or compiled-extension specifier may name."""
    stem, ext = posixpath.splitext(base)
    if ext in _JS_EXTENSIONS or ext in _JS_ASSETS:
        # TypeScript's ESM style imports "./x.js" for the source file x.ts.
        return [base, *(stem + alt for alt in _JS_COMPILED.get(ext, ()))]
    prefix = f"{base}/" if base else ""
    return [base + e for e in _JS_EXTENSIONS if base] + [
        f"{prefix}index{e}" for e in _JS_EXTENSIONS
    ]


def _join(importer: str, relative: str) -> str | None:
    """``relative`` against the importer's folder, normalised; None if it leaves the root."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(importer), relative))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../") or joined.startswith("/"):
        return None
    return joined


def _js_candidates(importer: str, spec: str) -> tuple[str, ...]:
    if spec.startswith("."):
        base = _join(importer, spec)
        return tuple(_js_variants(base)) if base is not None else ()
    if spec.startswith(("@/", "~/", "#/")):
        spec = spec[2:]
    elif spec.startswith("@") or "/" not in spec:
        return ()  # a package from node_modules
    return tuple(_js_variants(spec.strip("/")))


def _string_value(node: Node | None) -> str:
    """A string literal's content (quotes of any kind removed)."""
    text = text_of(node).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text


def _javascript(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures(language, root):
        line = node.start_point.row + 1
        if node.type == "call_expression":
            if text_of(node.child_by_field_name("function")) != "require":
                continue
            args = node.child_by_field_name("arguments")
            spec = _string_value(args.named_children[0] if args and args.named_children else None)
            candidates = _js_candidates(path, spec)
            parent = node.parent
            while parent is not None and parent.type == "await_expression":
                parent = parent.parent
            target = parent.child_by_field_name("name") if parent is not None else None
            if parent is None or parent.type != "variable_declarator" or target is None:
                refs.append(ImportRef("", spec, None, line, candidates))
            elif target.type == "identifier":
                refs.append(ImportRef(text_of(target), spec, None, line, candidates))
            elif target.type == "object_pattern":
                for item in target.named_children:
                    if item.type == "shorthand_property_identifier_pattern":
                        name = text_of(item)
                        refs.append(ImportRef(name, spec, name, line, candidates))
                    elif item.type == "pair_pattern":
                        key = text_of(item.child_by_field_name("key"))
                        value = text_of(item.child_by_field_name("value"))
                        refs.append(ImportRef(value, spec, key, line, candidates))
            continue
        source = node.child_by_field_name("source")
        clause_list = [c for c in node.named_children if c.type in _JS_CLAUSES]
        if source is None:
            require = [c for c in node.named_children if c.type == "import_require_clause"]
            if not require:
                continue
            source = require[0].child_by_field_name("source")
            spec = _string_value(source)
            local = text_of(require[0].named_children[0]) if require[0].named_children else ""
            refs.append(ImportRef(local, spec, None, line, _js_candidates(path, spec)))
            continue
        spec = _string_value(source)
        candidates = _js_candidates(path, spec)
        before = len(refs)
        for clause in clause_list:
            _js_clause(clause, spec, line, candidates, refs)
        if len(refs) == before:
            if node.type == "export_statement":
                refs.append(ImportRef("*", spec, "*", line, candidates))  # export * from
            else:
                refs.append(ImportRef("", spec, None, line, candidates))  # side effect only
    return refs


_JS_CLAUSES = frozenset({"import_clause", "export_clause", "namespace_export"})


def _js_clause(
    clause: Node, spec: str, line: int, candidates: tuple[str, ...], refs: list[ImportRef]
) -> None:
    if clause.type == "namespace_export":
        local = text_of(clause.named_children[0]) if clause.named_children else "*"
        refs.append(ImportRef(local, spec, None, line, candidates))
        return
    for item in clause.named_children:
        if item.type == "identifier":  # import D from
            refs.append(ImportRef(text_of(item), spec, "default", line, candidates))
        elif item.type == "namespace_import":
            local = text_of(item.named_children[0]) if item.named_children else "*"
            refs.append(ImportRef(local, spec, None, line, candidates))
        elif item.type in ("named_imports", "export_clause"):
            _js_clause(item, spec, line, candidates, refs)
        elif item.type in ("import_specifier", "export_specifier"):
            name = text_of(item.child_by_field_name("name"))
            alias = item.child_by_field_name("alias")
            refs.append(ImportRef(text_of(alias) if alias else name, spec, name, line, candidates))


# --- Go -----------------------------------------------------------------------------------

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


def _go(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    specs: list[Node] = []
    for declaration in _captures(language, root):
        for child in declaration.named_children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.named_children if c.type == "import_spec")
    for spec_node in specs:
        spec = _string_value(spec_node.child_by_field_name("path"))
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


# --- Rust ---------------------------------------------------------------------------------


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
        bases = [[head, "src", *rest]]  # another crate of a cargo workspace
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


def _rust(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures(language, root):
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


# --- Java ---------------------------------------------------------------------------------


def _java(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures(language, root):
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
        if wildcard:
            candidates = (f"{'/'.join(parts)}.java",) if is_static else (f"{'/'.join(parts)}/",)
            refs.append(ImportRef("*", dotted, "*", line, candidates))
        elif is_static and len(parts) > 1:
            module = ".".join(parts[:-1])
            refs.append(
                ImportRef(parts[-1], module, parts[-1], line, (f"{'/'.join(parts[:-1])}.java",))
            )
        else:
            module = ".".join(parts[:-1])
            refs.append(ImportRef(parts[-1], module, parts[-1], line, (f"{'/'.join(parts)}.java",)))
    return refs


# --- C / C++ ------------------------------------------------------------------------------


def _c(language: str, path: str, root: Node) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in _captures(language, root):
        target = node.child_by_field_name("path")
        if target is None:
            continue
        raw = text_of(target).strip()
        spec = raw[1:-1] if len(raw) >= 2 and raw[0] in '"<' else raw
        if not spec:
            continue
        candidates: list[str] = []
        if raw.startswith('"'):
            near = _join(path, spec)
            if near is not None:
                candidates.append(near)
        cleaned = posixpath.normpath(spec)
        if not cleaned.startswith(".."):
            candidates.append(cleaned)
        line = node.start_point.row + 1
        refs.append(ImportRef("*", spec, "*", line, tuple(dict.fromkeys(candidates))))
    return refs


# --- registry -----------------------------------------------------------------------------

# Where imports can start (a fast scan of the bytes), and the nodes they belong to. Only the
# few anchored spots are looked up in the tree, instead of walking all of it.
_JS_ANCHOR = (
    re.compile(rb"\b(?:import|export|require)\b"),
    frozenset({"import_statement", "export_statement", "call_expression"}),
)
_C_ANCHOR = (re.compile(rb"(?m)^[ \t]*#[ \t]*include"), frozenset({"preproc_include"}))
_ANCHORS: dict[str, tuple[re.Pattern[bytes], frozenset[str]]] = {
    "python": (
        re.compile(rb"(?m)^[ \t]*(?:import|from)\b"),
        frozenset({"import_statement", "import_from_statement"}),
    ),
    "javascript": _JS_ANCHOR,
    "typescript": _JS_ANCHOR,
    "tsx": _JS_ANCHOR,
    "go": (re.compile(rb"\bimport\b"), frozenset({"import_declaration"})),
    "rust": (re.compile(rb"\b(?:use|mod)\b"), frozenset({"use_declaration", "mod_item"})),
    "java": (re.compile(rb"(?m)^[ \t]*import\b"), frozenset({"import_declaration"})),
    "c": _C_ANCHOR,
    "cpp": _C_ANCHOR,
}

Extractor = Callable[[str, str, Node], list[ImportRef]]

_EXTRACTORS: dict[str, Extractor] = {
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


def _captures(language: str, root: Node) -> list[Node]:
    """The import-like nodes of a tree in source order."""
    anchor = _ANCHORS.get(language)
    data = root.text
    if anchor is None or data is None:
        return []
    pattern, targets = anchor
    found: dict[tuple[int, int, str], Node] = {}
    for match in pattern.finditer(data):
        node = root.named_descendant_for_byte_range(match.start(), match.end())
        for _ in range(4):
            if node is None or node.type in targets:
                break
            node = node.parent
        if node is not None and node.type in targets:
            found.setdefault((node.start_byte, node.end_byte, node.type), node)
    return [found[key] for key in sorted(found)]


def extract_imports(language: str, path: str, root: Node) -> list[ImportRef]:
    """All imports of a parsed file, in source order."""
    extractor = _EXTRACTORS.get(language)
    if extractor is None:
        return []
    return extractor(language, path, root)
