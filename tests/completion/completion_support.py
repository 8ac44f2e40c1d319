"""Shared by the completion tests and bench/complete.py: a small workspace, the
subprocess environment, and indexing with the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TANDEM = str(Path(sys.executable).with_name("tandem"))

WORKSPACE: dict[str, str] = {
    "shop/models.py": '''"""Shop data."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price_cents: int
    quantity: int = 1

    def total_cents(self) -> int:
        return self.price_cents * self.quantity
''',
    "shop/cart.py": '''"""A cart of items."""

from shop.models import Item


class Cart:
    def __init__(self) -> None:
        self.items: list[Item] = []

    def add(self, item: Item) -> None:
        self.items.append(item)

    def total_cents(self) -> int:
        return sum(item.total_cents() for item in self.items)
''',
    "shop/report.py": '''"""Reports over carts."""

from shop.cart import Cart
from shop.models import Item


def receipt(cart: Cart) -> str:
    lines = []
    for item in cart.items:
        lines.append(f"{item.name}: {item.total_cents()}")
    return "\\n".join(lines)


def grand_total(cart: Cart) -> int:
    return sum(item.total_cents() for item in cart.items)
''',
}


def env() -> dict[str, str]:
    """The environment for subprocesses: offline, quiet, fast allocator."""
    e = dict(os.environ)
    e.update(
        {
            "LANCEDB_LOG": "error",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "MALLOC_MMAP_THRESHOLD_": "4294967296",
            "MALLOC_TRIM_THRESHOLD_": "4294967296",
        }
    )
    return e


def write_workspace(root: Path) -> Path:
    for rel, text in WORKSPACE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def index_workspace(root: Path) -> None:
    """``tandem index ROOT --embedder none``: the real CLI, lexical only."""
    proc = subprocess.run(
        [TANDEM, "index", str(root), "--embedder", "none"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
