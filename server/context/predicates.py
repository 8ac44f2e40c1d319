"""Python slots that take a truth value: ``if ‸``, ``and not ‸``, ``or ‸``.

There the next name, when it is a workspace function, is almost always a predicate
(``if leaf.type == x and not ‸is_walrus_assignment(child)``), while the names the rest of
the context favours are often constants and helpers used nearby. A function is a
predicate when its declared result is ``bool`` or a type guard (``TypeGuard[Leaf]``,
``TypeIs[T]``).
"""

from __future__ import annotations

import re

from server.context.cursor import Cursor
from server.context.exceptions import PYTHON, python_line_ends
from server.context.typefacts import facts_of
from server.context.workspace import Layered

# A condition's start or a boolean operator, possibly opening brackets: the name starts
# an operand whose truth is tested. Not ``assert ‸``: a test asserts mostly comparisons
# (``assert find_app(m) == app``), whose left side is any function.
_SLOT = re.compile(r"(?:^|[\s(])(?:if|elif|while|not|and|or)\s+\(*\s*$")
_PREDICATE = re.compile(r"^\s*(?:bool|(?:\w+\.)?(?:TypeGuard|TypeIs)\s*\[.*\])\s*$")


def truth_slot(path: str, cursor: Cursor) -> bool:
    """Whether the cursor of a Python file starts an operand whose truth is tested."""
    return python_line_ends(path, cursor, _SLOT)


def is_predicate(layer: Layered, name: str, def_path: str) -> bool:
    """Whether ``name`` is a function of the Python file ``def_path`` declared to return
    ``bool`` or a type guard."""
    if not def_path.endswith(PYTHON):
        return False
    entry = layer.file(def_path)
    facts = facts_of(entry) if entry is not None else None
    result = facts.returns.get(name) if facts is not None else None
    return result is not None and _PREDICATE.match(result) is not None
