"""nx.ops on small operands: microseconds per call for each operation family and format family, beside
references measured in the same run on operands of the same size: a numpy ufunc (np.add on float64) and
an ml_dtypes cast (float64 -> float8_e4m3fn), the cheapest calls a Python user could make instead.

Usage: python benchmarks/bench_ops.py [--size N] [--repeat R]
Target (issue #17, item 7): under 50 us per one-element call.
"""

import argparse
import os
import time

import ml_dtypes
import numpy as np
from _timing import SMOKE

import numerics as nx
from numerics import ops

FORMATS = ("e4m3", "fp16", "bf16", "fp32", "posit16", "posit32", "int8")


def per_call_us(fn, calls: int, repeat: int) -> float:
    """Best over `repeat` batches of the mean wall time of `calls` calls, in microseconds (the best batch
    is the one least disturbed by other processes on a shared machine)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best * 1e6


def _calls(f, a, b) -> dict:
    """One call of each operation family on codes a, b of format f."""
    return {"add": lambda: ops.add(a, b, f), "sub": lambda: ops.sub(a, b, f),
            "mul": lambda: ops.mul(a, b, f), "div": lambda: ops.div(a, b, f),
            "fma": lambda: ops.fma(a, b, a, f), "sqrt": lambda: ops.sqrt(a, f),
            "neg": lambda: ops.neg(a, f), "abs": lambda: ops.abs(a, f),
            "compare": lambda: ops.compare(a, b, f), "convert": lambda: ops.convert(a, f, "fp32")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1, help="elements per operand (default 1)")
    ap.add_argument("--calls", type=int, default=300, help="calls per timed batch")
    ap.add_argument("--repeat", type=int, default=15, help="timed batches; the best is reported")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 4.0, args.size)
    y = rng.uniform(0.5, 4.0, args.size)
    if SMOKE:  # tests/test_docs.py: the command runs, once (benchmarks/_timing.py)
        args.calls, args.repeat = 5, 1
    time_it = lambda fn: per_call_us(fn, args.calls, args.repeat)  # noqa: E731
    ref_add = time_it(lambda: np.add(x, y))
    ref_cast = time_it(lambda: x.astype(ml_dtypes.float8_e4m3fn))
    print(f"nx.ops, operands of {args.size} element(s): us per call (best of {args.repeat} batches of "
          f"{args.calls} calls); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
    print(f"references: np.add float64 {ref_add:.1f} us, ml_dtypes cast to float8_e4m3fn {ref_cast:.1f} us")
    families = ("add", "sub", "mul", "div", "fma", "sqrt", "neg", "abs", "compare", "convert")
    print(f"{'format':8s} " + " ".join(f"{op:>8s}" for op in families))
    worst = 0.0
    for name in FORMATS:
        f = nx.get_format(name)
        a, b = f.encode(x), f.encode(y)
        calls = _calls(f, a, b)
        us = [time_it(calls[op]) for op in families]
        worst = max(worst, *us)
        print(f"{name:8s} " + " ".join(f"{u:8.1f}" for u in us))
    print(f"slowest call {worst:.1f} us = {worst / ref_add:.0f}x np.add, {worst / ref_cast:.0f}x the ml_dtypes cast "
          f"(target < 50 us: {'met' if worst < 50 else 'not met'}); load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
