"""llama.cpp's thread count follows the cores other processes leave free, not the load
average (which counts the engine's own spinning threads)."""

from __future__ import annotations

import subprocess
import sys
import time

from server.backends.free_cores import WINDOW_S, FreeCores, machine_busy_s, threads_for


def test_every_core_while_others_use_under_half_of_one() -> None:
    assert threads_for(2, 0.0) == 2
    assert threads_for(2, 0.4) == 2
    assert threads_for(2, 0.6) == 1  # one thread would wait at every barrier
    assert threads_for(2, 5.0) == 1  # never none
    assert threads_for(8, 2.2) == 6


def test_the_machine_is_measured_on_this_process_cores() -> None:
    everything = machine_busy_s()
    none = machine_busy_s(frozenset())
    assert everything is not None and everything > 0
    assert none == 0.0


def test_another_busy_process_is_seen_and_this_ones_own_work_is_not() -> None:
    free = FreeCores(n_cores=2)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(WINDOW_S * 2.5)
        assert free() == 1
        assert free.others >= 0.5  # a whole core on an idle machine, more under load
    finally:
        busy.kill()
        busy.wait()
    own = FreeCores(n_cores=2)
    t0, machine0, own0 = own._last
    while time.monotonic() < t0 + WINDOW_S * 2.5:  # this process busy: not "others"
        pass
    own()
    t1, machine1, own1 = own._last
    assert machine0 is not None and machine1 is not None
    spent = (own1 - own0) / (t1 - t0)
    assert spent > 0.1  # this loop had its share of a core, even on a loaded machine
    assert abs(own.others - max(0.0, (machine1 - machine0) / (t1 - t0) - spent)) < 0.01
