"""Eval points follow each language's scope rules: a Go package's sibling names and
``pkg.Name`` through go.mod count as cross-file uses, a method of an unrelated type never."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.evaluation.points import build_points
from server.evaluation.retrieval import evaluate_retrieval

FILLER = "".join(f"\tx{i} := {i}\n\t_ = x{i}\n" for i in range(6))
FILES = {
    "go.mod": "module example.com/shop\n",
    "item.go": "package shop\n\n// Item is one line.\ntype Item struct{ SKU string }\n\n"
    "func (i Item) Add() {}\n",
    "tax/tax.go": "package tax\n\n// Rate is the VAT rate.\nfunc Rate() float64 { return 0.2 }\n",
    "checkout.go": 'package shop\n\nimport "example.com/shop/tax"\n\nfunc Checkout() float64 {\n'
    f"{FILLER}\tit := Item{{}}\n\tit.Add()\n\tAdd()\n\treturn tax.Rate()\n}}\n\nfunc Add() {{}}\n",
}


@pytest.fixture(scope="module")
def go_ws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    root = tmp_path_factory.mktemp("points_go")
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sync(root, IndexSettings(embedder="none"))
    return root, open_index(root)


def test_go_points_are_package_names_and_qualified_package_members(
    go_ws: tuple[Path, Any],
) -> None:
    root, index = go_ws
    points = build_points(root, index)
    got = {(p.path, p.name, p.def_path, p.def_line, p.def_qualified) for p in points}
    assert got == {
        ("checkout.go", "Item", "item.go", 4, "Item"),  # a sibling file of the package
        ("checkout.go", "Rate", "tax/tax.go", 4, "Rate"),  # tax.Rate via go.mod's module
    }  # `it.Add` (a method) and `Add` (defined in the file itself) are not points
    for p in points:
        line = (root / p.path).read_text().split("\n")[p.line]
        assert line[p.col :].startswith(p.name)


def test_go_eval_never_returns_the_cursor_region(go_ws: tuple[Path, Any]) -> None:
    root, index = go_ws
    report = evaluate_retrieval(root, index, build_points(root, index))
    assert report.hits["context"][5] == 1.0


SHADOW = {
    "go.mod": "module example.com/cli\n",
    "args.go": "package cli\n\nvar arg = 1\n\n// Value is a flag's value.\ntype Value struct{}\n\n"
    "// Flag is an option.\ntype Flag struct{ Value int }\n",
    "run.go": "package cli\n\nfunc Run(xs []int) int {\n"
    f"{FILLER}\tfor _, arg := range xs {{\n\t\t_ = arg\n\t}}\n"
    "\tf := Flag{Value: 1}\n\treturn f.Value\n}\n",
}
C_FILES = {
    "list.h": "int list_push(int v);\n",
    "list.c": '#include "list.h"\n\nint list_push(int v)\n{\n    return v;\n}\n',
    "main.c": '#include "list.h"\n\nint main(void)\n{\n'
    + "".join(f"    int x{i} = {i};\n" for i in range(10))
    + "    return list_push(x0);\n}\n",
}


def _indexed(root: Path, files: dict[str, str]) -> Any:
    from indexer.search import open_index
    from indexer.sync import sync
    from server.settings import IndexSettings

    for rel, text in files.items():
        (root / rel).write_text(text)
    sync(root, IndexSettings(embedder="none"))
    return open_index(root)


def test_local_declarations_and_literal_keys_are_not_cross_file_uses(tmp_path: Path) -> None:
    index = _indexed(tmp_path, SHADOW)
    got = {(p.path, p.name) for p in build_points(tmp_path, index)}
    # `arg` is declared by the loop (and shadows the package's), `Value:` names a field.
    assert got == {("run.go", "Flag")}


def test_a_c_function_is_answered_by_its_implementation_or_its_declaration(
    tmp_path: Path,
) -> None:
    index = _indexed(tmp_path, C_FILES)
    (point,) = build_points(tmp_path, index)
    assert (point.name, point.def_path, point.def_line) == ("list_push", "list.c", 3)
    assert point.targets() == [("list.c", 3), ("list.h", 1)]


MACRO_FILES = {
    "fail.h": "/* Report and stop. */\n#define fail(msg) \\\n    do { \\\n        puts(msg); \\\n"
    "        exit(1); \\\n    } while (0)\n",
    "main.c": '#include "fail.h"\n\nint main(void)\n{\n'
    + "".join(f"    int v{i} = {i};\n" for i in range(11))
    + '    fail("done");\n}\n',
}


def test_a_multi_line_c_macro_is_declared_on_its_define_line(tmp_path: Path) -> None:
    """``#define`` is where a C macro is declared (not a ``#`` comment to skip): the point's
    target is that line, not the first line of the macro's body."""
    index = _indexed(tmp_path, MACRO_FILES)
    (point,) = build_points(tmp_path, index)
    assert (point.name, point.def_path, point.def_line) == ("fail", "fail.h", 2)
