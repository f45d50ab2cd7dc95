"""numerics.ops against an independent exact oracle (fractions): every pair of codes of 8-bit formats
(65,536 pairs per op), samples for 16- and 32-bit formats, every deterministic rounding mode."""

import functools
import math
from bisect import bisect_left
from fractions import Fraction

import numpy as np
import pytest

import numerics as nx
from numerics import RoundMode, ops

MODES = [RoundMode.TIES_TO_EVEN, RoundMode.TIES_TO_AWAY, RoundMode.TOWARD_ZERO, RoundMode.TOWARD_POSITIVE,
         RoundMode.TOWARD_NEGATIVE]


class FloatOracle:
    """Correct rounding of exact rationals into a float format (saturating), by its value list."""

    def __init__(self, f):
        self.f = f
        codes = np.arange(1 << f.bits)
        vals = f.decode(codes)
        fin = np.isfinite(vals) & (vals >= 0)
        mags = sorted({Fraction(float(v)) for v in vals[fin]})
        self.mags = mags
        self.max = mags[-1]
        # the code of each magnitude (for ties to even: the code's last bit)
        self.code_of = {Fraction(float(v)): int(c) for v, c in zip(vals[fin][::-1], codes[fin][::-1])}

    def round(self, q, mode, zero_sign=1):
        """Float64 value of the correctly rounded q (Fraction); zero_sign: the sign of an exact zero."""
        if q == 0:
            return math.copysign(0.0, zero_sign)
        neg = q < 0
        x = -q if neg else q
        if x > self.max:
            v = self.max
        else:
            i = bisect_left(self.mags, x)
            if self.mags[i] == x:
                v = x
            else:
                lo, hi = self.mags[i - 1], self.mags[i]
                away = {RoundMode.TOWARD_ZERO: False, RoundMode.TOWARD_POSITIVE: not neg,
                        RoundMode.TOWARD_NEGATIVE: neg}.get(mode)
                if away is None:
                    mid = (lo + hi) / 2
                    if x != mid:
                        away = x > mid
                    elif mode == RoundMode.TIES_TO_AWAY:
                        away = True
                    else:
                        away = self.code_of[hi] % 2 == 0
                v = hi if away else lo
        return -float(v) if neg else float(v)


def posit_bits(q, n, es):
    """The bit string of the nonzero rational q as posit<n, es> before rounding (Posit Standard 2022 §4):
    (negative, the n - 1 kept magnitude bits as an integer, the guard bit, the sticky bit). Independent of
    the rounding mode, so one call serves every mode (posit_pick)."""
    neg = q < 0
    x = -q if neg else q
    scale = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** scale > x:
        scale -= 1
    k, e = divmod(scale, 1 << es)
    bits = [1] * (k + 1) + [0] if k >= 0 else [0] * (-k) + [1]
    bits += [(e >> (es - 1 - i)) & 1 for i in range(es)]
    frac = x / Fraction(2) ** scale - 1
    while len(bits) < n + 1:
        frac *= 2
        b = int(frac >= 1)
        bits.append(b)
        frac -= b
    body, guard = bits[:n - 1], bits[n - 1]
    sticky = frac != 0 or any(bits[n:])
    return neg, int("".join(map(str, body)), 2), guard, sticky


def posit_pick(neg, m, guard, sticky, n, mode):
    """The posit<n> code of posit_bits's bit string rounded in `mode`: the rational's code by rounding its
    bit string (Posit Standard 2022 §4)."""
    up = {RoundMode.TIES_TO_EVEN: guard and (sticky or m % 2 == 1), RoundMode.TIES_TO_AWAY: bool(guard),
          RoundMode.TOWARD_ZERO: False, RoundMode.TOWARD_POSITIVE: (not neg) and (guard or sticky),
          RoundMode.TOWARD_NEGATIVE: neg and (guard or sticky)}[mode]
    m = min(max(m + up, 1), (1 << (n - 1)) - 1)  # never to 0, never to NaR
    return (-m) % (1 << n) if neg else m


def _exact(op, a, b, c=None):
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / b
    if op == "fma":
        return a * b + c
    raise AssertionError(op)


def _float_expected(f, oracle, op, xa, xb, modes, xc=None):
    """Expected codes in each mode ({mode: codes}) for float operands given as float64 arrays (specials by
    IEEE float arithmetic). The exact result of each pair is computed once for all modes, and each distinct
    exact result is rounded once per mode (many pairs share one: a + b = b + a)."""
    out = {mode: np.empty(xa.shape, np.float64) for mode in modes}
    with np.errstate(all="ignore"):
        special = {"add": xa + xb, "sub": xa - xb, "mul": xa * xb, "div": xa / xb}.get(op)
        if op == "fma":
            special = xa * xb + xc
    frac = functools.cache(lambda v: Fraction(v))
    rounded = {}  # exact nonzero result -> its rounding in each mode
    for i in range(xa.size):
        a, b = float(xa.flat[i]), float(xb.flat[i])
        cc = None if xc is None else float(xc.flat[i])
        args = (a, b) if cc is None else (a, b, cc)
        if not all(math.isfinite(v) for v in args) or (op == "div" and b == 0):
            for mode in modes:
                out[mode].flat[i] = special.flat[i]
            continue
        q = _exact(op, *(frac(v) for v in args))
        if q == 0:  # IEEE 754 §6.3 zero signs
            if op == "mul" or op == "div":
                sgn = -1 if (math.copysign(1, a) * math.copysign(1, b)) < 0 else 1
            elif op in ("add", "sub"):
                terms = [a, -b] if op == "sub" else [a, b]
            else:  # fma: the sign of the (possibly zero) product and of c
                terms = [math.copysign(1.0, a) * math.copysign(1.0, b), cc]
            for mode in modes:
                if op not in ("mul", "div"):
                    signs = {math.copysign(1, t) for t in terms}
                    sgn = signs.pop() if len(signs) == 1 else (-1 if mode == RoundMode.TOWARD_NEGATIVE else 1)
                out[mode].flat[i] = oracle.round(q, mode, sgn)
        else:
            vals = rounded.get(q)
            if vals is None:
                vals = rounded[q] = [oracle.round(q, mode) for mode in modes]
            for mode, v in zip(modes, vals):
                out[mode].flat[i] = v
    return {mode: f.encode(v, saturate=True) for mode, v in out.items()}


FLOAT8 = [("e4m3", MODES), ("e5m2", [RoundMode.TIES_TO_EVEN, RoundMode.TOWARD_NEGATIVE]),
          ("e3m2", MODES), ("e2m1", MODES), ("e4m3fnuz", [RoundMode.TIES_TO_EVEN])]


def _pairs(bits):
    c = np.arange(1 << bits)
    return np.repeat(c, 1 << bits), np.tile(c, 1 << bits)


@pytest.mark.slow
@pytest.mark.parametrize("name,modes", FLOAT8, ids=[n for n, _ in FLOAT8])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_float_formats_every_pair(name, modes, op):
    f = nx.get_format(name)
    oracle = FloatOracle(f)
    a, b = _pairs(f.bits)
    a, b = a.astype(f.code_dtype), b.astype(f.code_dtype)
    if op == "div" and not f.has_nan:  # x / 0 has no value in formats without inf/NaN: tested as an error
        keep = f.decode(b) != 0
        a, b = a[keep], b[keep]
    xa, xb = f.decode(a), f.decode(b)
    expected = _float_expected(f, oracle, op, xa, xb, modes)
    for mode in modes:
        got = getattr(ops, op)(a, b, f, mode)
        want = expected[mode]
        nanmask = np.isnan(f.decode(want))
        assert np.array_equal(np.isnan(f.decode(got)), nanmask), (name, op, mode)
        bad = np.flatnonzero((got != want) & ~nanmask)
        assert bad.size == 0, (f"{name} {op} {mode.name}: {bad.size} mismatches, first "
                               f"{xa[bad[0]]!r} {op} {xb[bad[0]]!r} -> {f.decode(got[bad[0]])!r}, "
                               f"expected {f.decode(want[bad[0]])!r}")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["e4m3", "e5m2", "e2m1"])
def test_sqrt_every_code(name):
    f = nx.get_format(name)
    oracle = FloatOracle(f)
    c = np.arange(1 << f.bits).astype(f.code_dtype)
    if not f.has_nan:  # sqrt of a negative number has no value there: tested as an error
        c = c[~(f.decode(c) < 0)]
    x = f.decode(c)
    mags = oracle.mags
    squares = [m * m for m in mags]
    for mode in MODES:
        got = ops.sqrt(c, f, mode)
        for i, v in enumerate(x):
            if not math.isfinite(v) or v < 0 or v == 0:
                continue
            # sqrt(v) against the value grid, exactly: compare squares
            q = Fraction(v)
            j = bisect_left(squares, q)
            if j < len(mags) and mags[j] * mags[j] == q:
                want = mags[j]
            elif j >= len(mags):
                want = oracle.max
            else:
                lo, hi = mags[j - 1], mags[j]
                mid = (lo + hi) / 2
                away = {RoundMode.TOWARD_ZERO: False, RoundMode.TOWARD_NEGATIVE: False,
                        RoundMode.TOWARD_POSITIVE: True}.get(mode)
                if away is None:
                    away = q > mid * mid if q != mid * mid else (mode == RoundMode.TIES_TO_AWAY
                                                                 or oracle.code_of[hi] % 2 == 0)
                want = hi if away else lo
            assert f.decode(got[i]) == float(want), (name, mode, v)
        neg = f.encode(np.array([-1.0]))
        if f.has_nan:
            assert np.isnan(f.decode(ops.sqrt(neg, f)))[0]


@pytest.mark.slow
@pytest.mark.parametrize("n,modes", [(8, MODES), (6, [RoundMode.TIES_TO_EVEN])])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_posits_every_pair(n, modes, op):
    f = nx.PositFormat(bits=n, es=2)
    a, b = _pairs(n)
    xa, xb = f.decode(a.astype(f.code_dtype)), f.decode(b.astype(f.code_dtype))
    frac = {v: Fraction(v) for v in f.values()}
    bit_strings = {}  # exact nonzero result -> posit_bits (one per distinct result: a * b = b * a)
    want = {mode: np.empty(a.size, np.int64) for mode in modes}
    for i in range(a.size):
        va, vb = xa[i], xb[i]
        if not (math.isfinite(va) and math.isfinite(vb)) or (op == "div" and vb == 0):
            for mode in modes:
                want[mode][i] = -1  # NaR, checked below
            continue
        q = _exact(op, frac[va], frac[vb])
        if q == 0:
            for mode in modes:
                want[mode][i] = 0
            continue
        s = bit_strings.get(q)
        if s is None:
            s = bit_strings[q] = posit_bits(q, n, 2)
        for mode in modes:
            want[mode][i] = posit_pick(*s, n, mode)
    nar = want[modes[0]] == -1
    for mode in modes:
        got = getattr(ops, op)(a.astype(f.code_dtype), b.astype(f.code_dtype), f, mode).astype(np.int64)
        assert (got[nar] == f.nan_code).all(), (op, mode.name, "NaR")
        bad = np.flatnonzero(got != np.where(nar, f.nan_code, want[mode]))
        assert bad.size == 0, (op, mode.name, f"{bad.size} mismatches, first", xa[bad[0]], xb[bad[0]],
                               f.decode(got[bad[0]:bad[0] + 1].astype(f.code_dtype)),
                               f.decode(want[mode][bad[0]:bad[0] + 1].astype(f.code_dtype)))


@pytest.mark.slow
def test_int8_every_pair():
    f = nx.get_format("int8")
    a, b = _pairs(8)
    a, b = a.astype(np.uint8), b.astype(np.uint8)
    xa, xb = f.decode(a).astype(np.int64), f.decode(b).astype(np.int64)
    for over in ("saturate", "wrap"):
        fix = (lambda v: np.clip(v, -128, 127)) if over == "saturate" else (lambda v: (v + 128) % 256 - 128)
        assert np.array_equal(f.decode(ops.add(a, b, f, overflow=over)), fix(xa + xb))
        assert np.array_equal(f.decode(ops.sub(a, b, f, overflow=over)), fix(xa - xb))
        assert np.array_equal(f.decode(ops.mul(a, b, f, overflow=over)), fix(xa * xb))
    nz = xb != 0
    for mode in MODES:
        got = f.decode(ops.div(a[nz], b[nz], f, mode))
        want = _round_ratio(xa[nz], xb[nz], mode)
        assert np.array_equal(got, np.clip(want, -128, 127))


def _round_ratio(p, q, mode):
    """p / q rounded to an integer in `mode`, in exact integer arithmetic (int64 arrays, q != 0): floor
    division, then the remainder's fraction of |q| against one half."""
    fl = p // q  # floor, also for negative operands
    twice_rem = 2 * np.abs(p - fl * q)  # 2 * (p/q - fl) * |q|, exact
    half = twice_rem == np.abs(q)  # the fraction is exactly 1/2
    over = twice_rem > np.abs(q)
    negative = (p < 0) != (q < 0)
    up = {RoundMode.TOWARD_ZERO: negative, RoundMode.TOWARD_POSITIVE: np.ones(p.shape, bool),
          RoundMode.TOWARD_NEGATIVE: np.zeros(p.shape, bool),
          RoundMode.TIES_TO_AWAY: over | (half & ~negative),
          RoundMode.TIES_TO_EVEN: over | (half & (fl % 2 == 1))}[mode]
    return fl + (up & (twice_rem != 0))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fp16", "bf16", "fp32", "e4m3", "posit16", "posit32", "posit8"])
def test_fma_and_wide_formats_sampled(name):
    f = nx.get_format(name)
    rng = np.random.default_rng(0)
    n = 3000
    vals = rng.standard_normal((3, n)) * np.exp(rng.uniform(-6, 6, (3, n)))
    a, b, c = (f.encode(v) for v in vals)
    xa, xb, xc = f.decode(a), f.decode(b), f.decode(c)
    is_posit = isinstance(f, nx.PositFormat)
    oracle = None if is_posit else FloatOracleWide(f)
    modes = (RoundMode.TIES_TO_EVEN, RoundMode.TOWARD_NEGATIVE, RoundMode.TIES_TO_AWAY)
    fa, fb, fc = ([Fraction(float(v)) for v in x] for x in (xa, xb, xc))
    for op in ("add", "mul", "div", "fma"):
        got = {mode: ops.fma(a, b, c, f, mode) if op == "fma" else getattr(ops, op)(a, b, f, mode) for mode in modes}
        got_value = {mode: f.decode(g) for mode, g in got.items()}
        for i in range(n):
            args = (fa[i], fb[i], fc[i]) if op == "fma" else (fa[i], fb[i])
            if op == "div" and args[1] == 0:
                continue
            q = _exact(op, *args)  # once for every mode
            if is_posit:
                s = posit_bits(q, f.bits, f.es) if q != 0 else None
                for mode in modes:
                    want = 0 if s is None else posit_pick(*s, f.bits, mode)
                    assert got[mode][i] == want, (name, op, mode.name, i)
            elif q != 0:
                for mode in modes:
                    assert got_value[mode][i] == oracle.round(q, mode), (name, op, mode.name, i)


class FloatOracleWide:
    """Correct rounding into a wide IEEE-like format from its parameters (no value list)."""

    def __init__(self, f):
        self.p = f.man_bits + 1
        self.emin = 1 - f.bias
        self.max = Fraction(float(f.max))

    def round(self, q, mode):
        neg = q < 0
        x = -q if neg else q
        if x > self.max:
            return -float(self.max) if neg else float(self.max)
        e = x.numerator.bit_length() - x.denominator.bit_length()
        if Fraction(2) ** e > x:
            e -= 1
        e = max(e, self.emin)
        ulp = Fraction(2) ** (e - self.p + 1)
        k = x / ulp
        lo = math.floor(k)
        r = k - lo
        if r == 0:
            m = lo
        else:
            away = {RoundMode.TOWARD_ZERO: False, RoundMode.TOWARD_POSITIVE: not neg,
                    RoundMode.TOWARD_NEGATIVE: neg}.get(mode)
            if away is None:
                half = Fraction(1, 2)
                away = r > half or (r == half and (mode == RoundMode.TIES_TO_AWAY or lo % 2 == 1))
            m = lo + away
        v = min(m * ulp, self.max)
        return -float(v) if neg else float(v)


def test_neg_abs_compare_convert():
    for name in ("e4m3", "e5m2", "e4m3fnuz", "posit8", "int8"):
        f = nx.get_format(name)
        c = np.arange(256).astype(np.uint8)
        x = f.decode(c)
        fin = np.isfinite(x)
        if name != "int8":
            np.testing.assert_array_equal(f.decode(ops.neg(c, f))[fin], -x[fin])
            np.testing.assert_array_equal(f.decode(ops.abs(c, f))[fin], np.abs(x[fin]))
        cmp = ops.compare(c[:, None], c[None, :], f)
        if isinstance(f, nx.PositFormat):
            assert cmp[128, 128] == 0 and (cmp[128, np.arange(256) != 128] == -1).all()  # NaR lowest, equal to itself
        else:
            xa, xb = x[:, None], x[None, :]
            with np.errstate(invalid="ignore"):
                want = np.where(np.isnan(xa) | np.isnan(xb), 2, np.sign(xa - xb))
            want = np.where(xa == xb, 0, want)
            np.testing.assert_array_equal(cmp, want)
    assert ops.compare(np.uint8(0x80), np.uint8(0), "e4m3") == 0  # -0 == +0
    e4, p8 = nx.get_format("e4m3"), nx.get_format("posit8")
    c = np.arange(256).astype(np.uint8)
    fin = np.isfinite(e4.decode(c))
    np.testing.assert_array_equal(ops.convert(c[fin], "e4m3", "posit8"), p8.encode(e4.decode(c[fin])))
    assert nx.get_format("int8").decode(ops.neg(np.uint8(0x80), "int8")) == 127  # -(-128) saturates
    assert nx.get_format("int8").decode(ops.neg(np.uint8(0x80), "int8", overflow="wrap")) == -128


def test_errors():
    with pytest.raises(TypeError, match="float, posit and integer formats"):
        ops.add(np.uint8(0), np.uint8(1), "nf4")
    with pytest.raises(ValueError, match="unknown rounding"):
        ops.add(np.uint8(0), np.uint8(1), "e4m3", "nearest")
    with pytest.raises(ValueError, match="has no NaN"):
        ops.div(np.uint8(0), np.uint8(0), "e2m1")
    with pytest.raises(ValueError, match="has no NaN"):
        ops.sqrt(nx.get_format("e2m1").encode(np.array([-1.0])), "e2m1")
    with pytest.raises(ValueError, match="division by zero"):
        ops.div(np.uint8(1), np.uint8(0), "int8")
    with pytest.raises(ValueError, match="overflow must be"):
        ops.add(np.uint8(1), np.uint8(1), "int8", overflow="clip")
