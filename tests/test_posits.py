"""Posits against SoftPosit (exhaustive for <= 16 bits, 10^6 samples for 32), the 2022 standard's
decoding formula transcribed literally, and exact rational arithmetic."""

from fractions import Fraction

import numpy as np
import pytest
import softposit as sp

import numerics as nx


def sp_encode(name: str, x: float) -> int:
    if name == "posit8_0":
        return sp.convertDoubleToP8(x).v
    if name == "posit16_1":
        return sp.convertDoubleToP16(x).v
    if name in ("posit32", "posit32_2"):
        return sp.convertDoubleToP32(x).v
    n = int(name[5:])  # posit8, posit16: SoftPosit's posit_2 (es = 2), left-aligned in 32 bits
    return sp.convertDoubleToPX2(x, n).v >> (32 - n)


def sp_decode(name: str, c: int) -> float:
    if name == "posit8_0":
        v = float(sp.posit8(bits=int(c)))
    elif name == "posit16_1":
        v = float(sp.posit16(bits=int(c)))
    else:
        v = float(sp.posit_2(x=int(name[5:]), bits=int(c)))
    return np.nan if np.isinf(v) else v  # SoftPosit converts NaR to inf; lowbit to NaN


SMALL = ["posit8_0", "posit16_1", "posit8", "posit16"]


@pytest.mark.parametrize("name", SMALL)
def test_decode_every_code_against_softposit(name):
    f = nx.get_format(name)
    codes = np.arange(1 << f.bits)
    want = np.array([sp_decode(name, c) for c in codes])
    assert np.array_equal(f.decode(codes), want, equal_nan=True)


def standard_value(code: int, n: int, es: int):
    """Posit Standard (2022) §3: x = ((1 - 3s) + f) * 2^((1 - 2s) * (2^es r + e + s)), read directly
    from the raw bits (no two's complement), with r the regime value, e the exponent bits and f the
    fraction in [0, 1)."""
    if code == 0:
        return Fraction(0)
    if code == 1 << (n - 1):
        return None  # NaR
    bits = [(code >> (n - 1 - i)) & 1 for i in range(n)]
    s = bits[0]
    rest = bits[1:]
    run = 1
    while run < len(rest) and rest[run] == rest[0]:
        run += 1
    r = run - 1 if rest[0] == 1 else -run
    tail = rest[run + 1:]
    ebits = (tail[:es] + [0] * es)[:es]
    e = int("".join(map(str, ebits)) or "0", 2)
    fbits = tail[es:]
    f = Fraction(int("".join(map(str, fbits)) or "0", 2), 2 ** len(fbits))
    return ((1 - 3 * s) + f) * Fraction(2) ** ((1 - 2 * s) * ((2 ** es) * r + e + s))


@pytest.mark.parametrize("name", ["posit8", "posit16", "posit8_0", "posit16_1", "posit10_3", "posit6_4"])
def test_standard_decoding_formula(name):
    f = nx.get_format(name)
    codes = np.arange(1 << f.bits)
    got = f.decode(codes)
    for c, g in zip(codes, got):
        v = standard_value(int(c), f.bits, f.es)
        assert (np.isnan(g) if v is None else Fraction(g) == v), (name, c)


@pytest.mark.slow
@pytest.mark.parametrize("name", SMALL)
def test_every_rounding_boundary_against_softposit(name):
    """All values, the arithmetic midpoints between neighbours, one float64 ulp either side, and
    values past maxpos and below minpos."""
    f = nx.get_format(name)
    v = f.values()
    mids = (v[:-1] + v[1:]) / 2
    x = np.concatenate([v, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf),
                        v * 1.375, [f.max * 4, -f.max * 4, f.min_normal / 4, -f.min_normal / 4, np.inf, np.nan]])
    want = np.array([sp_encode(name, float(xx)) for xx in x])
    want[np.isinf(x) | np.isnan(x)] = 1 << (f.bits - 1)  # lowbit: NaN and inf give NaR
    assert np.array_equal(f.encode(x).astype(np.int64), want)
    for dtype in (np.float32,):
        xs = x.astype(dtype)
        ok = np.isfinite(xs)
        want32 = np.array([sp_encode(name, float(xx)) for xx in xs[ok]])
        assert np.array_equal(f.encode(xs[ok]).astype(np.int64), want32)


@pytest.mark.slow
def test_posit32_samples_every_regime_length():
    f = nx.get_format("posit32")
    rng = np.random.default_rng(0)
    # codes with every regime run length 1..30, then values perturbed off the grid; all 10^6 against SoftPosit
    n = 1_000_000
    run = rng.integers(1, 31, n)
    sign = rng.integers(0, 2, n)
    body = rng.integers(0, 2**31, n, dtype=np.int64)
    lead = rng.integers(0, 2, n)
    regime = np.where(lead == 1, ((1 << run) - 1) << (31 - run), 1 << (30 - run))
    low = body & ((1 << np.maximum(30 - run, 0)) - 1)
    codes = (regime | low) & (2**31 - 1)
    vals = f.decode(np.where(sign == 1, (-codes) & 0xFFFFFFFF, codes).astype(np.uint32))
    x = vals * (1 + rng.uniform(-2.0**-20, 2.0**-20, n))
    x = x[np.isfinite(x)]
    got = f.encode(x)
    conv = sp.convertDoubleToP32
    want = np.fromiter((conv(v).v for v in x.tolist()), dtype=np.int64, count=x.size)
    assert np.array_equal(got.astype(np.int64), want)
    assert np.array_equal(f.decode(f.encode(vals)), vals)  # every sampled code re-encodes to itself


def exact_round_bitstring(x: Fraction, n: int, es: int) -> int:
    """Reference encoder in exact arithmetic: list every positive posit as (value, code) and round
    on the bit string: between neighbours, compare x with the value of the code 2c+1 of posit<n+1>
    (the bit-string midpoint), ties to the even code."""
    f1 = nx.PositFormat(bits=n + 1, es=es)
    a = abs(x)
    f = nx.PositFormat(bits=n, es=es)
    vals = f.values()
    pos = [Fraction(v) for v in vals[vals > 0]]
    import bisect
    i = bisect.bisect_right(pos, a) - 1
    if i < 0:
        c = 1
    elif i == len(pos) - 1:
        c = len(pos)
    else:
        lo_code = i + 1
        mid = Fraction(f1.decode(np.array([2 * lo_code + 1]))[0])
        c = lo_code + 1 if a > mid or (a == mid and lo_code % 2 == 1) else lo_code
    return (-c) % (1 << n) if x < 0 else c


@pytest.mark.slow
@pytest.mark.parametrize("name", ["posit8", "posit8_0", "posit6_1", "posit10_2"])
def test_against_exact_bitstring_rounding(name):
    f = nx.get_format(name)
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(300) * 10.0 ** rng.integers(-8, 8, 300), f.values()[1::3] * 1.01])
    x = x[x != 0]
    got = f.encode(x)
    for xi, g in zip(x, got):
        assert int(g) == exact_round_bitstring(Fraction(xi), f.bits, f.es), (name, xi)


def test_properties_of_posits():
    f = nx.get_format("posit16")
    assert (f.max, f.min_normal) == (2.0**56, 2.0**-56)  # maxpos = 2^(4n-8) for es = 2
    assert nx.get_format("posit8").max == 2.0**24 and nx.get_format("posit8_0").max == 64
    assert f.encode(np.array([0.0, -0.0, np.nan, np.inf, 1e300, 1e-300, -1e-300])).tolist() == \
        [0, 0, 0x8000, 0x8000, 0x7FFF, 1, 0xFFFF]
    assert np.isnan(f.decode(0x8000))
    assert nx.get_format("posit32_2") == nx.get_format("posit32")
    assert nx.get_format("posit12_3").name == "posit12_3"


@pytest.mark.slow
def test_directed_and_stochastic_modes():
    f = nx.get_format("posit8")
    x = np.linspace(-3, 3, 1001)
    lo = f.quantize(x, rounding=nx.RoundMode.TOWARD_NEGATIVE)
    hi = f.quantize(x, rounding=nx.RoundMode.TOWARD_POSITIVE)
    rz = f.quantize(x, rounding=nx.RoundMode.TOWARD_ZERO)
    assert (lo <= x).all() and (hi >= x).all() and (np.abs(rz) <= np.abs(x)).all()
    sr = f.quantize(np.full(20000, 1.1), rounding=nx.RoundMode.STOCHASTIC, rng=0)
    v = f.values()
    a, b = v[v <= 1.1].max(), v[v >= 1.1].min()
    assert set(np.unique(sr)) <= {a, b} and abs(sr.mean() - 1.1) < 0.003


# -- quire ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_quire_against_fractions_adversarial():
    for name in ("posit8", "posit16", "posit16_1", "posit32"):
        f = nx.get_format(name)
        big, tiny = f.max, f.min_normal
        rng = np.random.default_rng(2)
        r = rng.standard_normal(1000) * 10.0 ** rng.integers(-3, 3, 1000)
        cases = [  # (x, y) pairs of vectors
            ([big, -big, tiny, 1.0], [1.0, 1.0, 1.0, 1.0]),  # huge cancellation leaves tiny + 1
            ([big, big], [big, big]),  # maxpos * maxpos: beyond maxpos, saturates
            ([tiny, 1.0, -1.0], [tiny, 1.0, 1.0]),  # minpos * minpos survives the cancellation
            ([1e4, 1.0, -1e4, 3.0], [1.0, 1.0, 1.0, 1.0]),
            (r, rng.standard_normal(1000)),
        ]
        for x, y in cases:
            ca, cb = f.encode(np.array(x)), f.encode(np.array(y))
            exact = sum(Fraction(float(u)) * Fraction(float(v)) for u, v in zip(f.decode(ca), f.decode(cb)))
            got = int(nx.quire_dot(f, ca, cb))
            if exact == 0:
                assert got == 0
            elif f.bits <= 16:
                assert got == exact_round_bitstring(exact, f.bits, f.es), (name, x[:4])
            else:  # posit32: the result's bit-string neighbours bracket the exact sum
                mask = (1 << 32) - 1
                v = Fraction(float(f.decode(np.array([got]))[0]))
                nb = [f.decode(np.array([(got + d) & mask]))[0] for d in (-1, 1)]
                lo = Fraction(float(nb[0])) if np.isfinite(nb[0]) else v
                hi = Fraction(float(nb[1])) if np.isfinite(nb[1]) else v
                assert min(lo, hi) <= exact <= max(lo, hi) or abs(v) == Fraction(f.max), name


def test_quire_against_softposit_qma():
    f = nx.get_format("posit16_1")
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(1, 400))
        a = rng.integers(0, 1 << 16, n)
        b = rng.integers(0, 1 << 16, n)
        a[a == 0x8000] = 0
        b[b == 0x8000] = 0
        q = sp.quire16()
        for u, v in zip(a, b):
            q.qma(sp.posit16(bits=int(u)), sp.posit16(bits=int(v)))
        assert nx.quire_dot(f, a, b) == q.toPosit().v.v, trial


def test_quire_catastrophic_cancellation_is_exact():
    f = nx.get_format("posit16")
    x = f.encode(np.array([f.max, 3.0, -f.max, f.min_normal]))
    y = f.encode(np.array([1.0, 1.0, 1.0, 1.0]))
    assert f.decode(nx.quire_dot(f, x, y)) == f.quantize(3.0 + f.min_normal)
    assert nx.quire_dot(f, x, y, c_code=int(f.encode(np.array([-3.0]))[0])) == f.encode(np.array([f.min_normal]))
    assert nx.quire_dot(f, np.array([0x8000]), np.array([1])) == 0x8000


@pytest.mark.parametrize("name", ["posit16", "posit16_1", "fp16", "bf16", "e5m2", "posit8"])
def test_decode_into_float32_out(name):
    f = nx.get_format(name)
    c = np.arange(1 << f.bits).astype(f.code_dtype)
    b32 = np.empty(c.shape, np.float32)
    f.decode(c, out=b32)
    np.testing.assert_array_equal(b32.astype(np.float64), f.decode(c))  # the same values, NaN included


def test_decode_float32_out_refused_when_inexact():
    with pytest.raises(ValueError, match="out must be a C-contiguous float64"):
        nx.get_format("posit32").decode(np.zeros(3, np.uint32), out=np.zeros(3, np.float32))


@pytest.mark.slow
@pytest.mark.parametrize("src, view, params", [
    (np.float64, np.uint64, (11, 52, 1023)), (np.float32, np.uint32, (8, 23, 127)),
    (np.float16, np.uint16, (5, 10, 15))])
def test_branch_free_rne_kernel_matches_general_kernel(src, view, params):
    """The vectorised RNE encoder gives the general kernel's codes wherever it is used: every posit
    <= 32 bits and es <= 4 that passes its applicability check, on random source bit patterns (all
    exponents, specials and subnormals included) plus every exact posit value and its neighbours."""
    import kernels
    se, sm, sb = params
    width = np.dtype(view).itemsize * 8
    rng = np.random.default_rng(7)
    bits = (rng.integers(0, 2**63, 200_000, dtype=np.uint64) >> np.uint64(64 - width)).astype(view)
    used = 0
    for n in range(2, 33):
        for es in range(5):
            if not kernels.rne_fast_path_ok(se, sm, sb, n, es):
                continue
            used += 1
            if n <= 12:  # also every posit value, its midpoints and one source ulp either side
                v = nx.PositFormat(n, es).values()
                v = v[np.isfinite(v)]
                mids = (v[:-1] + v[1:]) / 2
                pts = np.concatenate([v, mids]).astype(src)
                pts = pts[np.isfinite(pts)]
                near = np.concatenate([pts, np.nextafter(pts, np.inf), np.nextafter(pts, -np.inf)])
                b = np.concatenate([bits, near.view(view)])
            else:
                b = bits
            dt = nx.PositFormat(n, es).code_dtype
            fast, slow = np.empty(b.shape, dt), np.empty(b.shape, dt)
            kernels.encode_posit_rne(b, se, sm, sb, fast, n, es)
            kernels.encode_posit(b, se, sm, sb, slow, n, es, kernels.RNE, 62, np.uint64(0))
            assert np.array_equal(fast, slow), (src, n, es)
    assert used > 0 or src is np.float16
