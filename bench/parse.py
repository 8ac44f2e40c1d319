"""Throughput of ``parse_file`` beside tree-sitter's raw parse of the same files (the floor:
chunking, definitions and imports cannot be faster than parsing).

Corpus: Python sources from the venv's site-packages (a fixed sample, ~10 MB by default).
Usage: python bench/parse.py [--mb 10]
"""

from __future__ import annotations

import argparse
import random
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.chunker import parse_file
from indexer.languages import get_parser


def corpus(megabytes: float) -> list[tuple[str, str]]:
    root = Path(sysconfig.get_paths()["purelib"])
    paths = sorted(root.rglob("*.py"))
    random.Random(0).shuffle(paths)
    out: list[tuple[str, str]] = []
    total = 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if len(text) > 1_000_000:
            continue
        out.append((path.relative_to(root).as_posix(), text))
        total += len(text.encode("utf-8"))
        if total >= megabytes * 1e6:
            break
    return out


def best_of(runs: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    files = corpus(args.mb)
    encoded = [text.encode("utf-8") for _, text in files]
    size = sum(len(b) for b in encoded) / 1e6
    ts = get_parser("python")
    assert ts is not None

    def raw() -> None:
        for data in encoded:
            ts.parse(data)

    chunks = 0

    def full() -> None:
        nonlocal chunks
        chunks = 0
        for path, text in files:
            chunks += len(parse_file(path, text).chunks)

    t_raw = best_of(args.runs, raw)
    t_full = best_of(args.runs, full)
    rows = [
        ("tree-sitter parse (floor)", t_raw, size / t_raw, 1.0),
        ("parse_file (chunks+defs+imports)", t_full, size / t_full, t_full / t_raw),
    ]
    print(f"corpus: {len(files)} Python files, {size:.1f} MB, {chunks} chunks")
    print(f"{'stage':<34} {'seconds':>8} {'MB/s':>8} {'x floor':>8}")
    for name, seconds, rate, ratio in rows:
        print(f"{name:<34} {seconds:>8.2f} {rate:>8.2f} {ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
