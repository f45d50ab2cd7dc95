"""Shared timing helper for the benchmark scripts.

LOWBIT_BENCH_SMOKE=1 (set by tests/test_docs.py when it runs the docs' benchmark commands) makes every
script run once on small inputs (each timed call made once, without the warm-up): the test checks that the
commands work as written, not their figures, which come from full runs (docs/benchmarks.md).
"""

import os
import time

SMOKE = os.environ.get("LOWBIT_BENCH_SMOKE") == "1"


def best(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` calls of fn(), after one warm-up call (compilation, page faults).
    Under SMOKE: the time of one call, no warm-up (the figure is not used; the call is what is tested)."""
    if SMOKE:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
