"""Integer formats against Python integer arithmetic: every code, every rounding boundary, wrap and
saturate, narrow range."""

import math
from fractions import Fraction

import numpy as np
import pytest

import numerics as nx

MODES = list(nx.RoundMode)[:-1]
NAMES = [f"int{b}" for b in range(2, 9)] + [f"uint{b}" for b in range(2, 9)] + ["int16"]


def py_round(x: Fraction, mode: nx.RoundMode) -> int:
    fl = math.floor(x)
    d = x - fl
    if d == 0:
        return fl
    return fl + {nx.RoundMode.TIES_TO_EVEN: d > Fraction(1, 2) or (d == Fraction(1, 2) and fl % 2 == 1),
                 nx.RoundMode.TIES_TO_AWAY: d > Fraction(1, 2) or (d == Fraction(1, 2) and x > 0),
                 nx.RoundMode.TOWARD_ZERO: x < 0, nx.RoundMode.TOWARD_POSITIVE: True,
                 nx.RoundMode.TOWARD_NEGATIVE: False, nx.RoundMode.TO_ODD: fl % 2 == 0}[mode]


def np_round(x: np.ndarray, mode: nx.RoundMode) -> np.ndarray:
    """Vectorised py_round for float64 x, on magnitudes (a - floor(a) is exact only for a >= 0)."""
    neg = x < 0
    a = np.abs(x)
    fl = np.floor(a)
    d = a - fl
    odd = np.mod(fl, 2) == 1
    up = {nx.RoundMode.TIES_TO_EVEN: (d > 0.5) | ((d == 0.5) & odd),
          nx.RoundMode.TIES_TO_AWAY: d >= 0.5,
          nx.RoundMode.TOWARD_ZERO: np.zeros(x.shape, bool), nx.RoundMode.TOWARD_POSITIVE: ~neg,
          nx.RoundMode.TOWARD_NEGATIVE: neg, nx.RoundMode.TO_ODD: ~odd}[mode]
    mag = (fl + (up & (d != 0))).astype(np.int64)
    return np.where(neg, -mag, mag)


def two_complement(v: int, bits: int) -> int:
    return v % (1 << bits)


@pytest.mark.parametrize("name", NAMES)
def test_decode_every_code(name):
    f = nx.get_format(name)
    codes = np.arange(1 << f.bits)
    want = [c - (1 << f.bits) if f.signed and c >= (1 << (f.bits - 1)) else c for c in codes]
    assert f.decode(codes).tolist() == want
    assert f.values().tolist() == list(range(f.lowest, f.highest + 1))


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_boundary(name, mode, dtype):
    f = nx.get_format(name)
    k = np.arange(f.lowest - 3, f.highest + 4, dtype=np.float64)
    pts = np.concatenate([k, k + 0.5]).astype(dtype)
    pts = np.concatenate([pts, np.nextafter(pts, np.array(np.inf, dtype)),
                          np.nextafter(pts, np.array(-np.inf, dtype))])
    exact = np_round(pts.astype(np.float64), mode)
    sample = pts[:: max(1, pts.size // 300)]
    assert [py_round(Fraction(float(v)), mode) for v in sample] == np_round(sample.astype(np.float64),
                                                                           mode).tolist()
    for saturate in (True, False):
        got = f.encode(pts, rounding=mode, saturate=saturate)
        r = np.clip(exact, f.lowest, f.highest) if saturate else exact
        assert np.array_equal(got.astype(np.int64), r % (1 << f.bits))


def test_int32_samples_and_huge_values():
    f = nx.get_format("int32")
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-3e9, 3e9, 2000), rng.integers(-2**31, 2**31, 2000) + 0.5,
                        [1e30, -1e30, 2.0**62, 2.0**63 + 2**11, -(2.0**70) - 2**18]])
    for mode in MODES:
        for saturate in (True, False):
            got = f.encode(x, rounding=mode, saturate=saturate)
            for v, g in zip(x, got):
                r = py_round(Fraction(float(v)), mode)
                r = min(max(r, f.lowest), f.highest) if saturate else r
                assert int(g) == two_complement(r, 32), (v, mode, saturate)


def test_narrow_range():
    f = nx.IntFormat(bits=8, narrow=True)
    assert (f.lowest, f.highest) == (-127, 127)
    assert f.encode(np.array([-1000.0, -127.5, 127.5])).tolist() == [0x81, 0x81, 0x7F]
    assert -128 not in f.values()
    with pytest.raises(ValueError, match="outside narrow-range"):
        f.decode(np.array([0x80]))
    with pytest.raises(ValueError, match="always saturates"):
        f.encode(np.array([1.0]), saturate=False)
    with pytest.raises(ValueError, match="signed formats only"):
        nx.IntFormat(bits=8, signed=False, narrow=True)


def test_nan_and_inf_are_errors_unless_a_code_is_chosen():
    f = nx.get_format("int8")
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="int8 cannot represent"):
            f.encode(np.array([1.0, bad]))
    assert f.encode(np.array([1.0, np.nan]), nan_code=0x80).tolist() == [1, 0x80]


@pytest.mark.parametrize("name,ml", [("int2", "int2"), ("int4", "int4"), ("uint2", "uint2"), ("uint4", "uint4")])
def test_against_ml_dtypes_small_ints(name, ml):
    """ml_dtypes' sub-byte integers hold the same values; lowbit's codes are their bit patterns."""
    import ml_dtypes
    dt = getattr(ml_dtypes, ml)
    f = nx.get_format(name)
    vals = np.arange(f.lowest, f.highest + 1)
    as_ml = vals.astype(dt)
    assert np.array_equal(as_ml.astype(np.float64), f.decode(f.encode(vals.astype(np.float64))))
    assert np.array_equal(np.array(as_ml.astype(np.int64)) % (1 << f.bits), f.encode(vals.astype(np.float64)))
