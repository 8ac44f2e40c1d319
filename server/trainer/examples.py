"""Training examples from the workspace's indexed chunks.

Examples come from the index, never from a fresh walk of the disk: secret files, ignored
files and forgotten files are not in the index, so they can never reach an adapter. Each
example is formatted with the prompt template completion uses for the model, so training
and completion see the same layout: a fill-in-the-middle prompt with a random middle when
the model has FIM tokens, else the file-path header followed by the code (prefix-only).
The train/holdout split is by file with a fixed seed, so holdout loss measures files the
adapter never saw.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from server.trainer.manifest import file_hash

# Chunks that are not code as written (a class outline stitched from signatures).
_SYNTHETIC_KINDS = {"class_summary"}


class ChunkSource(Protocol):
    """What the trainer needs from ``indexer.search.Index``."""

    def known_paths(self) -> Iterable[str]: ...

    def chunks(self, path: str) -> Sequence[Any]: ...


class Renderer(Protocol):
    """The completion prompt template, as the trainer uses it (``template.TemplateRenderer``)."""

    @property
    def name(self) -> str: ...

    @property
    def fim(self) -> bool: ...

    def tokenize(self, text: str) -> list[int]: ...

    def header_ids(self, path: str) -> list[int]:
        """What precedes a file's code in a prompt without snippets (prefix-only)."""
        ...

    def fim_ids(self, path: str, prefix: str, middle: str, suffix: str) -> list[int]:
        """A whole FIM example: the prompt, then the middle and the end token."""
        ...


@dataclass(frozen=True, slots=True)
class Example:
    path: str
    input_ids: tuple[int, ...]


@dataclass
class ExampleSet:
    train: list[Example]
    holdout: list[Example]
    train_files: dict[str, str]  # path → content hash on disk when the examples were built
    holdout_files: dict[str, str]
    excluded: list[str] = field(default_factory=list)

    @property
    def train_tokens(self) -> int:
        return sum(len(e.input_ids) for e in self.train)


def split_files(
    paths: Iterable[str], holdout_fraction: float, seed: int
) -> tuple[list[str], list[str]]:
    """(train, holdout) by file: the same paths and seed always give the same split."""
    ordered = sorted(set(paths))
    if holdout_fraction <= 0 or len(ordered) < 2:
        return ordered, []
    shuffled = ordered[:]
    random.Random(seed).shuffle(shuffled)
    n_holdout = min(len(ordered) - 1, max(1, round(holdout_fraction * len(ordered))))
    holdout = sorted(shuffled[:n_holdout])
    return sorted(shuffled[n_holdout:]), holdout


def build_examples(
    root: Path,
    index: ChunkSource,
    renderer: Renderer,
    *,
    seq_len: int,
    holdout_fraction: float,
    seed: int,
    max_examples: int | None = None,
    holdout_examples: int | None = None,
    exclude: Iterable[str] = (),
) -> ExampleSet:
    """Examples for every indexed file except ``exclude`` (paths or folders)."""
    excluded_prefixes = [e.strip("/") for e in exclude]
    paths = sorted(index.known_paths())
    kept = [p for p in paths if not any(_under(p, e) for e in excluded_prefixes)]
    excluded = sorted(set(paths) - set(kept))
    train_paths, holdout_paths = split_files(kept, holdout_fraction, seed)
    rng = random.Random(seed)

    def examples_for(file_paths: list[str]) -> tuple[list[Example], dict[str, str]]:
        out: list[Example] = []
        hashes: dict[str, str] = {}
        for path in file_paths:
            digest = file_hash(root, path)
            if digest is None:  # deleted since it was indexed: nothing true to learn
                continue
            made = _file_examples(path, index.chunks(path), renderer, seq_len, rng)
            if made:
                out.extend(made)
                hashes[path] = digest
        return out, hashes

    train, train_files = examples_for(train_paths)
    holdout, holdout_files = examples_for(holdout_paths)
    train = _cap(train, max_examples, seed)
    holdout = _cap(holdout, holdout_examples, seed + 1)
    # A file whose every example was capped away was not trained on: do not record it.
    train_files = {p: h for p, h in train_files.items() if p in {e.path for e in train}}
    return ExampleSet(train, holdout, train_files, holdout_files, excluded)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _cap(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    if limit is None or len(examples) <= limit:
        return examples
    picked = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in picked]


def _file_examples(
    path: str,
    chunks: Sequence[Any],
    renderer: Renderer,
    seq_len: int,
    rng: random.Random,
) -> list[Example]:
    out: list[Example] = []
    seen: set[str] = set()
    for chunk in sorted(chunks, key=lambda c: (c.start_line, c.end_line)):
        text: str = chunk.text
        if getattr(chunk, "kind", "") in _SYNTHETIC_KINDS or not text.strip() or text in seen:
            continue
        seen.add(text)
        if renderer.fim:
            ids = _fim_ids(path, text, renderer, seq_len, rng)
            if ids:
                out.append(Example(path, tuple(ids)))
        else:
            out.extend(
                Example(path, tuple(w)) for w in _prefix_windows(path, text, renderer, seq_len)
            )
    return out


def _prefix_windows(path: str, text: str, renderer: Renderer, seq_len: int) -> list[list[int]]:
    """Header + code, cut into windows of at most ``seq_len`` tokens; every window starts
    with the header, as every completion prompt does."""
    header = renderer.header_ids(path)
    body = renderer.tokenize(text)
    room = seq_len - len(header)
    if room < 8:  # a path so long it leaves no room for code: train on the code alone
        header, room = [], seq_len
    windows = []
    for start in range(0, len(body), room):
        piece = body[start : start + room]
        if len(piece) >= 4 or start == 0:
            windows.append(header + piece)
    return windows


def _fim_ids(
    path: str, text: str, renderer: Renderer, seq_len: int, rng: random.Random
) -> list[int] | None:
    """One FIM example with a random middle, shortened until it fits ``seq_len``."""
    while len(text) >= 8:
        a, b = sorted(rng.sample(range(len(text) + 1), 2))
        ids = renderer.fim_ids(path, text[:a], text[a:b], text[b:])
        if len(ids) <= seq_len:
            return ids
        text = text[: len(text) // 2]
    return None
