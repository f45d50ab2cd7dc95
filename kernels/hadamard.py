"""Fast Walsh-Hadamard transform along the last axis (unnormalised, Sylvester order)."""

import numba as nb
import numpy as np


def fwht(x: np.ndarray) -> None:
    """In place: each row of x (float64, (r, n), n a power of two) becomes H_n row (H_n = H_2^(x)log2 n,
    entries +-1, no scaling). The shape is checked here: the kernel's butterflies would write past the end
    of a row whose length is not a power of two."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64 or x.ndim != 2:
        raise TypeError(f"fwht needs a 2-D float64 array, got {getattr(x, 'dtype', type(x))} "
                        f"with shape {getattr(x, 'shape', None)}")
    n = x.shape[1]
    if n < 1 or n & (n - 1):
        raise ValueError(f"fwht needs rows whose length is a power of two, got {n}")
    if not x.flags.writeable:
        raise ValueError("fwht works in place: x must be writeable")
    _fwht(x)


@nb.njit(cache=True, parallel=True)
def _fwht(x: np.ndarray) -> None:
    """fwht's kernel: x (r, n) float64, n a power of two (checked by fwht)."""
    r, n = x.shape
    for i in nb.prange(r):
        row = x[i]
        h = 1
        while h < n:
            for j in range(0, n, 2 * h):
                for k in range(j, j + h):
                    a = row[k]
                    b = row[k + h]
                    row[k] = a + b
                    row[k + h] = a - b
            h *= 2


def fwht_reference(x: np.ndarray) -> np.ndarray:
    """numpy reference: x @ H_n (Sylvester H_n is symmetric)."""
    n = x.shape[-1]
    h = np.array([[1.0]])
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return x @ h
