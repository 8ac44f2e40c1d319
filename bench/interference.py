"""What ran beside a timed request: the CPU that other processes, the hypervisor (steal)
and this process's own threads outside the engine's took meanwhile.

llama.cpp's threads meet at a spinning barrier after every operation, so on 2 cores any
other runnable thread stalls both of them: a cold completion's wall time says little
unless it comes with what else ran. These figures are CPU time, load-independent: the
machine's busy time from /proc/stat (steal apart), this process's per-thread on-CPU time
from /proc/self/task/*/schedstat (nanoseconds).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


def thread_cpu_ns() -> dict[int, int]:
    """On-CPU nanoseconds of each of this process's threads."""
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/schedstat", encoding="ascii") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return out


def machine_ticks() -> tuple[float, float]:
    """(busy, steal) seconds of every CPU since boot (busy without steal)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    hz = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / hz, steal / hz


@dataclass
class Beside:
    """What ran beside one request: cores of other processes and of steal (average over
    the request), and ms of this process's threads other than the engine's."""

    others: float
    steal: float
    foreign_ms: float


class Watch:
    """``with Watch() as w: ...`` (the request runs in the calling thread), then
    ``w.beside(engine_threads)``: the engine's threads are the caller and its busiest
    ``engine_threads - 1`` other threads (its workers: they spin through the request)."""

    def __enter__(self) -> Watch:
        self._tid = threading.get_native_id()
        self._t = time.perf_counter()
        self._machine = machine_ticks()
        self._own = _own_s()
        self._threads = thread_cpu_ns()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = max(time.perf_counter() - self._t, 1e-6)
        busy, steal = machine_ticks()
        own = _own_s() - self._own
        self.others = max(0.0, busy - self._machine[0] - own) / wall
        self.steal = (steal - self._machine[1]) / wall
        after = thread_cpu_ns()  # a thread that ended meanwhile is not counted
        self._deltas = sorted(
            (after[t] - self._threads.get(t, 0) for t in after if t != self._tid), reverse=True
        )

    def beside(self, engine_threads: int) -> Beside:
        foreign = sum(self._deltas[max(0, engine_threads - 1) :]) / 1e6
        return Beside(self.others, self.steal, foreign)


def _own_s() -> float:
    t = os.times()
    return t.user + t.system
