"""Throughput of ``parse_file`` per language beside tree-sitter's bare parse of the same
files (the floor: chunks, definitions and imports cannot come faster than the parse).
Target: parse_file within 2x the floor in every language.

Corpora: the fixed per-language samples of the parse corpus test (real, widely used code:
Go's standard library, Debian's Rust crates, OpenJDK, C and C++ libraries, npm packages,
Python packages of the virtualenv), installed by ``make corpora``.
Both sides read the same bytes, warm (every file parsed once first), each file's best of
``--runs`` back to back; the load average is printed before and after (on a busy machine
the ratios move by a few tenths: compare figures taken in one run). That the speed-ups
change nothing is checked by bench/parse_check.py.
Usage: python bench/parse.py [--files 300] [--runs 5] [--language go ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from helpers.corpora import CORPORA, INSTALL_HINT, missing, sample  # noqa: E402

from indexer.chunker import parse_file  # noqa: E402
from indexer.languages import get_parser  # noqa: E402

TARGET = 2.0


def measure(language: str, limit: int, runs: int) -> tuple[int, float, float, float, int]:
    """files, MB, floor seconds, parse_file seconds, fallbacks.

    Each file is timed both ways back to back, ``runs`` times, and its fastest time each
    way counts: on a shared, loaded machine that compares the two on equal terms.
    """
    files = [(f.path, f.text) for f in sample(language, limit)]
    # The floor parses with the grammar parse_file picks (a C++ header named .h included).
    parsed = [parse_file(path, text) for path, text in files]
    size = sum(len(text.encode("utf-8", "surrogatepass")) for _, text in files) / 1e6
    floor = full = 0.0
    for (path, text), result in zip(files, parsed, strict=True):
        parser = get_parser(result.language)
        assert parser is not None, result.language
        data = text.encode("utf-8", "surrogatepass")
        best_floor = best_full = float("inf")
        for _ in range(runs):
            start = time.perf_counter()
            parser.parse(data)
            middle = time.perf_counter()
            parse_file(path, text)
            end = time.perf_counter()
            best_floor = min(best_floor, middle - start)
            best_full = min(best_full, end - middle)
        floor += best_floor
        full += best_full
    fallbacks = sum(1 for result in parsed if result.fallback is not None)
    return len(files), size, floor, full, fallbacks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=300, help="files per language")
    parser.add_argument("--runs", type=int, default=5, help="each file's best of this many")
    parser.add_argument("--language", action="append", choices=sorted(CORPORA))
    args = parser.parse_args()
    languages = args.language or list(CORPORA)
    absent = [lang for lang in languages if missing(lang)]
    if absent:
        print(f"corpora missing for {', '.join(absent)}: run {INSTALL_HINT}", file=sys.stderr)
        return 1
    print(
        f"load average {os.getloadavg()[0]:.2f}; each file's best of {args.runs} runs; "
        f"target <= {TARGET}x"
    )
    header = (
        f"{'language':<11} {'files':>5} {'MB':>6} {'tree-sitter MB/s':>17} "
        f"{'parse_file MB/s':>16} {'x floor':>8} {'fallbacks':>9}"
    )
    print(header)
    worst = 0.0
    for language in languages:
        n, size, t_floor, t_full, fallbacks = measure(language, args.files, args.runs)
        ratio = t_full / t_floor
        worst = max(worst, ratio)
        print(
            f"{language:<11} {n:>5} {size:>6.2f} {size / t_floor:>17.2f} "
            f"{size / t_full:>16.2f} {ratio:>8.2f} {fallbacks:>9}"
        )
    verdict = "within" if worst <= TARGET else "over"
    print(f"worst ratio {worst:.2f}x ({verdict} the {TARGET}x target)")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
