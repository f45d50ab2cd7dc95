"""Bit-exact dot-product / GEMM kernels: fused tensor-core steps (truncated alignment), sequential
FMA chains, exact sums, pairwise sums, integer accumulators. Operands are float64 arrays holding
values of formats with at most 26 significant bits, so every product is exact in float64.

Rounding targets are described by (man_bits, emin, emax, mode): round a finite float64 onto the grid
of a binary format with `man_bits` fraction bits, subnormals below 2^emin, and overflow beyond
2^(emax + 1) to ±inf (or ±max for directed modes that IEEE 754 sends there).
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

ZERO_EXP = -(1 << 20)  # exponent given to zero significands in gemm_fused's operands
RZ_MODE = 0
RNE_MODE = 1
RO_MODE = 2  # internal: round to odd


@njit(cache=True, inline="always")
def normalise(x, esub):
    """(s, e) with x = s 2^e, 1 <= |s| < 2, or e = esub and |s| < 1 for subnormal / zero x."""
    if x == 0.0:
        return 0.0, esub
    m, e = math.frexp(x)
    s = m * 2.0
    e -= 1
    if e < esub:
        s = math.ldexp(s, e - esub)
        e = esub
    return s, e


@njit(cache=True)
def round_to(x, man_bits, emin, emax, mode, ovf_inf):
    """Round finite float64 x to `man_bits` fraction bits, exponent floor emin (subnormals), mode
    RZ_MODE or RNE_MODE; magnitudes reaching 2^(emax+1) give ±inf when ovf_inf, else ±max."""
    if x == 0.0 or not math.isfinite(x):
        return x
    s, e = normalise(x, emin)
    t = math.ldexp(s, man_bits)  # exact: |t| < 2^(man_bits+1)
    if mode == RZ_MODE:
        t = float(math.trunc(t))
    else:
        t = float(np.rint(t))  # ties to even
    v = math.ldexp(t, e - man_bits)
    if abs(v) >= math.ldexp(1.0, emax + 1):
        if ovf_inf:
            return math.copysign(np.inf, v)
        return math.copysign(math.ldexp(2.0 - math.ldexp(1.0, -man_bits), emax), v)
    return v


@njit(cache=True, inline="always")
def two_sum(a, b):
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return s, err


@njit(cache=True, inline="always")
def add_rne(a, b, man_bits, emin, emax):
    """a + b correctly rounded (RNE, overflow to inf) to the target format; inf/NaN propagate."""
    s, err = two_sum(a, b)
    if not math.isfinite(s):
        return s
    return round_to(round_to_odd(s, err), man_bits, emin, emax, RNE_MODE, True)


@intrinsic
def _f64_bits(typingctx, x):
    """The IEEE 754 bits of a float64 as an int64."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return sig, codegen


@intrinsic
def _bits_f64(typingctx, x):
    """The float64 whose IEEE 754 bits are the int64 x."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return sig, codegen


@njit(cache=True, inline="always")
def round_to_odd(s, err):
    """The float64 round-to-odd of the exact value s + err (s = RN(s + err), |err| <= ulp(s)/2):
    rounding it once more to <= 51 bits is correctly rounded (Boldo & Melquiond 2008). On the bits:
    truncate (one ULP toward zero when err points there), then set the last bit as the sticky bit."""
    if err == 0.0 or s == 0.0:
        return s
    mag = _f64_bits(s) & 0x7FFFFFFFFFFFFFFF
    if (err > 0.0) != (s > 0.0):
        mag -= 1  # the exact value lies below |s|
    r = _bits_f64(mag | 1)
    return r if s > 0.0 else -r


@njit(cache=True, inline="always")
def grow_expansion(parts, cnt, x):
    """Add x to the non-overlapping expansion parts[:cnt], in place (Shewchuk 1997, as math.fsum does);
    returns the new count. parts must hold cnt + 1 entries."""
    t = 0
    for q in range(cnt):
        y = parts[q]
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            parts[t] = lo
            t += 1
        x = hi
    parts[t] = x
    return t + 1


@njit(cache=True, inline="always")
def expansion_head(parts, cnt):
    """(hi, rest) of the expansion parts[:cnt]: hi = RN(exact sum) and rest the first nonzero remainder,
    whose sign is all round-to-odd needs (the components below it are smaller and non-overlapping, so
    they cannot flip it)."""
    hi = 0.0
    rest = 0.0
    q = cnt - 1
    if cnt > 0:
        hi = parts[q]
        q -= 1
        while q >= 0:
            x = hi
            y = parts[q]
            hi = x + y
            yr = y - (hi - x)
            q -= 1
            if yr != 0.0:
                rest = yr
                break
    return hi, rest


@njit(cache=True, parallel=True)
def gemm_fused(ia, ea, ibk, ebk, pa, pb, c, F, L, e_zero, c_esub, man_bits, emin, emax, mode, promote, carry):
    """Tensor-core GEMM (MMA-Sim's T-FDPA, Fasi et al. 2021) over finite operands. Per step, L
    products and the accumulator are aligned to the largest exponent, each truncated (toward zero)
    to F fraction bits, summed exactly, normalised once and rounded (RZ or RNE) into the accumulator
    format; -0 becomes +0; overflow gives ±inf, which stays. A product's alignment exponent is
    e_a + e_b, not renormalised (its significand lies in [1, 4)); operands are not normalised below
    their format's emin; zero terms carry exponent e_zero. `promote` > 0: every `promote` elements of
    K the partial sum is added into an FP32 accumulator with an IEEE RNE add and restarts from zero
    (DeepSeek-V3 §3.3.2). `carry` > 0: the step's adder holds F + 2 + carry magnitude bits above the
    aligned LSB (two's complement); a sum beyond wraps, as a fixed-width adder does (0: unbounded).

    ia, ea: (m, k) integer significands (value = ia 2^(ea - pa)) and exponents of A, ZERO_EXP where
    ia is zero; ibk, ebk: the same for B, laid out (k, n); c: (m, n) float64. Integer arithmetic;
    for each row of A and step, the alignment maximum and the truncated sums of all n columns run
    as contiguous (vectorisable) loops. Returns (m, n) float64.
    """
    m, k = ia.shape
    n = ibk.shape[1]
    out = np.empty((m, n), np.float64)
    steps = (k + L - 1) // L
    c0 = F - pa - pb
    zb = np.zeros((steps, n), np.int64)   # does step st of column j hold a zero of B?
    for t in range(k):
        for j in range(n):
            if ebk[t, j] < ZERO_EXP // 2:
                zb[t // L, j] = 1
    ibm = np.abs(ibk)          # B significand magnitudes
    ibn = np.zeros_like(ibk)   # and signs: 0 or -1
    for t in range(ibk.shape[0]):
        for j in range(n):
            if ibk[t, j] < 0:
                ibn[t, j] = -1
    for i in prange(m):
        icc = np.empty(n, np.int64)
        ec0 = np.empty(n, np.int64)
        e_c = np.empty(n, np.int64)
        emx = np.empty(n, np.int64)
        tot = np.empty(n, np.int64)
        totf = np.empty(n, np.float64)
        dead = np.zeros(n, np.int64)
        dsign = np.zeros(n, np.int64)
        outer = np.zeros(n, np.float64)
        rne = mode == RNE_MODE
        for j in range(n):
            s_c, e = normalise(c[i, j], c_esub)
            icc[j] = np.int64(math.ldexp(s_c, 52))
            ec0[j] = e - 52
            e_c[j] = e
        for st in range(steps):
            k0 = st * L
            k1 = min(k, k0 + L)
            if promote > 0 and k0 > 0 and k0 % promote == 0:
                for j in range(n):
                    if dead[j] == 0:
                        outer[j] = add_rne(outer[j], math.ldexp(float(icc[j]), ec0[j]), 23, -126, 127)
                    icc[j] = 0
            # a zero product (either operand zero) aligns at e_zero: zeros of B per step are counted
            # once for all rows (zb), zeros of this row of A per step here
            za = 0
            for t in range(k0, k1):
                za |= np.int64(ea[i, t] < ZERO_EXP // 2)
            zb_s = zb[st]
            for j in range(n):
                emx[j] = e_c[j] if icc[j] != 0 else e_zero
                emx[j] = max(emx[j], e_zero) if (za | zb_s[j]) != 0 else emx[j]
            for t in range(k0, k1):
                ae = np.int64(ea[i, t])
                if ae < ZERO_EXP // 2:
                    continue  # all products of a zero operand are zero: counted in za
                eb_t = ebk[t]
                for j in range(n):
                    emx[j] = max(emx[j], ae + eb_t[j])
            for j in range(n):  # the accumulator, aligned and truncated like a term
                low = emx[j] - F
                sh = min(max(low - ec0[j], -40), 63)
                v = icc[j]
                sgn = v >> 63
                mag = (v ^ sgn) - sgn
                w = (mag >> max(sh, 0)) << max(-sh, 0)
                tot[j] = (w ^ sgn) - sgn
            if c0 >= 0:
                # F >= pa + pb (every tensor-core preset): pre-shift the product magnitudes left by
                # c0 = F - pa - pb, so each term's alignment is one right shift by emx - e_prod >= 0
                for t in range(k0, k1):
                    a_s = np.int64(ia[i, t])
                    a_n = a_s >> 63
                    a_m = ((a_s ^ a_n) - a_n) << c0
                    ae = np.int64(ea[i, t])
                    ibm_t = ibm[t]
                    ibn_t = ibn[t]
                    eb_t = ebk[t]
                    for j in range(n):
                        w = (a_m * ibm_t[j]) >> min(emx[j] - ae - eb_t[j], 63)
                        sgn = a_n ^ ibn_t[j]
                        tot[j] += (w ^ sgn) - sgn
            else:
                for t in range(k0, k1):
                    a_s = np.int64(ia[i, t])
                    base_t = pa + pb - F - np.int64(ea[i, t])
                    ib_t = ibk[t]
                    eb_t = ebk[t]
                    for j in range(n):
                        p = a_s * ib_t[j]
                        sh = min(max(base_t + emx[j] - eb_t[j], -40), 63)
                        sgn = p >> 63
                        mag = (p ^ sgn) - sgn
                        w = (mag >> max(sh, 0)) << max(-sh, 0)
                        tot[j] += (w ^ sgn) - sgn
            if carry > 0:  # a fixed-width adder: wrap into F + 2 + carry bits and a sign
                half_range = np.int64(1) << (F + 2 + carry)
                for j in range(n):
                    tot[j] = ((tot[j] + half_range) & (2 * half_range - 1)) - half_range
            # normalise and round every column's step sum, branch-free: the bit length comes from the
            # exponent field of the exact float64 conversion (|tot| < 2^53)
            for j in range(n):
                totf[j] = float(tot[j])
            tbits = totf.view(np.int64)
            for j in range(n):
                low = emx[j] - F
                tj = tot[j]
                sgn = tj >> 63
                mag = (tj ^ sgn) - sgn
                nb = ((tbits[j] >> 52) & 0x7FF) - 1022  # bit length of mag (garbage when mag == 0)
                ep = max(nb - 1 + low, emin)
                sh = min(max(ep - man_bits - low, -60), 62)
                rsh = max(sh, 0)
                q = (mag >> rsh) << max(-sh, 0)
                rem = mag & ((np.int64(1) << rsh) - 1)
                half = (np.int64(1) << rsh) >> 1
                if rne:
                    q += np.int64((rsh > 0) & ((rem > half) | ((rem == half) & ((q & 1) == 1))))
                e0 = ep - man_bits
                lim = emax + 1 - e0
                ovf = (mag != 0) & (lim < 62) & (q >= (np.int64(1) << min(max(lim, 0), 62)))
                first = ovf & (dead[j] == 0)
                dsign[j] = sgn if first else dsign[j]  # overflowed to inf with this sign: it stays there
                dead[j] = dead[j] | np.int64(ovf)
                nz = mag != 0
                icc_new = (q ^ sgn) - sgn
                icc[j] = icc_new if nz else 0
                ec0[j] = e0 if nz else low
                ecn = ep + 1 if (q >> (man_bits + 1)) != 0 else (ep if (q >> man_bits) != 0 else c_esub)
                e_c[j] = ecn
        for j in range(n):
            if dead[j]:
                acc = -np.inf if dsign[j] < 0 else np.inf
            else:
                acc = math.ldexp(float(icc[j]), ec0[j]) + 0.0
            if promote > 0:
                acc = add_rne(outer[j], acc, 23, -126, 127)
            out[i, j] = acc
    return out


@njit(cache=True, parallel=True)
def gemm_two_level(sa, ea, sb, eb, c, F, F2, L, G):
    """AMD CDNA3 matrix cores as MMA-Sim models them. TR-FDPA (G = 1, FP16/BF16/TF32): per step of L
    products, the products alone are aligned to their largest exponent and truncated to F bits and
    summed. GTR-FDPA (G = 2, FP8): the step's products are split into G interleaved groups (even and odd
    positions), each summed that way, and the group sums aligned to the larger exponent and cut toward
    -inf to F bits and added. That sum and the accumulator are then aligned to the larger of the two
    exponents and cut toward -inf (the sum to F2 + 1 bits, the accumulator to F bits; with G = 2 an
    accumulator more than F + 1 binades below is dropped), added, normalised, cut toward -inf to F2 bits,
    and rounded to FP32 to nearest even. A product at or above 2^128 is infinite.

    sa, ea: (m, k) normalised A (float64 significands, int exponents); sb, eb: B^T; c: (m, n).
    """
    m, k = sa.shape
    n = sb.shape[0]
    out = np.empty((m, n), np.float64)
    steps = (k + L - 1) // L
    for i in prange(m):
        gs = np.empty(G, np.float64)
        ge = np.empty(G, np.int64)
        for j in range(n):
            acc = c[i, j]
            for st in range(steps):
                k0 = st * L
                k1 = min(k, k0 + L)
                inf_sum = 0.0
                for g in range(G):
                    ge[g] = -999
                for kk in range(k0, k1):
                    p = sa[i, kk] * sb[j, kk]
                    e = ea[i, kk] + eb[j, kk]
                    if p != 0.0:
                        if e + (1 if abs(p) >= 2.0 else 0) >= 128:
                            inf_sum += math.copysign(np.inf, p)
                        g = (kk - k0) % G
                        ge[g] = max(ge[g], e)
                for g in range(G):
                    gs[g] = 0.0
                for kk in range(k0, k1):
                    p = sa[i, kk] * sb[j, kk]
                    if p != 0.0:
                        g = (kk - k0) % G
                        gs[g] += math.trunc(math.ldexp(p, ea[i, kk] + eb[j, kk] - ge[g] + F))
                if G == 1:
                    e_dot = ge[0]
                    s_dot = math.ldexp(gs[0], -F)
                else:
                    e_dot = -999
                    for g in range(G):
                        e_dot = max(e_dot, ge[g])
                    s_dot = 0.0
                    for g in range(G):
                        s_dot += math.ldexp(math.floor(math.ldexp(gs[g], ge[g] - e_dot)), -F)
                if inf_sum != 0.0 or inf_sum != inf_sum or not math.isfinite(acc):
                    acc = inf_sum + acc  # IEEE: inf stays inf, inf - inf is NaN
                    continue
                s_c, e_c = normalise(acc, -126)
                e_max = max(e_dot, e_c)
                s_dot = math.ldexp(math.floor(math.ldexp(s_dot, e_dot - e_max + F2 + 1)), -(F2 + 1))
                s_c = math.ldexp(math.floor(math.ldexp(s_c, e_c - e_max + F)), -F)
                if G > 1 and e_c < e_max - F - 1:
                    s_c = 0.0
                tot = math.ldexp(s_dot + s_c, e_max)
                s_t, e_t = normalise(tot, -126)
                s_t = math.ldexp(math.floor(math.ldexp(s_t, F2)), -F2)
                acc = round_to(math.ldexp(s_t, e_t), 23, -126, 127, RNE_MODE, True)
            out[i, j] = acc
    return out


@njit(cache=True, parallel=True)
def gemm_grouped(a, bt, ssa, esa, ssb, esb, c, G, F, L, e_zero):
    """NVFP4 tensor cores as MMA-Sim models them (GST-FDPA, Blackwell `kind::mxf4nvf4.block16`): the
    products of each group of G elements are summed exactly, multiplied by the product of the two
    block scales (significand ss, exponent es per group), and these group terms and the accumulator
    are aligned to the largest exponent, truncated to F fraction bits and summed, L elements per step;
    RZ to FP32. A group whose products are all zero, or whose scale is zero, aligns at e_zero.

    a: (m, k) element values; bt: (n, k); ssa, esa: (m, k // G) normalised scale of A's groups;
    ssb, esb: (n, k // G); c: (m, n).
    """
    m, k = a.shape
    n = bt.shape[0]
    out = np.empty((m, n), np.float64)
    gps = L // G  # groups per step
    ngroups = k // G
    for i in prange(m):
        terms = np.empty(gps, np.float64)
        exps = np.empty(gps, np.int64)
        for j in range(n):
            acc = c[i, j]
            for g0 in range(0, ngroups, gps):
                g1 = min(ngroups, g0 + gps)
                s_c, e_c = normalise(acc, -126)
                if s_c == 0.0:
                    e_c = e_zero
                emx = e_c
                for g in range(g0, g1):
                    psum = 0.0
                    allzero = True
                    for kk in range(g * G, g * G + G):
                        p = a[i, kk] * bt[j, kk]
                        psum += p  # exact: few-bit products
                        allzero &= p == 0.0
                    sc = ssa[i, g] * ssb[j, g]
                    e = esa[i, g] + esb[j, g]
                    if allzero or sc == 0.0:
                        e = e_zero
                    terms[g - g0] = psum * sc
                    exps[g - g0] = e
                    emx = max(emx, e)
                tot = float(math.trunc(math.ldexp(s_c, e_c - emx + F)))
                for g in range(g0, g1):
                    tot += math.trunc(math.ldexp(terms[g - g0], exps[g - g0] - emx + F))
                acc = round_to(math.ldexp(tot, emx - F), 23, -126, 127, RZ_MODE, True) + 0.0
            out[i, j] = acc
    return out


@njit(cache=True, parallel=True)
def gemm_fma(a, bt, c, man_bits, emin, emax):
    """Sequential IEEE fused multiply-adds, k ascending: acc = RNE(a_k b_k + acc) in the target."""
    m, k = a.shape
    n = bt.shape[0]
    out = np.empty((m, n), np.float64)
    for i in prange(m):
        for j in range(n):
            acc = c[i, j]
            for kk in range(k):
                acc = add_rne(a[i, kk] * bt[j, kk], acc, man_bits, emin, emax)  # the product is exact
            out[i, j] = acc
    return out


@njit(cache=True, parallel=True)
def gemm_pairwise(a, bt, c, man_bits, emin, emax):
    """Products rounded (RNE) to the target, summed as a balanced tree of adjacent pairs, level by
    level, each addition rounded (RNE); then the accumulator input c is added."""
    m, k = a.shape
    n = bt.shape[0]
    out = np.empty((m, n), np.float64)
    for i in prange(m):
        buf = np.empty(max(k, 1), np.float64)
        for j in range(n):
            for kk in range(k):
                buf[kk] = round_to(a[i, kk] * bt[j, kk], man_bits, emin, emax, RNE_MODE, True)
            cnt = k
            while cnt > 1:
                half = cnt // 2
                for t in range(half):
                    buf[t] = add_rne(buf[2 * t], buf[2 * t + 1], man_bits, emin, emax)
                if cnt % 2:
                    buf[half] = buf[cnt - 1]
                    cnt = half + 1
                else:
                    cnt = half
            tot = buf[0] if k > 0 else 0.0
            out[i, j] = add_rne(tot, c[i, j], man_bits, emin, emax)
    return out


@njit(cache=True, parallel=True)
def gemm_exact_odd(a, bt, c):
    """Exact sum of the exact products and c, returned rounded to odd in float64 (so that one more
    rounding to <= 51 bits is correctly rounded). Shewchuk's non-overlapping expansions."""
    m, k = a.shape
    n = bt.shape[0]
    out = np.empty((m, n), np.float64)
    for i in prange(m):
        parts = np.empty(k + 2, np.float64)
        for j in range(n):
            cnt = 0
            for kk in range(k + 1):
                cnt = grow_expansion(parts, cnt, c[i, j] if kk == k else a[i, kk] * bt[j, kk])
            hi, rest = expansion_head(parts, cnt)
            out[i, j] = round_to_odd(hi, rest)
    return out


@njit(cache=True, parallel=True)
def gemm_int(a, bt, c, bits, saturate):
    """Integer products (int64 operands) accumulated in a `bits`-bit two's complement register that
    wraps (exactly the sum mod 2^bits) or saturates after every addition, k ascending."""
    m, k = a.shape
    n = bt.shape[0]
    out = np.empty((m, n), np.int64)
    hi = (np.int64(1) << (bits - 1)) - 1
    lo = -hi - 1
    mod = np.int64(1) << bits if bits < 63 else np.int64(0)
    for i in prange(m):
        for j in range(n):
            acc = c[i, j]
            if saturate:
                for kk in range(k):
                    acc = acc + a[i, kk] * bt[j, kk]
                    if acc > hi:
                        acc = hi
                    elif acc < lo:
                        acc = lo
            else:
                for kk in range(k):
                    acc += a[i, kk] * bt[j, kk]  # int64 wraps mod 2^64, and 2^bits divides 2^64
                if mod != 0:
                    acc = ((acc - lo) & (mod - 1)) + lo
            out[i, j] = acc
    return out


@njit(cache=True, parallel=True)
def split_significands(x, p, esub, transpose, ia, ea):
    """Integer significands and exponents of finite values x (2-D float64): x = ia 2^(ea - p) with
    2^p <= |ia| < 2^(p+1) for normal values, ea floored at esub (subnormals keep fewer bits), zeros get
    ia = 0 and ea = ZERO_EXP. Written transposed when `transpose` (ia, ea shaped like x.T)."""
    r, c = x.shape
    for i in prange(r):
        for j in range(c):
            v = x[i, j]
            if v == 0.0:
                s = 0
                e = ZERO_EXP
            else:
                _, e2 = math.frexp(v)
                e = max(e2 - 1, esub)
                s = np.int64(math.ldexp(v, p - e))
            if transpose:
                ia[j, i] = s
                ea[j, i] = e
            else:
                ia[i, j] = s
                ea[i, j] = e
