"""A small git history built by the tests: a package written over four commits (one a
rename with two added lines), a prose-only commit on top, and an uncommitted edit."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

UNCOMMITTED_MARKER = "UNCOMMITTED_MARKER_never_seen"

PRICING = '''def apply_discount(price: float, percent: float) -> float:
    """Price after a percentage discount."""
    return price * (1 - percent / 100)
'''

CART_A = """from shop.pricing import apply_discount


class Cart:
    def __init__(self) -> None:
        self.items: list[float] = []

    def add(self, price: float) -> None:
        self.items.append(price)
"""

CART_B = (
    CART_A
    + """
    def discounted_total(self, percent: float) -> float:
        subtotal_before_discount = sum(self.items)
        return apply_discount(subtotal_before_discount, percent)
"""
)

RECEIPT = """from shop.cart import Cart


def format_receipt(cart: Cart) -> str:
    receipt_total_line = f"total {cart.discounted_total(10):.2f}"
    return receipt_total_line.upper()
"""

PRICES = (
    PRICING
    + """

def apply_tax(price: float, rate: float) -> float:
    return price * (1 + rate)
"""
)

# The lines commit D adds (to shop/prices.py, renamed from shop/pricing.py).
D_ADDED = {"def apply_tax(price: float, rate: float) -> float:", "return price * (1 + rate)"}


@dataclass
class HistoryRepo:
    root: Path
    commits: dict[str, str]  # A..E → commit id

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def show(self, commit: str, path: str) -> str:
        return self.git("show", f"{commit}:{path}")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def build_history_repo(root: Path) -> HistoryRepo:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    commits: dict[str, str] = {}

    def commit(name: str, files: dict[str, str], message: str) -> None:
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", message)
        commits[name] = git(root, "rev-parse", "HEAD").strip()

    commit(
        "A",
        {"shop/__init__.py": "", "shop/pricing.py": PRICING, "shop/cart.py": CART_A},
        "start the shop",
    )
    commit("B", {"shop/cart.py": CART_B}, "cart totals")
    commit("C", {"shop/receipt.py": RECEIPT}, "receipts")
    git(root, "mv", "shop/pricing.py", "shop/prices.py")
    commit(
        "D",
        {"shop/prices.py": PRICES, "shop/cart.py": CART_B.replace("pricing", "prices")},
        "rename pricing, add tax",
    )
    commit("E", {"NOTES.md": "# Notes\n\nNothing to complete here.\n"}, "notes")
    with (root / "shop" / "cart.py").open("a") as f:  # never committed
        f.write(f"\n# {UNCOMMITTED_MARKER}\n")
    return HistoryRepo(root, commits)
