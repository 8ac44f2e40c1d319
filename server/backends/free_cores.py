"""How many threads llama.cpp may use for its next batch: the cores other processes
leave free.

llama.cpp's threads meet at a barrier after every operation (hundreds per token); when
another process holds a core, each barrier waits a scheduler slice, and on 2 busy cores
decode fell from 23 tokens/s (1 thread) to 1 (2 threads). The measure used to be the
1-minute load average, but that counts the engine's own threads (2 spinning on 2 cores):
a burst of requests on an idle machine read as load and decoded on one thread. Here it is
the CPU time the whole machine spent (/proc/stat) minus this process's own, over the last
half second or more.
"""

from __future__ import annotations

import math
import os
import threading
import time

WINDOW_S = 0.5  # the shortest interval measured: /proc/stat counts in 10 ms ticks


def cores() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def threads_for(n_cores: int, others: float) -> int:
    """Threads for ``others`` cores of other work: every core while they use less than
    half of one, else one fewer per core they use (at least one thread)."""
    return max(1, n_cores - max(0, math.ceil(others - 0.5)))


def machine_busy_s(cpus: frozenset[int] | None = None) -> float | None:
    """CPU seconds the cores this process may run on (``cpus``, default its affinity)
    have spent busy since boot, stolen by the hypervisor included (a stolen core stalls
    the barrier too); None without /proc."""
    cpus = cpus if cpus is not None else frozenset(os.sched_getaffinity(0))
    ticks = 0
    try:
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                if not line.startswith("cpu"):
                    break
                fields = line.split()
                if fields[0] == "cpu" or int(fields[0][3:]) not in cpus:
                    continue
                # cpuN user nice system idle iowait irq softirq steal ...
                user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
                ticks += user + nice + system + irq + softirq + steal
    except (OSError, ValueError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")


def own_busy_s() -> float:
    t = os.times()
    return t.user + t.system


class FreeCores:
    """The threads to use now, re-measured at most every ``WINDOW_S`` (cheap to ask per
    token). Without /proc/stat it falls back to the load average less this engine's own."""

    def __init__(self, n_cores: int | None = None) -> None:
        self.n_cores = n_cores or cores()
        self._cpus = frozenset(os.sched_getaffinity(0))
        self._lock = threading.Lock()
        self._last = (time.monotonic(), machine_busy_s(self._cpus), own_busy_s())
        self.others = 0.0  # cores other processes kept busy in the last window
        self.threads = self.n_cores

    def __call__(self) -> int:
        now = time.monotonic()
        if now - self._last[0] < WINDOW_S:
            return self.threads
        with self._lock:
            t0, machine0, own0 = self._last
            if now - t0 < WINDOW_S:
                return self.threads
            machine, own = machine_busy_s(self._cpus), own_busy_s()
            if machine is None or machine0 is None:
                self.others = max(0.0, _load_average() - self.threads)
            else:
                self.others = max(0.0, (machine - machine0) - (own - own0)) / (now - t0)
            self._last = (now, machine, own)
            self.threads = threads_for(self.n_cores, self.others)
            return self.threads


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0
