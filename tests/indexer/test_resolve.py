"""Import resolution against indexed paths, and following package re-exports."""

from __future__ import annotations

import time

from indexer.chunker import parse_file
from indexer.resolve import Origin, PathIndex, follow_reexports, resolve_all, resolve_import
from indexer.types import ImportRef, ParsedFile

WORKSPACE = {
    "src/shop/__init__.py": "from .models import Item\nfrom . import pricing\nfrom .api import *\n",
    "src/shop/models.py": "from .base import Model as Item\n",
    "src/shop/base.py": "class Model:\n    pass\n",
    "src/shop/pricing.py": "RATE = 2\n",
    "src/shop/api.py": "def serve():\n    pass\n",
    "src/shop/loop_a.py": "from .loop_b import thing\n",
    "src/shop/loop_b.py": "from .loop_a import thing\n",
    "app/main.py": "from shop import Item, pricing\nimport shop.models as m\nimport requests\n",
    "web/src/components/index.ts": "export { Button as PrimaryButton } from './Button';\n"
    "export * from './Card';\nexport { default as Modal } from './Modal';\n",
    "web/src/components/Button.tsx": "export function Button() { return null; }\n",
    "web/src/components/Card.tsx": "export const Card = () => null;\n",
    "web/src/components/Modal.tsx": "export default function ModalImpl() { return null; }\n",
    "web/src/pages/home.ts": "import { PrimaryButton, Card } from '../components';\n"
    "import { missing } from './nowhere';\n",
    "go/internal/store/store.go": "package store\nfunc New() {}\n",
    "go/internal/store/store_test.go": "package store\n",
    "go/internal/store/util.go": "package store\n",
    "go/cmd/main.go": 'package main\nimport "github.com/acme/app/internal/store"\n',
}


def parsed_workspace() -> dict[str, ParsedFile]:
    return {path: parse_file(path, text) for path, text in WORKSPACE.items()}


def refs_of(parsed: dict[str, ParsedFile], path: str) -> dict[str, ImportRef]:
    return {r.local_name: r for r in parsed[path].imports}


def test_python_absolute_imports_resolve_by_suffix() -> None:
    parsed = parsed_workspace()
    index = PathIndex(WORKSPACE)
    refs = refs_of(parsed, "app/main.py")
    assert resolve_import(refs["Item"], index) == "src/shop/__init__.py"
    assert resolve_import(refs["pricing"], index) == "src/shop/pricing.py"  # a submodule
    assert resolve_import(refs["m"], index) == "src/shop/models.py"
    assert resolve_import(refs["requests"], index) is None  # not in the workspace


def test_relative_imports_resolve_only_to_exact_paths() -> None:
    index = PathIndex(["pkg/a.py", "other/pkg/b.py"])
    (ref,) = parse_file("pkg/main.py", "from .b import x\n").imports
    assert resolve_import(ref, index) is None  # other/pkg/b.py is not ./b.py
    (ref,) = parse_file("pkg/main.py", "from .a import x\n").imports
    assert resolve_import(ref, index) == "pkg/a.py"


def test_suffix_ties_prefer_the_importers_neighbourhood_then_shorter_paths() -> None:
    index = PathIndex(["a/util.py", "b/deep/util.py", "b/util.py", "util/x.py"])
    (ref,) = parse_file("b/main.py", "import util\n").imports
    assert resolve_import(ref, index, importer="b/main.py") == "b/util.py"
    assert resolve_import(ref, index, importer="a/main.py") == "a/util.py"
    assert resolve_import(ref, index) == "a/util.py"  # no importer: shortest, then sorted


def test_javascript_relative_imports_with_extensions_and_index() -> None:
    parsed = parsed_workspace()
    index = PathIndex(WORKSPACE)
    refs = refs_of(parsed, "web/src/pages/home.ts")
    assert resolve_import(refs["PrimaryButton"], index) == "web/src/components/index.ts"
    assert resolve_import(refs["missing"], index) is None


def test_go_package_imports_resolve_to_the_folder() -> None:
    parsed = parsed_workspace()
    index = PathIndex(WORKSPACE)
    ref = refs_of(parsed, "go/cmd/main.go")["store"]
    assert resolve_import(ref, index) == "go/internal/store/store.go"
    assert resolve_all(ref, index) == ["go/internal/store/store.go", "go/internal/store/util.go"]


def test_follow_python_reexports_to_the_defining_file() -> None:
    parsed = parsed_workspace()
    index = PathIndex(WORKSPACE)

    def imports_of(path: str) -> list[ImportRef]:
        return parsed[path].imports if path in parsed else []

    def definitions_of(path: str) -> list:
        return parsed[path].definitions if path in parsed else []

    init = "src/shop/__init__.py"
    # Item is re-exported twice and renamed on the way: shop -> models -> base.Model.
    assert follow_reexports("Item", init, imports_of, index, definitions_of) == Origin(
        "src/shop/base.py", "Model"
    )
    # A submodule imported into the package is the module itself.
    assert follow_reexports("pricing", init, imports_of, index, definitions_of) == Origin(
        "src/shop/pricing.py", None
    )
    # A star re-export is searched when definitions are known.
    assert follow_reexports("serve", init, imports_of, index, definitions_of) == Origin(
        "src/shop/api.py", "serve"
    )
    # Without definitions, the chain of explicit re-exports is still followed.
    assert follow_reexports("Item", init, imports_of, index) == Origin("src/shop/base.py", "Model")
    # Cycles and depth limits end in None rather than looping.
    assert (
        follow_reexports("thing", "src/shop/loop_a.py", imports_of, index, definitions_of) is None
    )
    assert follow_reexports("Item", init, imports_of, index, definitions_of, max_depth=0) is None


def test_follow_typescript_barrel_reexports() -> None:
    parsed = parsed_workspace()
    index = PathIndex(WORKSPACE)

    def imports_of(path: str) -> list[ImportRef]:
        return parsed[path].imports if path in parsed else []

    def definitions_of(path: str) -> list:
        return parsed[path].definitions if path in parsed else []

    barrel = "web/src/components/index.ts"
    assert follow_reexports("PrimaryButton", barrel, imports_of, index, definitions_of) == Origin(
        "web/src/components/Button.tsx", "Button"
    )
    assert follow_reexports("Card", barrel, imports_of, index, definitions_of) == Origin(
        "web/src/components/Card.tsx", "Card"
    )
    assert follow_reexports("Modal", barrel, imports_of, index, definitions_of) == Origin(
        "web/src/components/Modal.tsx", "default"
    )


def test_path_index_lookups_are_fast_for_thousands_of_paths() -> None:
    paths = [f"pkg{i % 50}/sub{i % 7}/mod{i}.py" for i in range(5000)]
    start = time.perf_counter()
    index = PathIndex(paths)
    built = time.perf_counter() - start
    ref = ImportRef("x", "sub3.mod10", None, 1, ("sub3/mod10.py", "sub3/mod10/__init__.py"))
    start = time.perf_counter()
    for _ in range(2000):
        assert resolve_import(ref, index) == "pkg10/sub3/mod10.py"
    per_call = (time.perf_counter() - start) / 2000
    assert built < 1.0 and per_call < 0.0005, (built, per_call)
