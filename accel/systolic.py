"""Compute cycles of a GEMM on an R x C systolic array, as SCALE-Sim v3 counts them.

SCALE-Sim v3 (Raj et al., arXiv 2504.15377; earlier Samajdar et al., ISPASS 2020) maps an
M x K by K x N GEMM onto an R x C array in folds; each fold costs a fixed number of cycles that
includes filling and draining the array, and partial folds cost a full fold:

- output stationary (OS): an R x C tile of outputs per fold, ceil(M/R) * ceil(N/C) folds of
  K + R + C - 2 cycles;
- weight stationary (WS): an R x C tile of the K x N weights per fold, ceil(K/R) * ceil(N/C) folds
  of M + 2R + C - 2 cycles;
- input stationary (IS): an R x C tile of the K x M inputs per fold, ceil(K/R) * ceil(M/C) folds of
  N + 2R + C - 2 cycles.

SCALE-Sim reports the total minus one (its cycle counter starts at 0), e.g. 146,943 (OS) and
155,135 (WS) for 512^3 on 32 x 32.
"""

import numbers
from enum import Enum


class Dataflow(Enum):
    OS = "os"  # output stationary
    WS = "ws"  # weight stationary
    IS = "is"  # input stationary


def _positive(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {v!r} ({type(v).__name__})")
    if v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def folds(m: int, n: int, k: int, rows: int, cols: int, dataflow: Dataflow) -> int:
    """Number of folds (array-sized pieces of work) for the GEMM under the dataflow."""
    m, n, k = _positive("m", m), _positive("n", n), _positive("k", k)
    rows, cols = _positive("rows", rows), _positive("cols", cols)
    if not isinstance(dataflow, Dataflow):
        raise TypeError(f"dataflow must be a Dataflow, got {dataflow!r}")
    ceil = lambda a, b: -(-a // b)  # noqa: E731
    if dataflow == Dataflow.OS:
        return ceil(m, rows) * ceil(n, cols)
    if dataflow == Dataflow.WS:
        return ceil(k, rows) * ceil(n, cols)
    return ceil(k, rows) * ceil(m, cols)


def fold_cycles(m: int, n: int, k: int, rows: int, cols: int, dataflow: Dataflow) -> int:
    """Cycles of one fold, fill and drain included."""
    folds(m, n, k, rows, cols, dataflow)  # validates the arguments
    if dataflow == Dataflow.OS:
        return k + rows + cols - 2
    if dataflow == Dataflow.WS:
        return m + 2 * rows + cols - 2
    return n + 2 * rows + cols - 2


def compute_cycles(m: int, n: int, k: int, rows: int, cols: int, dataflow: Dataflow) -> int:
    """Total compute cycles (folds x cycles per fold)."""
    return folds(m, n, k, rows, cols, dataflow) * fold_cycles(m, n, k, rows, cols, dataflow)


def scalesim_cycles(m: int, n: int, k: int, rows: int, cols: int, dataflow: Dataflow) -> int:
    """The number SCALE-Sim prints as total compute cycles: compute_cycles - 1."""
    return compute_cycles(m, n, k, rows, cols, dataflow) - 1


def utilisation(m: int, n: int, k: int, rows: int, cols: int, dataflow: Dataflow) -> float:
    """Useful MACs over the MACs the array could have done in those cycles."""
    return m * n * k / (rows * cols * compute_cycles(m, n, k, rows, cols, dataflow))
