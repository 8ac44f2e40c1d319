"""The completion prompt template, seen from the trainer (PROVISIONAL until server/prompt
lands: it will delegate to the completion templates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class _Prefix:
    name: str = "prefix"
    fim: bool = False

    def header(self, path: str) -> str:
        return f"<filename>{path}\n"

    def fim_text(self, path: str, prefix: str, middle: str, suffix: str) -> str:
        raise NotImplementedError


def renderer_for(lm: Any) -> Any:
    return _Prefix()
