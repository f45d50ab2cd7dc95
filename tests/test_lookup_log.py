"""Logarithmic, power-of-two, APoT and NF4 formats: value sets against the papers' tables and high
precision arithmetic; nearest rounding against a codebook oracle built here."""

from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numerics as nx

# QLoRA (Dettmers et al. 2023) NF4 levels as published in bitsandbytes (float32)
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
       -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
       0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
# APoT (Li, Dong, Wang 2020), b = 4, k = 2, n = 2: p0 in {0, 1, 1/4, 1/16}, p1 in {0, 1/2, 1/8, 1/32}, by hand
APOT = sorted({p0 + p1 for p0 in (0, Fraction(1), Fraction(1, 4), Fraction(1, 16))
               for p1 in (0, Fraction(1, 2), Fraction(1, 8), Fraction(1, 32))})


def test_value_sets_against_the_papers():
    assert nx.get_format("nf4").values().tolist() == NF4
    assert len(APOT) == 16
    assert nx.get_format("apot4").values().tolist() == [float(v / APOT[-1]) for v in APOT]
    assert nx.get_format("pot4").values().tolist() == sorted({s * 2.0 ** e for s in (1, -1)
                                                                  for e in range(-3, 4)} | {0.0})


def hp_pow2(q: Fraction) -> float:
    with localcontext() as ctx:
        ctx.prec = 80
        return float(Decimal(2) ** (Decimal(q.numerator) / Decimal(q.denominator)))  # float(Decimal) rounds once


@pytest.mark.parametrize("bits,frac", [(8, 3), (6, 2), (5, 0), (9, 4)])
def test_log_values_correctly_rounded(bits, frac):
    f = nx.LogFormat(bits=bits, frac_bits=frac)
    offset = 1 << (bits - 2)
    want = [hp_pow2(Fraction(m - offset, 2 ** frac)) for m in range(1, 1 << (bits - 1))]
    codes = np.arange(1, 1 << (bits - 1))
    assert f.decode(codes).tolist() == want
    assert f.decode(codes | (1 << (bits - 1))).tolist() == [-w for w in want]
    assert f.decode(np.array([0]))[0] == 0 and np.signbit(f.decode(np.array([1 << (bits - 1)]))[0])


def log_oracle(f, x: float) -> float:
    """Nearest value in the log domain, decided with 80-digit decimal arithmetic."""
    vals = f.values()
    pos = vals[vals > 0]
    a = abs(x)
    if a == 0:
        return 0.0 * np.sign(x)
    if a >= pos[-1]:
        r = pos[-1]
    elif a < pos[0]:
        r = pos[0] if a > pos[0] / 2 else 0.0
    else:
        i = np.searchsorted(pos, a, side="right") - 1
        lo, hi = pos[i], pos[i + 1]
        if a == lo:
            r = lo
        else:
            with localcontext() as ctx:
                ctx.prec = 80
                m = int(i) + 1 - (1 << (f.bits - 2))  # lo = 2^(m / 2^frac): the geometric mean is
                bound = Decimal(2) ** (Decimal(2 * m + 1) / Decimal(2 ** (f.frac_bits + 1)))  # 2^((2m+1)/2^(f+1))
            r = hi if Decimal(a) > bound else lo
    return r if x > 0 else -r


@pytest.mark.parametrize("name", ["lns8", "pot4"])
def test_log_domain_rounding_against_high_precision(name):
    f = nx.get_format(name)
    rng = np.random.default_rng(0)
    pos = f.values()[f.values() > 0]
    geo = np.sqrt(pos[:-1] * pos[1:])
    x = np.concatenate([rng.uniform(-f.max, f.max, 2000), geo, np.nextafter(geo, 0), np.nextafter(geo, np.inf),
                        -geo, pos, pos[:1] / 2, np.nextafter(pos[:1] / 2, 1), [1e9, -1e9, 1e-9, -1e-9]])
    got = f.quantize(x)
    want = np.array([log_oracle(f, float(v)) for v in x])
    assert np.array_equal(got, want)


def codebook_nearest(levels: np.ndarray, x: float) -> int:
    """Index of the nearest level by exact rational distance; ties to the even index."""
    d = [abs(Fraction(float(v)) - Fraction(x)) for v in levels]
    best = min(d)
    idx = [i for i, v in enumerate(d) if v == best]
    return idx[0] if len(idx) == 1 else next(i for i in idx if i % 2 == 0)


@pytest.mark.parametrize("name", ["nf4", "apot4"])
def test_lookup_nearest_against_codebook(name):
    f = nx.get_format(name)
    lv = f.values()
    mids = (lv[:-1] + lv[1:]) / 2
    rng = np.random.default_rng(1)
    x = np.concatenate([lv, mids, np.nextafter(mids, 2), np.nextafter(mids, -2), rng.uniform(-1.2, 1.2, 500)])
    got = f.encode(x)
    assert got.tolist() == [codebook_nearest(lv, float(v)) for v in x]


def test_linear_domain_option_and_directed_modes():
    f = nx.LogFormat(bits=4, frac_bits=0, domain="linear")
    x = np.array([1.4, 1.5, 1.6, 3.0, 2.9, 0.0625, 0.0626])
    assert f.quantize(x).tolist() == [1, 1, 2, 4, 2, 0, 0.125]  # ties (1.5, 3, 0.0625) go to the even code
    g = nx.get_format("nf4")
    x = np.array([0.1, -0.1, 0.5])
    assert g.quantize(x, rounding=nx.RoundMode.TOWARD_ZERO).tolist() == [0.07958029955625534, -0.09105003625154495,
                                                                          0.44070982933044434]
    assert g.quantize(x, rounding=nx.RoundMode.TOWARD_POSITIVE).tolist()[0] == 0.16093020141124725
    with pytest.raises(ValueError, match="nf4 cannot represent"):
        g.encode(np.array([2.0]), saturate=False)
    with pytest.raises(ValueError, match="nf4 cannot represent"):
        g.encode(np.array([np.nan]))
    with pytest.raises(ValueError, match="codes must be below 3"):
        nx.LookupFormat(levels=(0.0, 1.0, 2.0)).decode(np.array([3]))
    with pytest.raises(ValueError, match="strictly increasing"):
        nx.LookupFormat(levels=(0.0, 0.0))


@pytest.mark.slow
@given(st.floats(-2, 2), st.sampled_from(["nf4", "apot4", "lns8", "pot4"]))
def test_nearest_and_monotone(x, name):
    f = nx.get_format(name)
    q = f.quantize(np.array([x]))[0]
    lo = f.quantize(np.array([x]), rounding=nx.RoundMode.TOWARD_NEGATIVE)[0]
    hi = f.quantize(np.array([x]), rounding=nx.RoundMode.TOWARD_POSITIVE)[0]
    assert lo <= q <= hi and q in (lo, hi)
    if isinstance(f, nx.LookupFormat) and lo <= x <= hi:
        assert abs(q - x) <= min(abs(lo - x), abs(hi - x))
