"""The trainer tests' workspace: a small Python package with cross-file imports, plus a
secret file and an ignored file that must never be trained on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET_MARKER = "sk_live_SECRETMARKER0123456789abcdef"
IGNORED_MARKER = "IGNORED_MARKER_do_not_train"

_DOMAINS = ["orders", "billing", "stock", "users", "mail", "reports", "audit", "search"]


def _model_module(domain: str) -> str:
    cls = domain.capitalize().rstrip("s")
    return f'''"""Records of the {domain} domain."""

from dataclasses import dataclass, field


@dataclass
class {cls}Record:
    """One {domain} record."""

    ident: int
    name: str
    amount: float = 0.0
    tags: list[str] = field(default_factory=list)

    def total(self) -> float:
        return self.amount * (1 + len(self.tags) / 10)

    def label(self) -> str:
        return f"{{self.name}}#{{self.ident}}"


def make_{domain}_record(ident: int, name: str) -> {cls}Record:
    """A fresh {domain} record with no tags."""
    return {cls}Record(ident=ident, name=name)


def {domain}_totals(records: list[{cls}Record]) -> float:
    return sum(r.total() for r in records)
'''


def _service_module(domain: str) -> str:
    cls = domain.capitalize().rstrip("s")
    return f'''"""Services of the {domain} domain."""

import logging

from shop.models_{domain} import {cls}Record, make_{domain}_record, {domain}_totals
from shop.util import clamp, slugify

log = logging.getLogger(__name__)

LIMIT = 100
PREFIX = "{domain}"


def describe(value: int) -> str:
    """A readable form of a count."""
    if value > LIMIT:
        return "many"
    return str(value)


def create_{domain}(ident: int, name: str) -> {cls}Record:
    record = make_{domain}_record(ident, slugify(name))
    log.info("created %s", record.label())
    return record


def summarise_{domain}(records: list[{cls}Record]) -> str:
    total = {domain}_totals(records)
    return f"{{PREFIX}}: {{describe(len(records))}} records, {{clamp(total, 0, 1e9):.2f}}"
'''


UTIL = '''"""Small helpers shared by every service."""

import re


def slugify(text: str) -> str:
    """Lower-case words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def chunked(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
'''


def write_workspace(root: Path) -> Path:
    """The fixture workspace: shop/util.py, shop/models_*.py, shop/service_*.py, a secret
    file and an ignored file."""
    pkg = root / "shop"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""The shop package."""\n')
    (pkg / "util.py").write_text(UTIL)
    for domain in _DOMAINS:
        (pkg / f"models_{domain}.py").write_text(_model_module(domain))
        (pkg / f"service_{domain}.py").write_text(_service_module(domain))
    (root / ".env").write_text(f"STRIPE_KEY={SECRET_MARKER}\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "generated.py").write_text(f'MARKER = "{IGNORED_MARKER}"\n' * 20)
    return root


def index_workspace(root: Path) -> None:
    from indexer.sync import sync
    from server.settings import IndexSettings

    sync(root, IndexSettings(embedder="none"))


@dataclass
class Trained:
    """A workspace with an adapter trained on it, and that adapter's manifest."""

    root: Path
    adapter: Path
    manifest: dict[str, Any]
    tiny_model: Path
