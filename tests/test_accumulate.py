"""Accumulators against exact rational arithmetic and Python integers; the tensor-core behaviours
Fasi, Higham, Mikaitis and Pranesh (PeerJ CS 2021) demonstrate, on crafted inputs."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numerics as nx


def round_fraction(x: Fraction, man_bits: int, emin: int, emax: int, mode: str = "rne") -> float:
    """x rounded to a binary format in exact arithmetic (RNE or RZ); overflow to inf (RNE)."""
    if x == 0:
        return 0.0
    neg = x < 0
    a = -x if neg else x
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    elif Fraction(2) ** (e + 1) <= a:
        e += 1
    e = max(e, emin)
    q = a / Fraction(2) ** (e - man_bits)  # a in units of the target ulp
    n = math.floor(q)
    rem = q - n
    if mode == "rne" and (rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1)):
        n += 1
    v = Fraction(n) * Fraction(2) ** (e - man_bits)
    if v >= Fraction(2) ** (emax + 1):
        return -math.inf if neg else math.inf
    return float(-v if neg else v)


FP32 = (23, -126, 127)
FP16 = (10, -14, 15)


def rand_fp32(rng, shape, spread=20):
    return (rng.standard_normal(shape) * 2.0 ** rng.integers(-spread, spread, shape)).astype(np.float32)


def test_exact_against_fractions():
    rng = np.random.default_rng(0)
    A, B = rand_fp32(rng, (7, 50)), rand_fp32(rng, (50, 5))
    A[0, :25] = -A[0, 25:] * 0  # zeros
    A[1] = np.float32(1e30)
    A[1, 1::2] = np.float32(-1e30)  # huge cancellation
    C = rand_fp32(rng, (7, 5))
    D = nx.matmul(A, B, "exact", c=C)
    for i in range(7):
        for j in range(5):
            exact = sum(Fraction(float(A[i, k])) * Fraction(float(B[k, j])) for k in range(50))
            exact += Fraction(float(C[i, j]))
            assert D[i, j] == round_fraction(exact, *FP32), (i, j)


def test_exact_other_rounding_modes():
    acc = nx.Accumulator(method=nx.AccMethod.EXACT, out_format=nx.get_format("fp16"),
                         out_rounding=nx.RoundMode.TOWARD_ZERO)
    rng = np.random.default_rng(1)
    A, B = rand_fp32(rng, (4, 30), 3).astype(np.float16), rand_fp32(rng, (30, 4), 3).astype(np.float16)
    D = nx.matmul(A, B, acc)
    for i in range(4):
        for j in range(4):
            exact = sum(Fraction(float(A[i, k])) * Fraction(float(B[k, j])) for k in range(30))
            assert D[i, j] == round_fraction(exact, *FP16, mode="rz")


def fma_loop(a, b, c, fmt):
    acc = Fraction(float(c))
    for x, y in zip(a, b):
        acc = Fraction(round_fraction(Fraction(float(x)) * Fraction(float(y)) + acc, *fmt))
    return float(acc)


@pytest.mark.parametrize("preset,fmt,dtype", [("fp32", FP32, np.float32), ("fp16", FP16, np.float16)])
def test_fma_chain_against_plain_fma_loop(preset, fmt, dtype):
    rng = np.random.default_rng(2)
    A, B = rand_fp32(rng, (6, 40), 6).astype(dtype), rand_fp32(rng, (40, 6), 6).astype(dtype)
    C = rand_fp32(rng, (6, 6), 4).astype(dtype)
    D = nx.matmul(A, B, preset, c=C)
    for i in range(6):
        for j in range(6):
            assert D[i, j] == fma_loop(A[i], B[:, j], C[i, j], fmt)


def test_pairwise_against_reference():
    rng = np.random.default_rng(3)
    A, B = rand_fp32(rng, (3, 13)), rand_fp32(rng, (13, 3))
    D = nx.matmul(A, B, "fp32_pairwise")
    for i in range(3):
        for j in range(3):
            xs = [round_fraction(Fraction(float(A[i, k])) * Fraction(float(B[k, j])), *FP32) for k in range(13)]
            while len(xs) > 1:
                nxt = [round_fraction(Fraction(xs[t]) + Fraction(xs[t + 1]), *FP32) for t in range(0, len(xs) - 1, 2)]
                if len(xs) % 2:
                    nxt.append(xs[-1])
                xs = nxt
            assert D[i, j] == xs[0] + 0.0


@pytest.mark.slow
@given(st.integers(2, 40), st.integers(0, 2**32), st.booleans())
def test_integer_gemm_equals_python_ints(k, seed, saturate):
    rng = np.random.default_rng(seed)
    A = rng.integers(-128, 128, (3, k)).astype(np.float64)
    B = rng.integers(-128, 128, (k, 2)).astype(np.float64)
    acc = nx.Accumulator(method=nx.AccMethod.INTEGER, int_bits=16, int_saturate=saturate)
    D = nx.matmul(A, B, acc, a_format="int8", b_format="int8")
    for i in range(3):
        for j in range(2):
            s = 0
            for t in range(k):
                s += int(A[i, t]) * int(B[t, j])
                if saturate:
                    s = min(max(s, -(2**15)), 2**15 - 1)
            if not saturate:
                s = (s + 2**15) % 2**16 - 2**15
            assert D[i, j] == s


def test_int32_large_k_falls_back_from_blas():
    rng = np.random.default_rng(4)
    A = rng.integers(-128, 128, (2, 300_000)).astype(np.float64)
    A[:] = 127
    B = np.full((300_000, 2), 127.0)
    D = nx.matmul(A, B, "int32", a_format="int8", b_format="int8")
    s = 300_000 * 127 * 127  # 4.8e9 wraps in 32 bits
    assert D[0, 0] == (s + 2**31) % 2**32 - 2**31


# -- tensor-core behaviours (Fasi et al. 2021), FP16 operands, FP32 accumulation ------------------
def dot(preset, a, b, c=0.0):
    a = np.array(a, np.float16)
    b = np.array(b, np.float16)
    return float(nx.matmul(a, b, preset, c=np.array([[c]])))


def test_truncation_instead_of_rounding():
    # 1 + 2^-24 + 2^-25 is above the FP32 midpoint: RNE gives 1 + 2^-23; aligned terms keep F bits and
    # the result is truncated, so Volta (F = 23) returns 1
    a, b = [1.0, 2.0**-12, 2.0**-12], [1.0, 2.0**-12, 2.0**-13]
    assert dot("exact", a, b) == 1 + 2.0**-23
    assert dot("nv_volta", a, b) == 1.0
    assert dot("nv_ampere", a, b) == 1.0  # F = 24 keeps 2^-24, the final RZ to FP32 drops it


@pytest.mark.slow
def test_order_independence_inside_a_step_and_not_across():
    rng = np.random.default_rng(5)
    a = (rng.standard_normal(8) * 2.0 ** rng.integers(-8, 8, 8)).astype(np.float16)
    b = (rng.standard_normal(8) * 2.0 ** rng.integers(-8, 8, 8)).astype(np.float16)
    ref = dot("nv_ampere", a, b)  # one step of 8 terms
    for _ in range(20):
        p = rng.permutation(8)
        assert dot("nv_ampere", a[p], b[p]) == ref
    found = False  # sequential FMA chains depend on the order
    for _ in range(200):
        p = rng.permutation(8)
        found |= dot("fp32", a[p], b[p]) != dot("fp32", a, b)
    assert found


def test_no_normalisation_between_terms():
    # big - big + small in one step: the small term is aligned to big's exponent and truncated away;
    # a sequential FMA chain keeps it
    a, b = [2.0**10, -(2.0**10), 2.0**-12], [2.0**5, 2.0**5, 2.0**-12]
    assert dot("fp32", a, b) == 2.0**-24
    assert dot("nv_volta", a, b) == 0.0


def test_alignment_uses_operand_exponents_not_product_values():
    # The same product 2^-9 as 2^-24 (FP16 subnormal: significand 2^-10, exponent -14) times 2^15, or as
    # 2^-9 times 1: subnormal operands are not normalised, so the first aligns at exponent -14 + 15 = 1
    # and truncates the accumulator's 2^-23 bit away; the second aligns at the accumulator's exponent 0.
    c = 1 + 2.0**-23
    assert dot("nv_volta", [2.0**-24, 0, 0, 0], [2.0**15, 0, 0, 0], c) == 1 + 2.0**-9
    assert dot("nv_volta", [2.0**-9, 0, 0, 0], [1.0, 0, 0, 0], c) == 1 + 2.0**-9 + 2.0**-23
    assert dot("exact", [2.0**-24], [2.0**15], c) == dot("exact", [2.0**-9], [1.0], c) == 1 + 2.0**-9 + 2.0**-23


def test_non_monotonic():
    # Fasi et al. 2021 §5 / Mikaitis 2023: without normalisation between terms, increasing one addend
    # can decrease the sum. Raising the accumulator from 2 - 2^-23 to 2 moves the alignment exponent
    # from 0 to 1, and four products of 2^-23 (2^-12 x 2^-11) each lose their only bit (F = 23).
    a, b = [2.0**-12] * 4, [2.0**-11] * 4
    below = dot("nv_volta", a, b, 2 - 2.0**-23)
    at = dot("nv_volta", a, b, 2.0)
    assert below == 2 + 2.0**-22 and at == 2.0 and at < below
    assert dot("exact", a, b, 2 - 2.0**-23) <= dot("exact", a, b, 2.0)  # correctly rounded sums are monotone


def test_promotion_every_128():
    rng = np.random.default_rng(6)
    a = rng.standard_normal(512).astype(np.float32)
    b = rng.standard_normal(512).astype(np.float32)
    e4 = nx.get_format("e4m3")
    a, b = e4.quantize(a), e4.quantize(b)
    plain = float(nx.matmul(a, b, "nv_hopper_fp8", a_format="e4m3", b_format="e4m3"))
    promo = float(nx.matmul(a, b, "nv_hopper_fp8_promote128", a_format="e4m3", b_format="e4m3"))
    exact = float(nx.matmul(a, b, "exact", a_format="e4m3", b_format="e4m3"))
    assert abs(promo - exact) <= abs(plain - exact)
    # promotion = four 128-element partial sums, each from zero, added into FP32 with RNE
    parts = [float(nx.matmul(a[i:i + 128], b[i:i + 128], "nv_hopper_fp8", a_format="e4m3", b_format="e4m3"))
             for i in range(0, 512, 128)]
    tot = 0.0
    for p in parts:
        tot = float(np.float32(tot + p)) if abs(tot + p) < 1e38 else tot + p
    assert promo == tot


def test_quire_matmul_on_posits():
    p = nx.get_format("posit16")
    rng = np.random.default_rng(7)
    A = p.quantize(rng.standard_normal((3, 40)) * 100)
    B = p.quantize(rng.standard_normal((40, 2)))
    D = nx.matmul(A, B, "quire", a_format=p, b_format=p)
    for i in range(3):
        for j in range(2):
            want = p.decode(nx.quire_dot(p, p.encode(A[i]), p.encode(B[:, j])))
            assert D[i, j] == want


def test_errors():
    with pytest.raises(ValueError, match="unknown accumulator 'nv_hoper'.*close matches: nv_hopper"):
        nx.get_accumulator("nv_hoper")
    with pytest.raises(ValueError, match="not a fp16 value"):
        nx.matmul(np.array([0.1]), np.array([1.0]), "fp32", a_format="fp16", b_format="fp16")
    with pytest.raises(ValueError, match="a_format is needed for a float64 array"):
        nx.matmul(np.array([0.5]), np.array([1.0]), "fp32")
    with pytest.raises(ValueError, match=r"\(m, k\) and \(k, n\)"):
        nx.matmul(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="FUSED needs"):
        nx.Accumulator(method=nx.AccMethod.FUSED, out_format=nx.get_format("fp32"))
    with pytest.raises(ValueError, match="integer a values"):
        nx.matmul(np.array([0.5]), np.array([1.0]), "int32", a_format="fp16", b_format="fp16")


@pytest.mark.slow
def test_inf_and_nan_propagate():
    a = np.array([[1.0, np.inf], [1.0, 2.0]], np.float32)
    b = np.array([[1.0], [-1.0]], np.float32)
    for preset in ("exact", "fp32", "nv_ampere", "fp32_pairwise"):
        D = nx.matmul(a, b, preset)
        assert D[0, 0] == -np.inf and D[1, 0] == -1.0
    a[0, 0] = np.nan
    assert np.isnan(nx.matmul(a, b, "nv_hopper")[0, 0])


def test_carry_out_bits():
    import dataclasses
    amp = nx.get_accumulator("nv_ampere")
    a = np.full((1, 8), 1.9375)       # FP16; each product 3.754 is 2^25.9 units of the aligned LSB 2^-24
    b = np.full((8, 1), 1.9375)
    exact = nx.matmul(a, b, amp, a_format="fp16", b_format="fp16")
    assert exact[0, 0] == 30.03125   # 8 x 1.9375^2, exact in FP32
    wide = dataclasses.replace(amp, carry_bits=3)     # 2^(24 + 2 + 3) = 2^29 holds the 2^28.9 sum
    assert nx.matmul(a, b, wide, a_format="fp16", b_format="fp16")[0, 0] == exact[0, 0]
    narrow = dataclasses.replace(amp, carry_bits=2)   # a 2^28 adder: the sum wraps
    assert nx.matmul(a, b, narrow, a_format="fp16", b_format="fp16")[0, 0] != exact[0, 0]
    with pytest.raises(ValueError, match="carry_bits must be in 0..20"):
        dataclasses.replace(amp, carry_bits=-1)
