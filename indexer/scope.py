"""What a name means in a file: the definition it reaches through that language's rules.

Asked at query time against whatever the index holds now (so an edit anywhere is seen at
once, and a file's rows never depend on which other files exist). The order is the
languages' own: a definition in the file itself, then a name the file imports, then the
names its package shares (Go and Java folders), then star imports (``from m import *``,
Java wildcards, C ``#include``, Rust ``use m::*``, TS ``export *``), each through package
re-exports. A qualified use ``q.name`` (``pkg.Name``, ``ns.X``, ``module::f``,
``Type.method``) looks ``q`` up first: a module gives its member, a type the member keyed
by that type (``Type.method``, the stored ``qualified``), so a bare name never matches a
method of an unrelated type. In C and C++ a function declared in an included header is
implemented in some source file: that definition comes first, the declaration after.

Per-language parts (which folder files share a package, which project files map import
specs to folders) come from ``indexer.grammars.scope``; nothing here names a language.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from indexer.grammars import scope as scope_rules
from indexer.languages import language_for_path
from indexer.resolve import Origin, PathIndex, follow_reexports, resolve_all, resolve_import
from indexer.types import ImportRef, SymbolDef

MAX_DEPTH = 6  # re-export hops
MAX_STAR_DEPTH = 3  # star imports of star imports (headers including headers)
MAX_IMPLEMENTATIONS = 4  # a declaration implemented in more files than this is ambiguous
TYPE_KINDS = frozenset({"class", "struct", "interface", "enum", "trait", "type"})
_HEADER_EXTS = frozenset({".h", ".hh", ".hpp", ".hxx", ".h++"})
_MODULE_STEMS = frozenset({"__init__", "index", "mod"})


class Workspace(Protocol):
    """What resolution reads from an index (the context builder's ``Layered`` view)."""

    def path_index(self) -> PathIndex: ...
    def imports_of(self, path: str) -> Sequence[ImportRef]: ...
    def definitions_of(self, path: str) -> list[SymbolDef]: ...
    def definitions(self, name: str) -> list[tuple[str, SymbolDef]]: ...
    def configs(self, names: Iterable[str]) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class Meaning:
    """Where a name leads: a definition, or a module (``definition`` None) made of
    ``files`` (one file, or a Go package's files). ``how`` says by which rule."""

    path: str
    definition: SymbolDef | None = None
    how: str = "import"
    files: tuple[str, ...] = ()


def is_header(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in _HEADER_EXTS


MODULE_DEPTH = 4  # star re-export hops followed for a module's members


class Resolver:
    """Lookups against one state of a workspace; holds per-file caches, so make one per
    query (or per eval run) rather than keeping it across edits."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.paths = ws.path_index()
        self._package: dict[str, frozenset[str]] = {}
        self._configs: dict[tuple[str, ...], dict[str, str]] = {}
        self._configured: dict[tuple[str, str], tuple[str, ...]] = {}
        self._reachable: dict[str, frozenset[str]] = {}
        self._included: dict[str, frozenset[str]] = {}
        self._followed: dict[tuple[str, str, int], Origin | None] = {}

    # --- imports -------------------------------------------------------------------------

    def with_config(self, ref: ImportRef, importer: str) -> ImportRef:
        """``ref`` with the exact candidates its project files give (go.mod's module path,
        tsconfig's paths) ahead of its own."""
        rules = scope_rules(language_for_path(importer))
        if not rules.config_files:
            return ref
        key = rules.config_files
        if key not in self._configs:
            self._configs[key] = self.ws.configs(key)
        memo = (ref.module, importer)
        extra = self._configured.get(memo)
        if extra is None:
            extra = rules.config(ref.module, importer, self._configs[key])
            self._configured[memo] = extra
        if not extra:
            return ref
        return dataclasses.replace(ref, candidates=tuple(dict.fromkeys(extra + ref.candidates)))

    def resolve_ref(self, ref: ImportRef, importer: str) -> Meaning | None:
        """Follow an import to the definition it binds, through re-exports and star imports;
        a module import (``import pkg.mod``, a Go package, ``import * as ns``) leads to the
        module's files. None for a module outside the workspace."""
        ref = self.with_config(ref, importer)
        if ref.name is None or ref.name == "*" or ref.name.endswith(".*"):
            files = tuple(p for p in resolve_all(ref, self.paths, importer) if p != importer)
            return Meaning(files[0], None, "import", files) if files else None
        target = resolve_import(ref, self.paths, importer)
        if target is None or target == importer:
            return None
        ws = self.ws
        origin = follow_reexports(
            ref.name, target, ws.imports_of, self.paths, ws.definitions_of, MAX_DEPTH
        )
        if origin is None:
            return Meaning(target, None, "import", (target,)) if _stem(target) == ref.name else None
        if origin.name is None:
            return Meaning(origin.path, None, "import", (origin.path,))
        d = self._defined(origin.path, origin.name)
        return Meaning(origin.path, d, "import") if d is not None else None

    # --- names ---------------------------------------------------------------------------

    def lookup(self, path: str, name: str, qualifier: str | None = None) -> list[Meaning]:
        """What ``name`` (or ``qualifier.name``) means in the file ``path``, best first;
        empty when the language's rules do not bring it into scope from the workspace."""
        if qualifier is not None:
            return self._members(path, qualifier, name)
        own = self._defined(path, name)
        if own is not None:
            return [Meaning(path, own, "local")]
        refs = self.ws.imports_of(path)
        for ref in refs:
            if ref.local_name == name:
                found = self.resolve_ref(ref, path)
                return [found] if found is not None else []  # an outside import shadows
        out = [
            Meaning(p, d, "package")
            for p, d in self.ws.definitions(name)
            if d.qualified == name and p in self.package(path)
        ]
        if not out:
            for ref in refs:
                if ref.local_name == "*":
                    out.extend(self._star(ref, path, name))
        if out and scope_rules(language_for_path(path)).implemented_elsewhere:
            out = self._declarations(path, self._implementations(out))
        return out

    def package(self, path: str) -> frozenset[str]:
        """The files sharing ``path``'s top-level names without an import."""
        found = self._package.get(path)
        if found is None:
            rules = scope_rules(language_for_path(path))
            siblings = self.paths.files_in(posixpath.dirname(path))
            found = frozenset(rules.package(path, siblings))
            self._package[path] = found
        return found

    def in_scope(self, path: str) -> list[tuple[str, SymbolDef]]:
        """Top-level definitions the file sees without naming them: its package's and its
        star imports' (not through re-export chains), where they are declared (a C header's
        prototype, not the function's body in some source file)."""
        out: list[tuple[str, SymbolDef]] = []
        for f in sorted(self.package(path)):
            out.extend((f, d) for d in self.ws.definitions_of(f) if d.qualified == d.name)
        seen = {path, *self.package(path)}
        queue = [(path, ref, 0) for ref in self.ws.imports_of(path) if ref.local_name == "*"]
        while queue:  # star imports, and theirs (a header including headers)
            importer, ref, depth = queue.pop(0)
            found = self.resolve_ref(ref, importer)
            if found is None:
                continue
            prefix = ref.name[:-1] if ref.name and ref.name.endswith(".*") else ""
            for f in found.files:
                if f in seen:
                    continue
                seen.add(f)
                if depth < MAX_STAR_DEPTH:
                    queue.extend(
                        (f, r, depth + 1) for r in self.ws.imports_of(f) if r.local_name == "*"
                    )
                # A header's functions as it declares them, not their bodies elsewhere
                # (``lookup`` gives those): the signature is what a call needs, and a
                # header's adjacent prototypes show as one snippet.
                out.extend(
                    (f, d)
                    for d in self.ws.definitions_of(f)
                    if d.qualified == prefix + d.name and (prefix or d.qualified == d.name)
                )
        return list(dict.fromkeys(out))

    def members_of(self, owner: Meaning) -> list[tuple[str, SymbolDef]]:
        """What ``owner.`` offers: a module's top-level definitions, a type's members (in
        its file and its package)."""
        if owner.definition is None:
            out: list[tuple[str, SymbolDef]] = []
            seen: set[str] = set()
            for f in owner.files or (owner.path,):
                self._module_members(f, out, seen, MODULE_DEPTH, top=True)
            return [(p, d) for p, d in dict.fromkeys(out) if not d.name.startswith("__")]
        if owner.definition.kind not in TYPE_KINDS:
            return []
        prefix = owner.definition.qualified + "."
        return [
            (f, d)
            for f in [owner.path, *sorted(self.package(owner.path))]
            for d in self.ws.definitions_of(f)
            if d.qualified == prefix + d.name
        ]

    def _module_members(
        self,
        f: str,
        out: list[tuple[str, SymbolDef]],
        seen: set[str],
        depth: int,
        top: bool = False,
    ) -> None:
        """A module's top-level definitions and what it re-exports (``__init__``, a TS
        barrel): its named re-exports resolved, star re-exports searched in turn, ``depth``
        files deep (``export * from "./classic"`` whose index exports ``* from "./schemas"``;
        one level only before, so such a namespace's members were missing)."""
        if f in seen:
            return
        seen.add(f)
        hidden = "__" if top else "_"  # a star import skips private names
        out.extend(
            (f, d)
            for d in self.ws.definitions_of(f)
            if d.qualified == d.name and not d.name.startswith(hidden)
        )
        for ref in self.ws.imports_of(f):
            if ref.local_name == "" or ref.name is None or not (top or ref.local_name == "*"):
                continue  # below the module itself only star imports pass names on
            found = self.resolve_ref(ref, f)
            if found is None:
                continue
            if found.definition is not None:
                out.append((found.path, found.definition))
            elif ref.local_name == "*" and depth > 0:  # from ._models import *, export * from
                for g in found.files:
                    self._module_members(g, out, seen, depth - 1)

    def _follow(self, name: str, path: str, depth: int) -> Origin | None:
        """``follow_reexports`` from ``path``, searching only star imports that can reach
        ``name``; memoised (many files include the same headers and look up the same names)."""
        key = (name, path, depth)
        if key in self._followed:
            return self._followed[key]
        found = None
        if name in self.reachable_names(path):
            ws = self.ws
            found = follow_reexports(
                name,
                path,
                ws.imports_of,
                self.paths,
                ws.definitions_of,
                depth,
                lambda f, n: n in self.reachable_names(f),
            )
        self._followed[key] = found
        return found

    def reachable_names(self, path: str) -> frozenset[str]:
        """Every name ``path`` defines or re-exports, through its star imports and theirs
        (any depth): a superset of what ``follow_reexports`` can find from there, so a name
        not in it is not looked for. Without it, each identifier of a C file walked the whole
        include graph (curl: hundreds of headers per name)."""
        found = self._reachable.get(path)
        if found is not None:
            return found
        names: set[str] = {"default"}  # followed to the definition it names
        seen = {path}
        queue = [path]
        while queue:
            f = queue.pop()
            done = self._reachable.get(f) if f != path else None
            if done is not None:
                names |= done
                continue
            names.update(d.qualified for d in self.ws.definitions_of(f))
            for ref in self.ws.imports_of(f):
                if ref.local_name != "*":
                    names.add(ref.local_name)
                    continue
                target = resolve_import(ref, self.paths, f)
                if target is not None and target not in seen:
                    seen.add(target)
                    queue.append(target)
        result = frozenset(names)
        self._reachable[path] = result
        return result

    def included(self, path: str) -> frozenset[str]:
        """The files ``path`` reaches through its star imports and theirs (a C file's
        include closure, any depth)."""
        found = self._included.get(path)
        if found is not None:
            return found
        seen = {path}
        queue = [path]
        while queue:
            f = queue.pop()
            for ref in self.ws.imports_of(f):
                if ref.local_name != "*":
                    continue
                target = resolve_import(ref, self.paths, f)
                if target is not None and target not in seen:
                    seen.add(target)
                    queue.append(target)
        result = frozenset(seen - {path})
        self._included[path] = result
        return result

    def _declarations(self, path: str, found: list[Meaning]) -> list[Meaning]:
        """``found`` and, after it, the declarations in headers ``path`` includes of the
        names found in source files: a test that includes ``x.c`` (which includes ``x.h``)
        sees the body first and the prototype too, and either tells a call its signature."""
        have = {(m.path, m.definition.start_line) for m in found if m.definition is not None}
        out = list(found)
        for m in found:
            d = m.definition
            if d is None or is_header(m.path):
                continue
            for p, x in self.ws.definitions(d.name):
                if (
                    x.qualified == d.qualified
                    and is_header(p)
                    and (p, x.start_line) not in have
                    and p in self.included(path)
                ):
                    have.add((p, x.start_line))
                    out.append(Meaning(p, x, "declaration"))
        return out

    def _defined(self, path: str, qualified: str) -> SymbolDef | None:
        for d in self.ws.definitions_of(path):
            if d.qualified == qualified:
                return d
        return None

    def _star(self, ref: ImportRef, path: str, name: str) -> list[Meaning]:
        found = self.resolve_ref(ref, path)
        if found is None:
            return []
        member = ref.name[:-1] + name if ref.name and ref.name.endswith(".*") else name
        files = set(found.files)
        hits = [
            Meaning(p, d, "star")
            for p, d in self.ws.definitions(name)
            if d.qualified == member and p in files
        ]
        if hits:
            return hits
        for f in found.files:
            origin = self._follow(member, f, MAX_DEPTH)
            if origin is not None and origin.name is not None and origin.path != path:
                d = self._defined(origin.path, origin.name)
                if d is not None:
                    return [Meaning(origin.path, d, "star")]
        return []

    def _members(self, path: str, qualifier: str, name: str) -> list[Meaning]:
        out: list[Meaning] = []
        for owner in self.lookup(path, qualifier):
            if owner.definition is None:
                out.extend(self._module_member(owner, name, path))
            elif owner.definition.kind in TYPE_KINDS:
                out.extend(self._type_member(owner.path, owner.definition, name))
        return out

    def _module_member(self, module: Meaning, name: str, path: str) -> list[Meaning]:
        files = set(module.files or (module.path,))
        hits = [
            Meaning(p, d, "member")
            for p, d in self.ws.definitions(name)
            if d.qualified == name and p in files
        ]
        if hits:
            return hits
        for f in module.files or (module.path,):
            origin = self._follow(name, f, 4)
            if origin is not None and origin.name is not None and origin.path != path:
                d = self._defined(origin.path, origin.name)
                if d is not None:
                    return [Meaning(origin.path, d, "member")]
        return []

    def _type_member(self, owner: str, typedef: SymbolDef, name: str) -> list[Meaning]:
        """``Type.member``: in the type's file, else its folder, else any file of the
        language (Go methods live anywhere in the package, Rust impls anywhere)."""
        key = f"{typedef.qualified}.{name}"
        rows = [(p, d) for p, d in self.ws.definitions(name) if d.qualified == key]
        language = language_for_path(owner)
        folder = posixpath.dirname(owner)
        for keep in (
            lambda p: p == owner,
            lambda p: posixpath.dirname(p) == folder,
            lambda p: language_for_path(p) == language,
        ):
            picked = [Meaning(p, d, "member") for p, d in rows if keep(p)]
            if picked:
                return picked[:MAX_IMPLEMENTATIONS]
        return []

    def _implementations(self, found: list[Meaning]) -> list[Meaning]:
        """A declaration in a header: its definitions in source files first (the one named
        like the header, then files including it), the declaration after."""
        out: list[Meaning] = []
        for m in found:
            d = m.definition
            if d is None or not is_header(m.path):
                out.append(m)
                continue
            rows = [
                (p, x)
                for p, x in self.ws.definitions(d.name)
                if x.qualified == d.qualified and not is_header(p) and p != m.path
            ]
            stem = _stem(m.path)
            header = posixpath.basename(m.path)

            def rank(row: tuple[str, SymbolDef], stem: str = stem, header: str = header) -> int:
                p = row[0]
                if _stem(p) == stem:
                    return 0
                includes = any(
                    posixpath.basename(r.module) == header for r in self.ws.imports_of(p)
                )
                return 1 if includes else 2

            rows.sort(key=rank)
            if len(rows) <= MAX_IMPLEMENTATIONS:
                out.extend(Meaning(p, x, "implementation") for p, x in rows)
            out.append(m)
        return out


def _stem(path: str) -> str:
    stem = posixpath.splitext(posixpath.basename(path))[0]
    if stem in _MODULE_STEMS:
        return posixpath.basename(posixpath.dirname(path))
    return stem
