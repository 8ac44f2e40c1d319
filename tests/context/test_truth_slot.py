"""Where a Python condition tests a truth value (``if ‸``, ``and not ‸``) the workspace's
predicates (functions declared to return ``bool`` or a type guard) rank before its other
functions, even when the lines above speak of those others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_scope import index_files, top

from server.context.cursor import locate
from server.context.predicates import truth_slot

HELPERS = ("child_towards", "first_leaf_of", "last_leaf_of", "leaf_parent", "leaf_sibling")

PKG = {
    "pkg/__init__.py": "",
    "pkg/tree.py": "".join(
        f'def {n}(leaf: "Leaf") -> "Leaf | None":\n    """The {n} of a leaf."""\n'
        "    return leaf.parent\n\n\n"
        for n in HELPERS
    ),
    "pkg/tests.py": (
        'def is_walrus(node: "Leaf") -> bool:\n    """Whether node is a walrus."""\n'
        "    return node.type == 1\n\n\n"
        'def is_paren(node: "Leaf") -> "TypeGuard[Leaf]":\n    """Whether node is a paren."""\n'
        "    return node.type == 2\n"
    ),
    # The lines above speak of leaves, children and siblings, not of walruses.
    "pkg/lines.py": (
        f"from pkg.tree import {', '.join(HELPERS)}\nfrom pkg.tests import is_paren, is_walrus\n"
        "\n\ndef walk(leaf, child, sibling):\n"
        + "    child = leaf.child(sibling)  # the leaf's child and sibling\n" * 6
        + "    sibling = leaf.sibling(child)  # the leaf's sibling and child\n" * 6
        + "    if leaf.type == 3 and not <|>is_walrus(child):\n        return leaf\n"
    ),
}


@pytest.fixture(scope="module")
def pkg(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root: Path = tmp_path_factory.mktemp("truth") / "ws"
    return index_files(root, PKG)


@pytest.mark.parametrize(
    ("line", "slot"),
    [
        ("    if ", True),
        ("    elif x and not ", True),
        ("    while (", True),
        ("    return a or ", True),
        ("    assert ", False),
        ("    x = ", False),
        ("    if x == ", False),
        ("    notify(", False),
    ],
)
def test_the_slot_is_where_python_tests_a_truth_value(line: str, slot: bool) -> None:
    assert truth_slot("a.py", locate(line, 0, len(line))) is slot
    assert not truth_slot("a.go", locate(line, 0, len(line)))


def test_a_predicate_ranks_first_in_a_condition(pkg: Any) -> None:
    snippets = top(pkg, PKG, "pkg/lines.py", k=5)
    assert snippets and snippets[0][0] == "pkg/tests.py", snippets
