"""The small-call paths of issue #17: the serial twins of the float, posit and integer codec kernels give
the parallel kernels' bits (a consistency test: tests/test_posits.py and test_int_formats.py check the
codecs against independent references), kernels.eft rounds to odd exactly (checked against fractions),
nx.ops's integer paths (mul, div, fma, sqrt, fixed point included) match exact rationals, and nx.ops keeps
shapes (0-d, broadcast) on its lean path."""

import math
from fractions import Fraction

import numpy as np
import pytest

import numerics as nx
from kernels import eft, float_codec, int_codec, posit_codec
from numerics import ops
from numerics.formats import inputs


def _odd_reference(q: Fraction) -> float:
    """q rounded to odd at float64's 53 bits: q itself when representable, else whichever of its two
    float64 neighbours has an odd last bit (exact rational arithmetic)."""
    s = float(q)  # correctly rounded (RNE) by Fraction.__float__
    if Fraction(s) == q:
        return s
    other = math.nextafter(s, math.inf if Fraction(s) < q else -math.inf)
    return s if np.array(s).view(np.int64) & 1 else other


def _operand_values(rng, n):
    """float64 values of fp32 codes (what nx.ops feeds kernels.eft): random magnitudes across the range,
    signed zeros, and nearby values so that sums cancel."""
    v = rng.standard_normal(n) * np.exp2(rng.integers(-60, 60, n))
    v = v.astype(np.float32).astype(np.float64)
    v[:8] = [0.0, -0.0, 1.0, -1.0, 3.0, 2.0**-126, 2.0**-149, float(np.float32(3.4e38))]
    return v


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "sqrt"])
def test_eft_binary_rounds_to_odd_exactly(op):
    rng = np.random.default_rng(17)
    x = _operand_values(rng, 400)
    y = np.where(rng.random(400) < 0.3, -x * (1 + 2.0**-20), _operand_values(rng, 400))
    if op == "sqrt":
        x = np.abs(x)
    if op == "div":
        y[y == 0] = 1.5
    code = {"add": eft.ADD, "sub": eft.SUB, "mul": eft.MUL, "div": eft.DIV, "sqrt": eft.SQRT}[op]
    got = eft.odd_binary(code, x, y, False, np.empty(x.shape))
    for xi, yi, gi in zip(x, y, got):
        a, b = Fraction(xi), Fraction(yi)
        if op == "sqrt":
            if xi == 0:
                assert gi == 0 and math.copysign(1, gi) == math.copysign(1, xi)
                continue
            # the odd float64 s: s^2 == x exactly, or x lies strictly between the squares of s's neighbours
            s = float(np.sqrt(xi))
            cands = [s, math.nextafter(s, 0), math.nextafter(s, math.inf)]
            want = next(c for c in cands if Fraction(c) ** 2 == a) if any(Fraction(c) ** 2 == a for c in cands) \
                else next(c for c in cands if np.array(c).view(np.int64) & 1
                          and (Fraction(math.nextafter(c, 0)) ** 2 < a < Fraction(math.nextafter(c, math.inf)) ** 2))
            assert gi == want, (xi, gi, want)
            continue
        q = a + b if op == "add" else a - b if op == "sub" else a * b if op == "mul" else a / b
        want = _odd_reference(q)
        assert gi == want, (op, xi, yi, gi, want)
        if want == 0:  # exact zero: +0 for opposite signs (RNE), as IEEE 754 §6.3
            assert math.copysign(1, gi) == math.copysign(1, {"add": xi + yi, "sub": xi - yi}.get(op, gi))


def test_eft_fma_rounds_to_odd_exactly():
    rng = np.random.default_rng(3)
    x, y = _operand_values(rng, 300), _operand_values(rng, 300)
    z = np.where(rng.random(300) < 0.4, -(x * y), _operand_values(rng, 300))
    got = eft.odd_fma(x, y, z, False, np.empty(x.shape))
    for xi, yi, zi, gi in zip(x, y, z, got):
        assert gi == _odd_reference(Fraction(xi) * Fraction(yi) + Fraction(zi)), (xi, yi, zi)


@pytest.mark.parametrize("name", ["e4m3", "fp16", "e2m1", "e8m0"])
def test_serial_twins_give_the_parallel_bits(name):
    """Both twins on the same inputs (many chunks, specials, every rounding mode): identical codes."""
    f = nx.get_format(name)
    rng = np.random.default_rng(5)
    n = 3 * float_codec.CHUNK + 11
    x = rng.standard_normal(n) * np.exp2(rng.integers(-20, 20, n))
    x[::97] = np.nan
    x[::101] = np.inf
    x[::103] = -0.0
    x[::107] = 5e-324  # a float64 subnormal: the general path
    bits = x.view(np.uint64)
    fmt = (f.exp_bits, f.man_bits, f.bias, f.signed, f.zero, f.subnormals, f.max_code, f._inf_mag, f._nan_mag,
           f.nan == nx.NanPolicy.FNUZ)
    shifts = np.zeros(-(-n // float_codec.CHUNK), np.int64)
    for mode in (0, 1, 2, 3, 4, 5, 6):
        for saturate in (True, False):
            outs = []
            for fast, general in ((float_codec._encode_fast, float_codec._encode_general),
                                  (float_codec._encode_fast_serial, float_codec._encode_general_serial)):
                out = np.empty(n, f.code_dtype)
                special = fast(bits, 11, 52, 1023, out, fmt, mode, saturate, 20, np.uint64(9), shifts,
                               float_codec.CHUNK)
                bad = general(bits, 11, 52, 1023, out, fmt, mode, saturate, 20, np.uint64(9), 0, shifts,
                              float_codec.CHUNK, special)
                outs.append((out, special, bad))
            assert np.array_equal(outs[0][0], outs[1][0]) and np.array_equal(outs[0][1], outs[1][1])
            assert outs[0][2] == outs[1][2]
    codes = np.arange(1 << f.bits, dtype=f.code_dtype).repeat(n >> f.bits)
    args = (f.exp_bits, f.man_bits, f.bias, f.signed, f.zero, f.subnormals, f._inf_mag, f._nan_mag,
            f.nan == nx.NanPolicy.FNUZ)
    par = float_codec._decode_float(codes, np.empty(codes.shape), *args)
    ser = float_codec._decode_float_serial(codes, np.empty(codes.shape), *args)
    assert np.array_equal(par.view(np.uint64), ser.view(np.uint64))
    table = f._table
    assert np.array_equal(float_codec._take_table(table, codes, np.empty(codes.shape)).view(np.uint64),
                          float_codec._take_table_serial(table, codes, np.empty(codes.shape)).view(np.uint64))


MODES = (0, 1, 2, 3, 4, 5, 6)  # kernels.rounding: RNE, RNA, RZ, RU, RD, RO, SR
SR_K, KEY = 20, np.uint64(9)


def _same(a, b):
    return a.dtype == b.dtype and np.array_equal(a.view(np.uint8), b.view(np.uint8))


def _posit_encode_twins(x, n, es, code_dtype):
    """Both twins of encode_posit (every mode) and of encode_posit_rne (where it applies) on x."""
    b, se, sm, sb = inputs.source_bits(x)
    for mode in MODES:
        par = posit_codec._encode_posit(b, se, sm, sb, np.empty(x.shape, code_dtype), n, es, mode, SR_K, KEY)
        ser = posit_codec._encode_posit_serial(b, se, sm, sb, np.empty(x.shape, code_dtype), n, es, mode, SR_K,
                                               KEY)
        assert _same(par, ser), (n, es, mode, x.dtype)
    if posit_codec.rne_fast_path_ok(se, sm, sb, n, es):
        par = posit_codec._encode_posit_rne(b, se, sm, sb, np.empty(x.shape, code_dtype), n, es)
        ser = posit_codec._encode_posit_rne_serial(b, se, sm, sb, np.empty(x.shape, code_dtype), n, es)
        assert _same(par, ser), (n, es, "rne fast path", x.dtype)


def _posit_decode_twins(codes, n, es):
    par = posit_codec._decode_posit(codes, np.empty(codes.shape), n, es)
    ser = posit_codec._decode_posit_serial(codes, np.empty(codes.shape), n, es)
    assert _same(par, ser), (n, es)
    return ser


def _around(values):
    """The values, their midpoints (the ties), and each float64 neighbour of both: every rounding case."""
    v = np.unique(values[np.isfinite(values)])
    mid = (v[:-1] + v[1:]) / 2
    pts = np.concatenate([v, mid])
    pts = np.concatenate([pts, np.nextafter(pts, -np.inf), np.nextafter(pts, np.inf)])
    special = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1e300, -1e300]
    return np.concatenate([pts, -pts, special])


@pytest.mark.parametrize("es", [0, 1, 2, 3, 4])
def test_posit_twins_on_every_posit_of_at_most_16_bits(es):
    """Every code of posit<n, es>, n <= 16, decoded by both twins; both encoders' twins on every value, tie
    and neighbour of that posit, from float64 (and float32 for posit16), in every rounding mode."""
    for n in range(2, 17):
        code_dtype = np.uint8 if n <= 8 else np.uint16
        codes = np.arange(1 << n, dtype=code_dtype)
        x = _around(_posit_decode_twins(codes, n, es))
        _posit_encode_twins(x, n, es, code_dtype)
        if n == 16:
            _posit_encode_twins(x.astype(np.float32), n, es, code_dtype)


def _random_values(n, seed):
    """Seeded float64 across a wide range of magnitudes (many chunks), with specials and exact ties."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp2(rng.integers(-140, 140, n))
    x[::7] = np.round(x[::7] * 4) / 4  # quarters and halves: integer ties
    x[::97] = np.nan
    x[::101] = np.inf
    x[::103] = -0.0
    x[::107] = 5e-324
    return x


@pytest.mark.parametrize("es", [2, 3])
def test_posit32_twins_on_random_inputs(es):
    n = 3 * float_codec.CHUNK + 11
    x = _random_values(n, es)
    _posit_encode_twins(x, 32, es, np.uint32)
    _posit_encode_twins(x.astype(np.float32), 32, es, np.uint32)
    codes = np.random.default_rng(es).integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    codes[:3] = [0, 1 << 31, (1 << 32) - 1]
    _posit_decode_twins(codes, 32, es)


def _int_twins(x, bits, lo, hi, code_dtype):
    for mode in MODES:
        for saturate in (True, False):
            outs = []
            for kernel in (int_codec._encode_int, int_codec._encode_int_serial):
                out = np.empty(x.shape, code_dtype)
                bad = kernel(x, out, bits, lo, hi, saturate, mode, SR_K, KEY, 0)
                outs.append((out, bad))
            assert _same(outs[0][0], outs[1][0]) and outs[0][1] == outs[1][1], (bits, lo, mode, saturate)


def _int_decode_twins(codes, bits, signed):
    par = int_codec._decode_int(codes, np.empty(codes.shape), bits, signed)
    ser = int_codec._decode_int_serial(codes, np.empty(codes.shape), bits, signed)
    assert _same(par, ser), (bits, signed)


@pytest.mark.slow
@pytest.mark.parametrize("signed", [True, False])
def test_int_twins_on_every_int_of_at_most_16_bits(signed):
    """Every code of every integer format of 2..16 bits decoded by both twins; the encoder's twins on every
    integer of the range and beyond it, the halves and quarters between them, their float64 neighbours and
    the specials, in every rounding mode, saturating and wrapping (and narrow range when signed)."""
    for bits in range(2, 17):
        code_dtype = np.uint8 if bits <= 8 else np.uint16
        _int_decode_twins(np.arange(1 << bits, dtype=code_dtype), bits, signed)
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        k = np.arange(lo - 3, hi + 4, dtype=np.float64)
        x = _around(np.concatenate([k, k + 0.25]))
        x = np.concatenate([x, [2.0**62, -(2.0**62), 2.0**70 + 2.0**18]])
        _int_twins(x, bits, lo, hi, code_dtype)
        if signed:
            _int_twins(x, bits, lo + 1, hi, code_dtype)


@pytest.mark.parametrize("signed", [True, False])
def test_int32_twins_on_random_inputs(signed):
    n = 3 * float_codec.CHUNK + 11
    x = _random_values(n, 11 + signed)
    x[::2] = np.ldexp(x[::2], -np.frexp(x[::2])[1] + 32)  # half of them in [2^31, 2^32): the 32-bit range's edge
    lo, hi = (-(1 << 31), (1 << 31) - 1) if signed else (0, (1 << 32) - 1)
    _int_twins(x, 32, lo, hi, np.uint32)
    codes = np.random.default_rng(signed).integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32)
    _int_decode_twins(codes, 32, signed)


def _round_rational(q: Fraction, mode) -> int:
    """q rounded to an integer by `mode` (exact rational arithmetic)."""
    fl = math.floor(q)
    frac = q - fl
    if frac == 0:
        return fl
    up = {nx.RoundMode.TOWARD_ZERO: q < 0, nx.RoundMode.TOWARD_POSITIVE: True, nx.RoundMode.TOWARD_NEGATIVE: False,
          nx.RoundMode.TIES_TO_AWAY: frac > Fraction(1, 2) or (frac == Fraction(1, 2) and q > 0),
          nx.RoundMode.TIES_TO_EVEN: frac > Fraction(1, 2) or (frac == Fraction(1, 2) and fl % 2 == 1),
          nx.RoundMode.TO_ODD: fl % 2 == 0}[mode]
    return fl + up


def _sqrt_rounded(n: int, mode) -> int:
    """sqrt(n) for an integer n >= 0 rounded by `mode`, found by comparing squares (no isqrt)."""
    r = int(math.sqrt(n))
    while r * r > n:
        r -= 1
    while (r + 1) * (r + 1) <= n:
        r += 1
    if r * r == n:
        return r
    above_half = Fraction(2 * r + 1, 2) ** 2 < n  # never equal: no ties
    up = {nx.RoundMode.TOWARD_ZERO: False, nx.RoundMode.TOWARD_NEGATIVE: False, nx.RoundMode.TOWARD_POSITIVE: True,
          nx.RoundMode.TIES_TO_AWAY: above_half, nx.RoundMode.TIES_TO_EVEN: above_half,
          nx.RoundMode.TO_ODD: r % 2 == 0}[mode]
    return r + up


@pytest.mark.parametrize("fmt", [nx.IntFormat(bits=8), nx.IntFormat(bits=8, frac_bits=6),
                                 nx.IntFormat(bits=5, signed=False, frac_bits=2),
                                 nx.IntFormat(bits=6, narrow=True, frac_bits=1)], ids=lambda f: f.name)
def test_integer_mul_div_fma_sqrt_against_exact_rationals(fmt):
    """The integer paths of nx.ops (including fixed point) against exact rationals, in every mode and both
    overflow rules: mul, div and fma on sampled operands, sqrt on every code."""
    f, fb = fmt, fmt.frac_bits
    codes = np.arange(1 << f.bits, dtype=f.code_dtype)
    codes = codes[f._valid_code_mask(codes)]
    raw = {int(c): int(Fraction(float(v)) * 2**fb) for c, v in zip(codes, f.decode(codes))}  # value * 2^fb
    rng = np.random.default_rng(f.bits + fb)
    a, b, c = (rng.choice(codes, 600) for _ in range(3))
    b = np.where(f.decode(b) == 0, codes[-1], b).astype(f.code_dtype)
    span = 1 << f.bits

    def fits(k, overflow):
        if overflow == "saturate":
            return min(max(k, f.lowest), f.highest)
        return (k - f.lowest) % span + f.lowest

    def got_raw(out):
        return [int(Fraction(float(v)) * 2**fb) for v in f.decode(out)]

    for overflow in ("saturate", "wrap") if not f.narrow else ("saturate",):
        for mode in (m for m in nx.RoundMode if m != nx.RoundMode.STOCHASTIC):
            want = {"mul": [fits(_round_rational(Fraction(raw[x] * raw[y], 2**fb), mode), overflow)
                            for x, y in zip(a.tolist(), b.tolist())],
                    "div": [fits(_round_rational(Fraction(raw[x] * 2**fb, raw[y]), mode), overflow)
                            for x, y in zip(a.tolist(), b.tolist())],
                    "fma": [fits(_round_rational(Fraction(raw[x] * raw[y] + raw[z] * 2**fb, 2**fb), mode), overflow)
                            for x, y, z in zip(a.tolist(), b.tolist(), c.tolist())]}
            assert got_raw(ops.mul(a, b, f, mode, overflow=overflow)) == want["mul"], (mode, overflow)
            assert got_raw(ops.div(a, b, f, mode, overflow=overflow)) == want["div"], (mode, overflow)
            assert got_raw(ops.fma(a, b, c, f, mode, overflow=overflow)) == want["fma"], (mode, overflow)
            nonneg = codes[f.decode(codes) >= 0]
            want_sqrt = [fits(_sqrt_rounded(raw[x] * 2**fb, mode), overflow) for x in nonneg.tolist()]
            assert got_raw(ops.sqrt(nonneg, f, mode, overflow=overflow)) == want_sqrt, (mode, overflow)
            for i in (0, 7, 99):  # one element and 0-d: the small-call path gives the same
                assert got_raw(ops.fma(a[i:i + 1], b[i:i + 1], c[i:i + 1], f, mode, overflow=overflow)) == \
                    want["fma"][i:i + 1]
                assert int(ops.div(a[i], b[i], f, mode, overflow=overflow)) == \
                    int(ops.div(a[i:i + 1], b[i:i + 1], f, mode, overflow=overflow)[0])


def test_small_and_large_calls_agree():
    """nx.ops on one element equals the same element of a call above the serial threshold."""
    f = nx.get_format("e5m2")
    rng = np.random.default_rng(1)
    n = float_codec.SERIAL_MAX + 5
    a = rng.integers(0, 256, n).astype(np.uint8)
    b = rng.integers(0, 256, n).astype(np.uint8)
    for op in (ops.add, ops.mul, ops.div):
        big = op(a, b, f, nx.RoundMode.TOWARD_NEGATIVE)
        for i in (0, 7, n - 1):
            assert op(a[i:i + 1], b[i:i + 1], f, nx.RoundMode.TOWARD_NEGATIVE)[0] == big[i]


def test_shapes_on_the_lean_path():
    f = nx.get_format("e4m3")
    one, two = np.uint8(0x38), np.uint8(0x40)  # 1.0, 2.0
    r = ops.add(one, two, f)
    assert r.shape == () and f.decode(r) == 3.0
    col = np.array([[0x38], [0x40]], np.uint8)
    row = np.array([0x38, 0x40, 0x44], np.uint8)
    assert ops.mul(col, row, f).shape == (2, 3)
    assert np.array_equal(f.decode(ops.fma(col, row, np.uint8(0x38), f)), np.array([[2, 3, 4], [3, 5, 7.0]]))
    assert ops.compare(col, row, f).tolist() == [[0, -1, -1], [1, 0, -1]]
    assert ops.compare(np.uint8(0x7F), np.uint8(0x38), f).tolist() == 2  # NaN: unordered
    strided = np.arange(0, 64, dtype=np.uint8)[::2]  # not contiguous: the general code check
    assert np.array_equal(ops.neg(strided, f), ops.neg(strided.copy(), f))
