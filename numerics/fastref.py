"""Fast routes to the reference accumulators ("exact", "fp32", "fp32_pairwise", "fp16" and any FMA target),
bit for bit the results of the kernels.gemm references (tests/test_fast_refs.py compares them on random
and adversarial operands). numerics.accumulate calls `fast_float_matmul` first and falls back to the
reference kernels where it returns None.

- FMA into FP32 with operands and c that are binary32 values: hardware binary32 FMAs (kernels.fast_gemm).
- FMA into any other target (<= 23 fraction bits): the reference's two-sum / round-to-odd / RNE done on
  float64 bit patterns, the n chains of a row side by side.
- PAIRWISE into FP32 with binary32 operands and c: the same tree in binary32 arithmetic.
- EXACT: the Ozaki split (Ozaki, Ogita, Oishi, Rump, Numer. Algorithms 2012): each row of A and column of
  B is cut into slices of at most `beta` significant bits below its own largest power of two, with
  k (2^beta - 1)^2 < 2^53, so that every product of two slices is a float64 matmul whose partial sums are
  all exact integers times a power of two (any summation order, FMA or not: BLAS is exact here). The few
  slice products and c are then summed exactly and rounded to odd (kernels.fast_gemm.sum_exact_odd), and
  the caller's one rounding into the target is the reference's. Operands needing more than MAX_SLICES
  slices (a row spanning more than ~MAX_SLICES beta bits of magnitude), or whose scaled slices would leave
  float64's normal range, take the reference path.
"""

import numpy as np

from kernels import fast_gemm

MAX_SLICES = 4
EXACT_TERMS_BUDGET = 1 << 24  # float64 entries of slice products held at once (rows are chunked to fit)


def _is_fp32(man_bits: int, emin: int, emax: int) -> bool:
    return (man_bits, emin, emax) == (23, -126, 127)


def _binary32(*xs) -> bool:
    """Every entry of the float64 arrays is a binary32 value (finite inputs: the caller zeroes the rest)."""
    with np.errstate(over="ignore"):
        return all(np.array_equal(x.astype(np.float32).astype(np.float64), x) for x in xs)


def fast_fma(A, Bt, C, man_bits: int, emin: int, emax: int):
    """kernels.gemm_fma(A, Bt, C, ...) by a fast route. A (m, k), Bt (n, k), C (m, n) finite float64."""
    B = np.ascontiguousarray(Bt.T)
    if _is_fp32(man_bits, emin, emax) and _binary32(A, B, C):
        return fast_gemm.gemm_fma_f32(A.astype(np.float32), B.astype(np.float32), C.astype(np.float32)) \
            .astype(np.float64)
    if man_bits > 23:
        return None
    return fast_gemm.gemm_fma_any(np.ascontiguousarray(A), B, np.ascontiguousarray(C), man_bits, emin, emax)


def fast_pairwise(A, Bt, C, man_bits: int, emin: int, emax: int):
    """kernels.gemm_pairwise(A, Bt, C, ...) for the FP32 target with binary32 operands; None otherwise."""
    B = np.ascontiguousarray(Bt.T)
    if not (_is_fp32(man_bits, emin, emax) and _binary32(A, B, C)):
        return None
    return fast_gemm.gemm_pairwise_f32(np.ascontiguousarray(A), B, C.astype(np.float32)).astype(np.float64)


def _slices(X: np.ndarray, beta: int):
    """Rows of X (finite float64) as a list of slices summing to X exactly, each entry of slice s an
    integer of magnitude < 2^beta times 2^(sigma_i - (s + 1) beta) (|X[i]| < 2^sigma_i); with the
    exponents sigma. None when more than MAX_SLICES are needed."""
    amax = np.max(np.abs(X), axis=1) if X.shape[1] else np.zeros(X.shape[0])
    sigma = np.frexp(amax)[1].astype(np.int64)  # amax < 2^sigma (0 for zero rows, whose slices are zero)
    R = X.copy()
    out = []
    for s in range(MAX_SLICES):
        scale = np.ldexp(1.0, sigma - (s + 1) * beta)[:, None]
        Q = np.trunc(R / scale) * scale  # exact: power-of-two scaling, truncation, and back
        out.append(Q)
        R -= Q  # exact: Q is R with its low bits cleared
        if not R.any():
            return out, sigma
    return None


def fast_exact_odd(A, Bt, C):
    """kernels.gemm_exact_odd(A, Bt, C) (the exact sum rounded to odd) by Ozaki slices; None where the
    split does not apply (the caller runs the reference)."""
    m, k = A.shape
    n = Bt.shape[0]
    if k == 0:
        return None
    beta = (53 - int(k).bit_length()) // 2  # k (2^beta - 1)^2 < 2^bitlen(k) 2^(2 beta) <= 2^53
    sa, sb = _slices(A, beta), _slices(Bt, beta)
    if sa is None or sb is None:
        return None
    (pa, ea), (pb, eb) = sa, sb
    nz_a, nz_b = np.abs(A).max(axis=1) > 0, np.abs(Bt).max(axis=1) > 0
    if nz_a.any() and nz_b.any():
        lo = int(ea[nz_a].min() + eb[nz_b].min()) - (len(pa) + len(pb)) * beta
        hi = int(ea[nz_a].max() + eb[nz_b].max()) + 54
        if lo < -1000 or hi > 1000:  # slice products must stay normal float64 numbers: exact integers x 2^e
            return None
    pb = [np.ascontiguousarray(y.T) for y in pb]  # (k, n): np.dot of C-contiguous operands goes to BLAS dgemm
    terms = [(x, y) for x in pa for y in pb]
    rows = max(1, min(m, EXACT_TERMS_BUDGET // max(1, len(terms) * n)))
    out = np.empty((m, n))
    C = np.ascontiguousarray(C)
    for r0 in range(0, m, rows):
        r1 = min(m, r0 + rows)
        T = np.empty((len(terms), r1 - r0, n))
        for t, (x, y) in enumerate(terms):
            np.dot(x[r0:r1], y, out=T[t])
        out[r0:r1] = fast_gemm.sum_exact_odd(T, C[r0:r1])
    # BLAS's zeros carry no sign information: give exact zeros the sign the reference's additions give
    return fast_gemm.zero_signs(np.ascontiguousarray(A), np.ascontiguousarray(Bt), C, out)
