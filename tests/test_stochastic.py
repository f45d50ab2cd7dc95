"""Stochastic rounding: bit-exact against gfloat given the same random bits, unbiased, reproducible."""

import math
from fractions import Fraction

import gfloat
import gfloat.formats
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import kernels
import numerics as nx
from tests.reference import SPEC, boundary_points, codebook

SR = nx.RoundMode.STOCHASTIC
GF = {"e4m3": gfloat.formats.format_info_ocp_e4m3, "e5m2": gfloat.formats.format_info_ocp_e5m2,
      "e2m3": gfloat.formats.format_info_ocp_e2m3, "e3m2": gfloat.formats.format_info_ocp_e3m2,
      "e2m1": gfloat.formats.format_info_ocp_e2m1, "fp16": gfloat.formats.format_info_binary16,
      "bf16": gfloat.formats.format_info_bfloat16}


def exact_sr_code(f, x: float, r: int, k: int) -> int:
    """Stochastic rounding decided in exact rationals: up iff floor(delta 2^k) + r >= 2^k."""
    rz = nx.RoundMode.TOWARD_ZERO
    lo = f.quantize(np.array([x]), rounding=rz)[0]
    hi_rm = nx.RoundMode.TOWARD_POSITIVE if x > 0 else nx.RoundMode.TOWARD_NEGATIVE
    hi = f.quantize(np.array([x]), rounding=hi_rm, saturate=False)[0]
    if lo == hi:
        return f.encode(np.array([x]))[0]
    delta = (abs(Fraction(x)) - abs(Fraction(lo))) / (abs(Fraction(hi)) - abs(Fraction(lo)))
    up = math.floor(delta * 2**k) + r >= 2**k
    return f.encode(np.array([hi if up else lo]), saturate=False)[0]


def key_of(seed: int) -> int:
    """The documented key derivation: the first uint64 that default_rng(seed) draws."""
    return int(np.random.default_rng(seed).integers(0, 2**64, dtype=np.uint64))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(GF))
@pytest.mark.parametrize("sr_bits", [1, 3, 8, 13, 30])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_gfloat_same_random_bits(name, sr_bits, dtype):
    """gfloat's StochasticFastest adds sr_bits random bits to the truncated fraction, as hardware does."""
    f = nx.get_format(name)
    x = boundary_points(codebook(SPEC[name]).mags, dtype)
    rng = np.random.default_rng(7)
    x = np.concatenate([x, (rng.standard_normal(2000) * f.max / 4).astype(dtype)])
    x = x[np.abs(x.astype(np.float64)) <= f.max * 1.2]
    for saturate in (True, False):
        xs = x if saturate or f.has_nan else x[np.abs(x.astype(np.float64)) <= f.max]
        got = f.encode(xs, rounding=SR, rng=11, sr_bits=sr_bits, saturate=saturate)
        rbits = kernels.random_bits_reference(key_of(11), xs.size, sr_bits)
        r = gfloat.round_ndarray(GF[name], xs.astype(np.float64), gfloat.RoundMode.StochasticFastest,
                                 sat=saturate, srbits=rbits, srnumbits=sr_bits)
        want = gfloat.encode_ndarray(GF[name], r)
        same = (got == want) | (np.isnan(f.decode(got)) & np.isnan(r))
        # gfloat decides with the float64 sum delta + r 2^-k, which can round (e.g. 0.5 - 2^-54 + 0.5
        # gives 1.0): where the two differ, exact rational arithmetic must side with lowbit.
        assert (~same).mean() < 0.001
        for i in np.flatnonzero(~same):
            assert exact_sr_code(f, float(xs[i]), int(rbits[i]), sr_bits) == got[i], xs[i]


def test_random_bits_kernel_matches_reference():
    f = nx.get_format("fp16")
    # x = 1 + 2^-11 * t for t in [0, 1): rounds up iff the 8 random bits exceed 256 (1 - t)
    t = np.arange(256) / 256
    x = (1 + t * 2.0**-10).astype(np.float64)
    got = f.encode(x, rounding=SR, rng=3, sr_bits=8) - np.uint16(0x3C00)
    r = kernels.random_bits_reference(key_of(3), x.size, 8)
    assert np.array_equal(got.astype(np.int64), (np.arange(256) + r >= 256).astype(np.int64))


@pytest.mark.parametrize("name", ["e4m3", "e2m1", "int4", "bf16"])
@pytest.mark.parametrize("x0", [0.3, -1.37, 2.71828, 0.0101])
def test_unbiased(name, x0):
    f = nx.get_format(name)
    n = 200_000
    x = np.full(n, x0)
    q = f.quantize(x, rounding=SR, rng=5)
    vals = f.values()
    lo, hi = vals[vals <= x0].max(), vals[vals >= x0].min()
    p = 0.0 if hi == lo else (x0 - lo) / (hi - lo)
    assert set(np.unique(q)) <= {lo, hi}
    sigma = (hi - lo) * np.sqrt(p * (1 - p) / n)
    assert abs(q.mean() - x0) <= 5 * sigma + 1e-15


def test_reproducible_and_generator_advances():
    f = nx.get_format("e4m3")
    x = np.linspace(-3, 3, 1001)
    a = f.encode(x, rounding=SR, rng=42)
    assert np.array_equal(a, f.encode(x, rounding=SR, rng=42))
    g = np.random.default_rng(42)
    b1, b2 = f.encode(x, rounding=SR, rng=g), f.encode(x, rounding=SR, rng=g)
    assert np.array_equal(a, b1) and not np.array_equal(b1, b2)
    assert np.array_equal(f.encode(x.reshape(7, 11, 13), rounding=SR, rng=42).ravel(), a)


def test_sr_bits_truncate_the_probability():
    # 1 + 0.3 ulp in fp16: with 1 random bit, floor(0.3 * 2) = 0, so it can never round up
    f = nx.get_format("fp16")
    x = np.full(10_000, 1 + 0.3 * 2.0**-10)
    assert (f.encode(x, rounding=SR, rng=1, sr_bits=1) == 0x3C00).all()
    up = (f.encode(x, rounding=SR, rng=1, sr_bits=2) == 0x3C01).mean()  # floor(1.2)/4 = 0.25
    assert abs(up - 0.25) < 0.02


@pytest.mark.slow
@given(st.floats(-400, 400, allow_nan=False), st.integers(0, 2**32))
def test_result_is_a_neighbour(x, seed):
    f = nx.get_format("e4m3")
    q = f.quantize(np.array([x]), rounding=SR, rng=seed)[0]
    lo = f.quantize(np.array([x]), rounding=nx.RoundMode.TOWARD_NEGATIVE)[0]
    hi = f.quantize(np.array([x]), rounding=nx.RoundMode.TOWARD_POSITIVE)[0]
    assert q in (lo, hi)
