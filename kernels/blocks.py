"""Per-block reductions and scalings for block formats (rows of a 2-D array are blocks)."""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def block_amax(blocks):
    """float64 max |x| of each row of a 2-D float array; NaN if the row holds a NaN."""
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
def block_divide_f32(blocks, svals):
    """float32(x / s) for each row x of a 2-D float32 array and float32 divisor s per row."""
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
def block_decode(table, codes, svals):
    """float64 table[code] * s for each row of a 2-D code array and float64 factor s per row."""
    n, b = codes.shape
    out = np.empty((n, b), np.float64)
    for i in prange(n):
        s = svals[i]
        row = codes[i]
        dst = out[i]
        for j in range(b):
            dst[j] = table[row[j]] * s
    return out
