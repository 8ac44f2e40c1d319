"""A model's memory on 2 MB pages (transparent huge pages), where Linux allows it.

Decoding reads every weight once per token (~140 MB for SmolLM2 in Q8_0). On 4 KB pages
that is some 35,000 page translations per token, and their TLB misses cost: llama.cpp
used 14.5 ms of CPU per token on one thread with its weights mmap'd from the GGUF file
and 11.7 ms with the same weights on huge pages (bench/complete.py's 730-token decode,
alternated in one session). The kernel here backs memory with huge pages only when asked
(``transparent_hugepage/enabled = madvise``), and file mappings cannot be collapsed, so
llama.cpp reads the weights into its own memory (``use_mmap=False``) and the anonymous
memory it mapped while loading is then collapsed (``MADV_COLLAPSE``, Linux 6.1+).
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

HUGE = 2 << 20
MIN_REGION = 4 * HUGE  # smaller new regions are not the model's buffers
MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25


@dataclass
class HugePages:
    """What one ``collapse_new_memory`` did: the bytes of the memory mapped meanwhile that
    are on huge pages (memory freed earlier and reused is not new, nor counted), and the
    error, if the kernel refused."""

    collapsed: int = 0
    error: str = ""


def anonymous_regions() -> dict[int, int]:
    """Start -> end of this process's writable anonymous mappings (the heap included)."""
    regions: dict[int, int] = {}
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                name = parts[5] if len(parts) > 5 else ""
                if name in ("", "[heap]") and parts[1].startswith("rw"):
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                    regions[lo] = hi
    except OSError:
        return {}
    return regions


def new_ranges(before: dict[int, int], after: dict[int, int]) -> list[tuple[int, int]]:
    """The huge-page-aligned ranges mapped between two ``anonymous_regions`` snapshots: new
    regions whole, a grown region (the heap) from its old end."""
    ranges = []
    for lo, hi in sorted(after.items()):
        start = max(lo, before.get(lo, lo))
        a, b = -(-start // HUGE) * HUGE, hi // HUGE * HUGE
        if b - a >= MIN_REGION:
            ranges.append((a, b))
    return ranges


@contextmanager
def collapse_new_memory() -> Iterator[HugePages]:
    """Put the anonymous memory mapped inside the ``with`` block on huge pages after it."""
    report = HugePages()
    if not sys.platform.startswith("linux"):
        report.error = "huge pages are collapsed only on Linux"
        yield report
        return
    before = anonymous_regions()
    yield report
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for a, b in new_ranges(before, anonymous_regions()):
        libc.madvise(a, b - a, MADV_HUGEPAGE)  # later faults here get huge pages too
        for page in range(a, b, HUGE):  # one by one: the kernel gives up a range at a hole
            if libc.madvise(page, HUGE, MADV_COLLAPSE) == 0:
                continue
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.EAGAIN):  # EINVAL: nothing there yet
                report.error = f"madvise(MADV_COLLAPSE): {os.strerror(err)}"
                break
    report.collapsed = huge_bytes(new_ranges(before, anonymous_regions()))


def process_huge_bytes() -> int:
    """This process's anonymous memory on huge pages (AnonHugePages, smaps_rollup)."""
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def huge_bytes(ranges: list[tuple[int, int]]) -> int:
    """Bytes of ``ranges`` backed by huge pages (AnonHugePages in /proc/self/smaps)."""
    total = 0
    inside = False
    try:
        with open("/proc/self/smaps", encoding="ascii", errors="replace") as f:
            for line in f:
                head = line.split(None, 1)[0]
                if "-" in head and not head.endswith(":"):
                    lo, hi = (int(x, 16) for x in head.split("-"))
                    inside = any(lo < b and a < hi for a, b in ranges)
                elif inside and head == "AnonHugePages:":
                    total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total
