"""Fast routes to the reference accumulators of kernels.gemm, bit for bit the same results:

- `gemm_fma_f32`: IEEE binary32 fused multiply-adds, k ascending, exactly gemm_fma with the FP32 target
  (RNE(a_k b_k + acc) with the product exact is what a hardware binary32 FMA computes), on float32
  operands; loops ordered so that the n independent chains of a row run side by side (vectorised).
- `gemm_pairwise_f32`: gemm_pairwise with the FP32 target: products rounded once from their exact float64
  value to binary32, then the same tree of binary32 additions (each an IEEE RNE addition).
- `gemm_fma_any`: gemm_fma for any target of <= 23 fraction bits, with add_rne's rounding (two-sum, round to
  odd, then RNE onto the target grid) done on the float64 bit pattern instead of frexp/ldexp/nextafter.
- `sum_exact_odd`: the exact sum of a few float64 matrices plus c, rounded to odd (gemm_exact_odd's
  expansion, over T terms instead of k products): the last step of the Ozaki-split exact GEMM
  (numerics.accumulate), whose slice products float64 BLAS computes exactly.

None of these uses fastmath: every operation is the IEEE one the reference performs.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from .gemm import _bits_f64, _f64_bits, expansion_head, grow_expansion, round_to_odd


@intrinsic
def _fma_f32(typingctx, a, b, c):
    """llvm.fma.f32: a b + c with one rounding (never split into a multiply and an add)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f = ir.FloatType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f], ir.FunctionType(f, [f, f, f]))
        return builder.call(fn, args)
    return sig, codegen


@njit(cache=True, parallel=True)
def gemm_fma_f32(a, b, c):
    """a (m, k), b (k, n), c (m, n) float32 -> (m, n) float32: acc = fma(a_k, b_k, acc), k ascending."""
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n), np.float32)
    for i in prange(m):
        acc = c[i].copy()
        for kk in range(k):
            av = a[i, kk]
            row = b[kk]
            for j in range(n):
                acc[j] = _fma_f32(av, row[j], acc[j])
        out[i] = acc
    return out


JB = 64  # columns per block of the pairwise tree: k x JB float32 scratch per thread


@njit(cache=True, parallel=True)
def gemm_pairwise_f32(a, b, c):
    """a (m, k), b (k, n) float64 holding binary32 values, c (m, n) float32 -> (m, n) float32: products
    rounded to binary32, summed as a balanced tree of adjacent pairs level by level, then c added."""
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n), np.float32)
    nblk = (n + JB - 1) // JB
    for task in prange(m * nblk):
        i = task // nblk
        j0 = (task % nblk) * JB
        w = min(JB, n - j0)
        buf = np.empty((max(k, 1), JB), np.float32)
        for kk in range(k):
            av = a[i, kk]
            for jj in range(w):
                buf[kk, jj] = np.float32(av * b[kk, j0 + jj])  # exact float64 product, one rounding
        cnt = k
        while cnt > 1:
            half = cnt // 2
            for t in range(half):
                for jj in range(w):
                    buf[t, jj] = buf[2 * t, jj] + buf[2 * t + 1, jj]
            if cnt % 2:
                for jj in range(w):
                    buf[half, jj] = buf[cnt - 1, jj]
                cnt = half + 1
            else:
                cnt = half
        for jj in range(w):
            tot = buf[0, jj] if k > 0 else np.float32(0.0)
            out[i, j0 + jj] = tot + c[i, j0 + jj]
    return out


@njit(cache=True, inline="always")
def add_rne_bits(a, b, man_bits, emin, emax):
    """kernels.gemm.add_rne (a + b correctly rounded, RNE, overflow to inf, onto a grid of man_bits <= 23
    fraction bits and exponents emin..emax) by float64 bit arithmetic: the two-sum, the round to odd of
    s + err by one step of the magnitude's bit pattern, and RNE onto the grid by adding and subtracting
    1.5 2^(q + 52), whose binade has ulp 2^q (q = the target's ulp exponent at that magnitude)."""
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    if not math.isfinite(s) or s == 0.0:
        return s
    mag = _f64_bits(s) & 0x7FFFFFFFFFFFFFFF
    if err != 0.0:
        if (err > 0.0) != (s > 0.0):
            mag -= 1  # the exact value lies below |s|
        mag |= 1  # odd: a sticky bit far below the target's
    e = (mag >> 52) - 1023
    if e > emax:
        return math.copysign(np.inf, s)
    q = max(e, emin) - man_bits
    big = _bits_f64((q + 52 + 1023) << 52) * 1.5
    r = (_bits_f64(mag) + big) - big
    if r >= _bits_f64((emax + 1 + 1023) << 52):
        r = np.inf
    return r if s > 0.0 else -r


@njit(cache=True, parallel=True)
def gemm_fma_any(a, b, c, man_bits, emin, emax):
    """gemm_fma (acc = RNE(a_k b_k + acc) onto the target, k ascending) with a (m, k), b (k, n), c (m, n)
    float64 holding values whose products are exact in float64; rows' n chains side by side."""
    m, k = a.shape
    n = b.shape[1]
    out = np.empty((m, n), np.float64)
    for i in prange(m):
        acc = c[i].copy()
        for kk in range(k):
            av = a[i, kk]
            row = b[kk]
            for j in range(n):
                acc[j] = add_rne_bits(av * row[j], acc[j], man_bits, emin, emax)
        out[i] = acc
    return out


@njit(cache=True, parallel=True)
def sum_exact_odd(terms, c):
    """terms (T, m, n) and c (m, n) float64 -> (m, n): their exact sum per entry, rounded to odd in
    float64 (one more rounding to <= 51 bits is correctly rounded); Shewchuk's expansions, as
    gemm_exact_odd grows them (c last)."""
    T, m, n = terms.shape
    out = np.empty((m, n), np.float64)
    for i in prange(m):
        parts = np.empty(T + 2, np.float64)
        for j in range(n):
            cnt = 0
            for kk in range(T + 1):
                cnt = grow_expansion(parts, cnt, c[i, j] if kk == T else terms[kk, i, j])
            hi, rest = expansion_head(parts, cnt)
            out[i, j] = round_to_odd(hi, rest)
    return out


@njit(cache=True, parallel=True)
def zero_signs(a, bt, c, out):
    """Where out (m, n) is zero, the sign the reference's IEEE additions give it: -0 exactly when c and
    every product a_ik bt_jk are -0 (RNE sums of zeros), +0 otherwise. Early exit at the first other term."""
    m, k = a.shape
    n = bt.shape[0]
    for i in prange(m):
        for j in range(n):
            if out[i, j] != 0.0:
                continue
            neg = c[i, j] == 0.0 and math.copysign(1.0, c[i, j]) < 0.0
            kk = 0
            while neg and kk < k:
                p = a[i, kk] * bt[j, kk]
                neg = p == 0.0 and math.copysign(1.0, p) < 0.0
                kk += 1
            out[i, j] = -0.0 if neg else 0.0
    return out
