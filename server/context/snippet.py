"""What the context builder returns: ranked snippets and the time it took."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.decoding.guide import NameSets


@dataclass(frozen=True, slots=True)
class Snippet:
    """A slice of another place in the workspace, worth showing the model at the cursor.

    Lines are 1-based and inclusive; ``reason`` says in words why it was chosen (shown by
    ``tandem context`` and in the editor's debug view)."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float
    source: str  # definition | similar
    reason: str
    # The file lines the text shows, when it leaves some of the span out (a header's
    # digest of prototypes); empty when it shows every line of the span (or summarises it).
    shown: tuple[int, ...] = ()

    def contains_line(self, path: str, line: int) -> bool:
        return self.path == path and self.start_line <= line <= self.end_line


@dataclass(slots=True)
class ContextResult:
    """Snippets best first, and the wall-clock milliseconds spent building them."""

    snippets: list[Snippet]
    ms: float
    timings: dict[str, float] = field(default_factory=dict)
    names: NameSets | None = None  # identifiers that exist here, when asked for
