"""The retrieval baselines of RepoCoder and Copilot: fixed 20-line windows with a 10-line
step over every indexed file, ranked by BM25 or by Jaccard similarity of identifier sets
against the last lines before the cursor."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from server.context.bm25 import BM25, words

WINDOW = 20
STEP = 10


@dataclass(frozen=True, slots=True)
class Window:
    path: str
    start_line: int  # 1-based, inclusive
    end_line: int


class WindowCorpus:
    """Every file cut into overlapping line windows, indexed for both baselines."""

    def __init__(self, files: dict[str, str], window: int = WINDOW, step: int = STEP) -> None:
        self.windows: list[Window] = []
        self._sets: list[frozenset[str]] = []
        self.bm25: BM25[int] = BM25()
        self._span: dict[str, tuple[int, int]] = {}
        for path in sorted(files):
            first = len(self.windows)
            lines = files[path].split("\n")
            start = 0
            while True:
                end = min(len(lines), start + window)
                toks = words("\n".join(lines[start:end]))
                i = len(self.windows)
                self.windows.append(Window(path, start + 1, end))
                self._sets.append(frozenset(toks))
                self.bm25.add(i, toks)
                if end >= len(lines):
                    break
                start += step
            self._span[path] = (first, len(self.windows))

    @classmethod
    def from_root(cls, root: Path, paths: list[str]) -> WindowCorpus:
        files: dict[str, str] = {}
        for p in paths:
            try:
                files[p] = (root / p).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        return cls(files)

    def bm25_top(self, query: str, k: int, exclude_path: str) -> list[Window]:
        scores = self.bm25.score_vector(words(query))
        lo, hi = self._span.get(exclude_path, (0, 0))
        scores[lo:hi] = 0.0  # windows are added file by file: one file is one slot range
        return [self.windows[i] for i, _ in self.bm25.top_of(scores, k)]

    def jaccard_top(self, query: str, k: int, exclude_path: str) -> list[Window]:
        q = frozenset(words(query))
        if not q:
            return []
        scored: list[tuple[float, int]] = []
        for i, s in enumerate(self._sets):
            if self.windows[i].path == exclude_path:
                continue
            inter = len(q & s)
            if inter:
                scored.append((inter / len(q | s), i))
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [self.windows[i] for _, i in scored[:k]]
