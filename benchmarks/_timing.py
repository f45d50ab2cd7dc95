"""Shared timing helper for the benchmark scripts.

LOWBIT_BENCH_SMOKE=1 (set by tests/test_docs.py when it runs the docs' benchmark commands) makes every
script run once on small inputs: the test checks that the commands work as written, not their figures,
which come from full runs (docs/benchmarks.md).
"""

import os
import time

SMOKE = os.environ.get("LOWBIT_BENCH_SMOKE") == "1"


def best(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` calls of fn(), after one warm-up call (compilation, page faults)."""
    if SMOKE:
        repeat = 1
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
