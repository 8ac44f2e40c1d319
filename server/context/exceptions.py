"""Python slots that take an exception class: ``raise ‸``, ``except ‸``, ``raises(‸``.

At such a cursor the next name is almost always an exception, and a workspace usually
defines a family of them beside its other classes (``pytest.raises(pkg.‸`` among a
package's eighty exports). A class is an exception when a base, followed through the
workspace's own classes, is one of Python's built-in exceptions.
"""

from __future__ import annotations

import builtins
import re

from indexer.scope import Resolver
from server.context.cursor import Cursor
from server.context.typefacts import facts_of
from server.context.workspace import Layered

_BUILTIN = frozenset(
    n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
)
PYTHON = (".py", ".pyi")
# ``raise ``, ``except ``, ``except (A, ``, ``pytest.raises(``, ``assertRaises(``, each
# possibly followed by a qualifier (``pkg.``).
_SLOT = re.compile(
    r"(?:\braise\s+|\bexcept\*?\s*\(?\s*(?:[\w.]+\s*,\s*)*|[Rr]aises\s*\(\s*)"
    r"(?:[A-Za-z_]\w*\s*\.\s*)*$"
)
# ``class T(``, ``class T(Base, ``, ``isinstance(x, ``, ``issubclass(c, (A, ``, each
# possibly followed by a qualifier: a class is named there, not a function.
_CLASS_SLOT = re.compile(
    r"(?:^\s*class\s+\w+\s*\((?:[\w.]+\s*,\s*)*"
    r"|\bis(?:instance|subclass)\s*\([^,()]*,\s*\(?(?:[\w.]+\s*,\s*)*)"
    r"(?:[A-Za-z_]\w*\s*\.\s*)*$"
)
MAX_DEPTH = 8


def python_line_ends(path: str, cursor: Cursor, pattern: re.Pattern[str]) -> bool:
    """Whether, in a Python file, the cursor's line up to the name being typed matches
    ``pattern`` (the slots of this module and of ``predicates``)."""
    if not path.endswith(PYTHON) or not cursor.prefix_lines:
        return False
    line = cursor.prefix_lines[-1]
    return pattern.search(line[: len(line) - len(cursor.partial)]) is not None


def exception_slot(path: str, cursor: Cursor) -> bool:
    """Whether the cursor of a Python file is where an exception class is named."""
    return python_line_ends(path, cursor, _SLOT)


def class_slot(path: str, cursor: Cursor) -> bool:
    """Whether the cursor of a Python file is where a class is named (a base, a type
    tested)."""
    return python_line_ends(path, cursor, _CLASS_SLOT)


def is_class(layer: Layered, name: str, def_path: str) -> bool:
    """Whether ``name`` is a top-level class of the Python file ``def_path``."""
    entry = layer.file(def_path)
    facts = facts_of(entry) if entry is not None and def_path.endswith(PYTHON) else None
    return facts is not None and name in facts.classes


class ExceptionClasses:
    """Answers "is this workspace class an exception?", memoised for one query."""

    def __init__(self, layer: Layered) -> None:
        self.layer = layer
        self.resolver = Resolver(layer)
        self.known: dict[tuple[str, str], bool] = {}

    def __call__(self, name: str, def_path: str, depth: int = 0) -> bool:
        key = (def_path, name)
        if key in self.known:
            return self.known[key]
        self.known[key] = False  # a cycle of bases is not an exception
        found = depth <= MAX_DEPTH and self._derives(name, def_path, depth)
        self.known[key] = found
        return found

    def _derives(self, name: str, def_path: str, depth: int) -> bool:
        entry = self.layer.file(def_path)
        facts = facts_of(entry) if entry is not None and def_path.endswith(PYTHON) else None
        fact = facts.classes.get(name) if facts is not None else None
        if fact is None:
            return False
        for base in fact.bases:
            short = base.split("[", 1)[0].rsplit(".", 1)[-1].strip()
            if short in _BUILTIN:
                return True
            for meaning in self.resolver.lookup(def_path, short):
                d = meaning.definition
                if d is None or d.kind != "class":
                    continue
                if self(d.qualified, meaning.path, depth + 1):
                    return True
        return False
