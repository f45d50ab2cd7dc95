"""Exact nearest-point search in QuIP#'s E8P codebook (2^16 points of E8 + 1/4, 8 dimensions).

A codeword is s * a + shift: `a` one of 256 absolute-value vectors (half-odd-integer coordinates),
`s` a sign vector whose number of minus signs has the parity `par[a]` (so s * a stays in D8 + 1/2),
shift +-1/4. For a target y and a fixed (a, shift), the best signs are sign(y - shift), and if their
parity is wrong, the cheapest single flip is the coordinate with the smallest a_i |y_i - shift|: exact.
"""

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _codeword(absgrid, a, signs, shift_bit, row):
    """row = absgrid[a] with the coordinates in `signs` (bit i: coordinate i) negated, plus +-1/4."""
    shift = 0.25 if shift_bit == 1 else -0.25
    for i in range(8):
        v = absgrid[a, i]
        if (signs >> i) & 1:
            v = -v
        row[i] = v + shift


def _check_codebook(absgrid, par) -> None:
    """The kernels index absgrid and par with code bits: both must be exactly the (256, 8) / (256,) tables."""
    if not (isinstance(absgrid, np.ndarray) and absgrid.dtype == np.float64 and absgrid.shape == (256, 8)):
        raise ValueError(f"absgrid must be a (256, 8) float64 array, got {getattr(absgrid, 'shape', absgrid)!r}")
    if not (isinstance(par, np.ndarray) and par.dtype == np.int64 and par.shape == (256,)):
        raise ValueError(f"par must be a (256,) int64 array, got {getattr(par, 'shape', par)!r}")
    if not np.isin(par, (0, 1)).all():
        raise ValueError("par must hold parities (0 or 1)")


def _check_rows(name, a, n, dtype, cols) -> None:
    shape = (n, 8) if cols else (n,)
    if not (isinstance(a, np.ndarray) and a.dtype == dtype and a.shape == shape):
        raise ValueError(f"{name} must be a {shape} {np.dtype(dtype).name} array, got "
                         f"{getattr(a, 'dtype', type(a))} {getattr(a, 'shape', '')}")


def e8p_nearest(x: np.ndarray, absgrid: np.ndarray, par: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """x: (n, 8) float64 finite targets; absgrid (256, 8), par (256,) int64 (required parity of minus signs).
    Writes the 16-bit codes (n,) int64 = a_index << 8 | (signs of coordinates 1..7) << 1 | shift bit
    (1: +1/4; coordinate 0's sign follows from the parity) and out (n, 8) the codewords. Shapes, dtypes
    and finiteness are checked before the kernel runs."""
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.ndim == 2 and x.shape[1] == 8):
        raise ValueError(f"x must be an (n, 8) float64 array, got {getattr(x, 'dtype', type(x))} "
                         f"{getattr(x, 'shape', '')}")
    if not np.isfinite(x).all():
        raise ValueError("x must be finite")
    _check_codebook(absgrid, par)
    _check_rows("codes", codes, x.shape[0], np.int64, False)
    _check_rows("out", out, x.shape[0], np.float64, True)
    _e8p_nearest(x, absgrid, par, codes, out)


def e8p_decode(codes: np.ndarray, absgrid: np.ndarray, par: np.ndarray, out: np.ndarray) -> None:
    """Codewords (n, 8) of 16-bit E8P codes (n,) int64 in 0..65535 (the inverse of e8p_nearest's numbering);
    shapes and the code range are checked before the kernel indexes the tables with them."""
    if not (isinstance(codes, np.ndarray) and codes.dtype == np.int64 and codes.ndim == 1):
        raise ValueError(f"codes must be a 1-D int64 array, got {getattr(codes, 'dtype', type(codes))}")
    if codes.size and (codes.min() < 0 or codes.max() > 65535):
        raise ValueError(f"E8P codes must be in 0..65535, got {codes.min()}..{codes.max()}")
    _check_codebook(absgrid, par)
    _check_rows("out", out, codes.shape[0], np.float64, True)
    _e8p_decode(codes, absgrid, par, out)


@nb.njit(cache=True, parallel=True)
def _e8p_nearest(x: np.ndarray, absgrid: np.ndarray, par: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """e8p_nearest's kernel (arguments checked there)."""
    n = x.shape[0]
    for r in nb.prange(n):
        best = 1e300
        best_code = 0
        for sh in range(2):
            shift = 0.25 if sh == 1 else -0.25
            y = np.empty(8)
            neg = 0
            for i in range(8):
                y[i] = x[r, i] - shift
                if y[i] < 0:
                    neg += 1
            for a in range(absgrid.shape[0]):
                # squared distance with signs = sign(y): sum (|y_i| - a_i)^2
                d = 0.0
                minc = 1e300
                mini = 0
                for i in range(8):
                    ay = abs(y[i])
                    t = ay - absgrid[a, i]
                    d += t * t
                    c = absgrid[a, i] * ay
                    if c < minc:
                        minc = c
                        mini = i
                flip = -1
                if (neg & 1) != par[a]:
                    d += 4.0 * minc
                    flip = mini
                if d < best:
                    best = d
                    signs = 0
                    for i in range(8):
                        negi = y[i] < 0
                        if i == flip:
                            negi = not negi
                        if negi:
                            signs |= 1 << i
                    best_code = (a << 9) | (signs << 1) | sh
        a = best_code >> 9
        signs = (best_code >> 1) & 255
        _codeword(absgrid, a, signs, best_code & 1, out[r])
        codes[r] = (a << 8) | (signs & 254) | (best_code & 1)


@nb.njit(cache=True)
def _e8p_decode(codes: np.ndarray, absgrid: np.ndarray, par: np.ndarray, out: np.ndarray) -> None:
    """e8p_decode's kernel (arguments checked there)."""
    for r in range(codes.shape[0]):
        c = codes[r]
        a = c >> 8
        signs = c & 254
        neg = 0
        for i in range(1, 8):
            neg += (signs >> i) & 1
        if (neg & 1) != par[a]:
            signs |= 1
        _codeword(absgrid, a, signs, c & 1, out[r])
