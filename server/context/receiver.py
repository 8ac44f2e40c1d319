"""The type of the receiver before a dot, from the index alone.

A chain (``self.jar.cookies()``) is evaluated step by step over the workspace: a name is
looked up in the cursor's scope (parameters, locals, the instance name), then the file's
module-level names, its imports (resolved to definitions), its own definitions, and a class
with that name unique in the workspace; an attribute is looked up among a class's members
and those of its workspace bases; a call of a class gives an instance, a call of a function
or method its declared return type. Each language's rules (``indexer.grammars``) say what
its files declare; nothing here knows a language. Whatever cannot be followed is None:
unknown stays unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.grammars.base import Bindings, ClassFact, FileFacts, MemberFact, TypeRules, Value
from indexer.grammars.exprs import Step, TypeRef, awaited, element_of, parse_chain, parse_type
from indexer.scope import Resolver
from indexer.types import SymbolDef
from server.context.typefacts import facts_of, rules_for
from server.context.workspace import Layered

CLASS_KINDS = frozenset({"class", "struct", "interface", "enum", "trait", "type", "record"})
MAX_DEPTH = 8
MAX_BASES = 12


@dataclass(frozen=True, slots=True)
class ClassRef:
    """A class-like definition of the workspace: its file and qualified name."""

    path: str
    name: str
    kind: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Val:
    """What an expression evaluates to: an ``instance`` or the ``class`` itself (``cls``),
    a ``typed`` value (a type as written in ``path``), a ``callable`` (its return type as
    written in ``path``), or a ``module`` file."""

    kind: str
    cls: ClassRef | None = None
    ref: TypeRef | None = None
    path: str = ""
    returns: str = ""
    owner: ClassRef | None = None  # the class whose ``Self`` a type text may name
    files: tuple[str, ...] = ()  # a module made of several files (a Go package)


@dataclass
class Inference:
    """Type inference over one layered view, memoised for one request."""

    layer: Layered
    _facts: dict[str, FileFacts | None] = field(default_factory=dict)
    _rules: dict[str, TypeRules | None] = field(default_factory=dict)
    _mro: dict[ClassRef, list[ClassRef]] = field(default_factory=dict)
    resolver: Resolver = field(init=False)

    def __post_init__(self) -> None:
        self.resolver = Resolver(self.layer)

    # --- per-file facts --------------------------------------------------------------

    def facts(self, path: str) -> FileFacts | None:
        if path not in self._facts:
            entry = self.layer.file(path)
            self._facts[path] = facts_of(entry) if entry is not None else None
        return self._facts[path]

    def rules(self, path: str) -> TypeRules | None:
        if path not in self._rules:
            entry = self.layer.file(path)
            self._rules[path] = rules_for(entry) if entry is not None else None
        return self._rules[path]

    def class_fact(self, cls: ClassRef) -> ClassFact | None:
        facts = self.facts(cls.path)
        return facts.classes.get(cls.name) if facts is not None else None

    # --- names -----------------------------------------------------------------------

    def class_ref(self, path: str, d: SymbolDef) -> ClassRef:
        return ClassRef(path, d.qualified, d.kind, d.start_line, d.end_line)

    def class_named(self, path: str, qualified: str) -> ClassRef | None:
        """A class by its qualified name, as seen from ``path``: declared there, else in
        scope there (a Go method's receiver type lives in another file of the package)."""
        for d in self.layer.definitions_of(path):
            if d.qualified == qualified and d.kind in CLASS_KINDS:
                return self.class_ref(path, d)
        val = self.lookup_global(qualified, path) if "." not in qualified else None
        return val.cls if val is not None and val.kind == "class" else None

    def _definition_val(self, path: str, d: SymbolDef, depth: int) -> Val | None:
        if d.kind in CLASS_KINDS:
            return Val("class", cls=self.class_ref(path, d))
        facts = self.facts(path)
        if d.kind in ("function", "method"):
            returns = facts.returns.get(d.qualified, "") if facts is not None else ""
            return Val("callable", path=path, returns=returns)
        if facts is not None and d.qualified in facts.names:
            return self.eval_value(facts.names[d.qualified], path, Bindings(), None, depth + 1)
        return None

    def lookup(self, name: str, path: str, scope: Bindings, depth: int = 0) -> Val | None:
        """What ``name`` means at a point of ``path`` with ``scope``."""
        if depth > MAX_DEPTH:
            return None
        if name in scope.instance:
            cls = self.class_named(path, scope.instance[name])
            return Val("instance", cls=cls) if cls is not None else None
        if name in scope.classes:
            cls = self.class_named(path, scope.classes[name])
            return Val("class", cls=cls) if cls is not None else None
        if name in scope.names:
            inner = Bindings(
                {k: v for k, v in scope.names.items() if k != name}, scope.instance, scope.classes
            )
            return self.eval_value(scope.names[name], path, inner, None, depth + 1)
        return self.lookup_global(name, path, depth)

    def lookup_global(self, name: str, path: str, depth: int = 0) -> Val | None:
        """``name`` at the top level of ``path``: its module-level names, then what the
        language's scope rules make of it (its own definitions, imports, package, star
        imports: ``indexer.scope``), else a class of that name unique in the workspace
        (or in the file's folder) when no import binds the name."""
        facts = self.facts(path)
        if facts is not None and name in facts.names:
            return self.eval_value(facts.names[name], path, Bindings(), None, depth + 1)
        found = self.resolver.lookup(path, name)
        if found:
            meaning = found[0]
            if meaning.definition is None:
                return Val("module", path=meaning.path, files=meaning.files)
            return self._definition_val(meaning.path, meaning.definition, depth)
        if any(ref.local_name == name for ref in self.layer.imports_of(path)):
            return None  # imported from outside the workspace
        rows = [(p, d) for p, d in self.layer.definitions(name) if d.kind in CLASS_KINDS]
        if len({(p, d.qualified) for p, d in rows}) > 1:
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            rows = [(p, d) for p, d in rows if (p.rsplit("/", 1)[0] if "/" in p else "") == folder]
        if len({(p, d.qualified) for p, d in rows}) == 1:
            return Val("class", cls=self.class_ref(*rows[0]))
        return None

    def _module_member(self, val: Val, name: str, depth: int) -> Val | None:
        """``module.name``: a top-level definition of the module's files (a Go package
        has several), else what the module imports under that name."""
        for f in val.files or (val.path,):
            for d in self.layer.definitions_of(f):
                if d.qualified == name:
                    return self._definition_val(f, d, depth)
        return self.lookup_global(name, val.path, depth + 1)

    # --- values and chains -----------------------------------------------------------

    def eval_value(
        self, value: Value, path: str, scope: Bindings, owner: ClassRef | None, depth: int = 0
    ) -> Val | None:
        if depth > MAX_DEPTH:
            return None
        if value.type_text:
            rules = self.rules(path)
            ref = parse_type(value.type_text, rules.syntax) if rules is not None else None
            if ref is None:
                return None
            val: Val | None = Val("typed", ref=ref, path=path, owner=owner)
        elif value.expr_text:
            steps = parse_chain(value.expr_text)
            val = self.eval_chain(steps, path, scope, depth + 1) if steps else None
        else:
            return None
        if value.iterate and val is not None:
            val = self._element(val, index=False)
        return val

    def eval_chain(
        self, steps: list[Step], path: str, scope: Bindings, depth: int = 0
    ) -> Val | None:
        if not steps or steps[0][0] != "name" or depth > MAX_DEPTH:
            return None
        val = self.lookup(steps[0][1], path, scope, depth)
        for kind, arg in steps[1:]:
            if val is None:
                return None
            if kind == "attr":
                val = self._attr(val, arg, depth)
            elif kind == "call":
                val = self._call(val)
            elif kind == "index":
                val = self._element(val, index=True)
            elif kind == "await":
                val = self._await(val)
        return val

    def instance_class(self, val: Val | None) -> ClassRef | None:
        """The class of an instance (a typed value resolved to its workspace class)."""
        if val is None:
            return None
        if val.kind == "instance":
            return val.cls
        if val.kind == "typed" and val.ref is not None:
            rules = self.rules(val.path)
            if rules is not None and val.ref.name in rules.syntax.self_types:
                return val.owner
            named = self.eval_chain(parse_chain(val.ref.name) or [], val.path, Bindings())
            if named is not None and named.kind == "class":
                return named.cls
        return None

    def _typed_in(self, val: Val) -> tuple[TypeRef, TypeRules] | None:
        if val.kind != "typed" or val.ref is None:
            return None
        rules = self.rules(val.path)
        return (val.ref, rules) if rules is not None else None

    def _element(self, val: Val, index: bool) -> Val | None:
        typed = self._typed_in(val)
        if typed is None:
            return None
        elem = element_of(typed[0], typed[1].syntax, index)
        return Val("typed", ref=elem, path=val.path, owner=val.owner) if elem else None

    def _await(self, val: Val) -> Val | None:
        typed = self._typed_in(val)
        if typed is None:
            return val
        inner = awaited(typed[0], typed[1].syntax)
        return Val("typed", ref=inner, path=val.path, owner=val.owner) if inner else val

    def _call(self, val: Val) -> Val | None:
        if val.kind == "class":
            return Val("instance", cls=val.cls)
        if val.kind == "callable" and val.returns:
            return self.eval_value(Value(type_text=val.returns), val.path, Bindings(), val.owner)
        return None

    def _attr(self, val: Val, name: str, depth: int) -> Val | None:
        if val.kind == "module":
            return self._module_member(val, name, depth)
        cls = val.cls if val.kind == "class" else self.instance_class(val)
        if cls is None:
            return None
        found = self.find_member(cls, name)
        if found is None:
            return None
        owner, member = found
        if member.kind == "method":
            returns = member.values[0].type_text if member.values else ""
            return Val("callable", path=owner.path, returns=returns, owner=owner)
        if member.kind == "class":
            inner = self.class_named(owner.path, f"{owner.name}.{member.name}")
            return Val("class", cls=inner) if inner is not None else None
        rules = self.rules(owner.path)
        selves = {n: owner.name for n in (rules.self_names if rules else ())}
        for value in member.values:
            got = self.eval_value(value, owner.path, Bindings(instance=selves), owner, depth + 1)
            if got is not None and (got.kind != "typed" or self.instance_class(got) or got.ref):
                return got
        return None

    # --- members -----------------------------------------------------------------------

    def mro(self, cls: ClassRef) -> list[ClassRef]:
        """The class, then its workspace bases depth first (each once)."""
        if cls in self._mro:
            return self._mro[cls]
        out: list[ClassRef] = []
        stack = [cls]
        while stack and len(out) < MAX_BASES:
            c = stack.pop(0)
            if c in out:
                continue
            out.append(c)
            fact = self.class_fact(c)
            for base in fact.bases if fact is not None else ():
                ref = self._base_ref(base, c.path)
                if ref is not None and ref not in out:
                    stack.append(ref)
        self._mro[cls] = out
        return out

    def _base_ref(self, text: str, path: str) -> ClassRef | None:
        rules = self.rules(path)
        ref = parse_type(text, rules.syntax) if rules is not None else None
        if ref is None:
            return None
        named = self.eval_chain(parse_chain(ref.name) or [], path, Bindings())
        return named.cls if named is not None and named.kind == "class" else None

    def own_members(self, cls: ClassRef) -> list[MemberFact]:
        """Members a class declares: in its file, and for languages whose methods live
        apart from the type (Go, Rust), in the other files of its folder."""
        fact = self.class_fact(cls)
        out = list(fact.members) if fact is not None else []
        rules = self.rules(cls.path)
        if rules is not None and rules.members_across_files:
            folder = cls.path.rsplit("/", 1)[0] if "/" in cls.path else ""
            for p in self.layer.path_index().files_in(folder):
                if p == cls.path:
                    continue
                facts = self.facts(p)
                other = facts.classes.get(cls.name) if facts is not None else None
                if other is not None:
                    out.extend(other.members)
        return out

    def members(self, cls: ClassRef) -> list[tuple[ClassRef, MemberFact]]:
        """Every member of the class and its workspace bases, the nearest declaration of
        each name first."""
        seen: set[str] = set()
        out: list[tuple[ClassRef, MemberFact]] = []
        for c in self.mro(cls):
            for m in self.own_members(c):
                if m.name not in seen:
                    seen.add(m.name)
                    out.append((c, m))
        return out

    def find_member(self, cls: ClassRef, name: str) -> tuple[ClassRef, MemberFact] | None:
        for c in self.mro(cls):
            for m in self.own_members(c):
                if m.name == name:
                    return c, m
        return None
