"""Shared timing helper for the benchmark scripts."""

import time


def best(fn, repeat: int = 5) -> float:
    """Best wall time of `repeat` calls of fn(), after one warm-up call (compilation, page faults)."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
