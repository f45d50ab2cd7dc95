"""Per-block reductions and scalings for block formats (rows of a 2-D array are blocks).

The public functions check their arrays' shapes (and block_decode its codes against the table) and
then call the compiled loops, which index without bounds checks.
"""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def _block_amax(blocks):
    n, b = blocks.shape
    out = np.empty(n, np.float64)
    for i in prange(n):
        row = blocks[i]
        m = 0.0
        nan = False
        for j in range(b):
            v = abs(np.float64(row[j]))
            nan |= v != v
            m = max(m, v)
        out[i] = np.nan if nan else m
    return out


@njit(cache=True, parallel=True)
def _block_divide_f32(blocks, svals):
    n, b = blocks.shape
    out = np.empty((n, b), np.float32)
    for i in prange(n):
        s = svals[i]
        row = blocks[i]
        dst = out[i]
        for j in range(b):
            dst[j] = row[j] / s
    return out


@njit(cache=True, parallel=True)
def _block_decode(table, codes, svals):
    n, b = codes.shape
    out = np.empty((n, b), np.float64)
    for i in prange(n):
        s = svals[i]
        row = codes[i]
        dst = out[i]
        for j in range(b):
            dst[j] = table[row[j]] * s
    return out


def _rows(blocks, name: str, kinds: str) -> np.ndarray:
    if not isinstance(blocks, np.ndarray) or blocks.ndim != 2 or blocks.dtype.kind not in kinds:
        raise TypeError(f"{name} must be a 2-D array of kind {kinds!r}, got "
                        f"{getattr(blocks, 'ndim', '?')}-D {getattr(blocks, 'dtype', type(blocks).__name__)}")
    return blocks


def _per_row(svals, n: int, name: str) -> np.ndarray:
    if not isinstance(svals, np.ndarray) or svals.ndim != 1 or svals.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D array with one entry per block ({n}), got shape "
                         f"{getattr(svals, 'shape', type(svals).__name__)}")
    return svals


def block_amax(blocks: np.ndarray) -> np.ndarray:
    """float64 max |x| of each row of a 2-D float32/float64 array; NaN if the row holds a NaN."""
    return _block_amax(_rows(blocks, "blocks", "f"))


def block_divide_f32(blocks: np.ndarray, svals: np.ndarray) -> np.ndarray:
    """float32(x / s) for each row x of a 2-D float32 array and float32 divisor s per row."""
    _rows(blocks, "blocks", "f")
    return _block_divide_f32(blocks, _per_row(svals, blocks.shape[0], "svals"))


def block_decode(table: np.ndarray, codes: np.ndarray, svals: np.ndarray) -> np.ndarray:
    """float64 table[code] * s for each row of a 2-D unsigned code array and float64 factor s per row."""
    _rows(codes, "codes", "u")
    _per_row(svals, codes.shape[0], "svals")
    if not isinstance(table, np.ndarray) or table.ndim != 1:
        raise TypeError("table must be a 1-D array")
    if codes.size and int(codes.max()) >= table.shape[0]:
        raise ValueError(f"codes must lie in 0..{table.shape[0] - 1} (the table's length), got {int(codes.max())}")
    return _block_decode(table, codes, svals)
