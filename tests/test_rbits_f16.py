"""rbits= for fp16 and bf16 (PTX cvt.rs.{f16x2, bf16x2}.f32): against an exact `fractions` statement of
the documented rule (round away from zero iff rbits plus the dropped bits carry out), on complete sets:
every float32 of one destination interval at the top of a binade, at the normal/subnormal boundary and
at the overflow boundary, each with the rbits values on both sides of its carry threshold; then every
(dropped bits, rbits) pair for fp16, and two published bit-level models of the instruction. The complete
intervals use the same rule on arrays in integer arithmetic (carry_oracle_array), which
test_array_oracle_is_the_fractions_oracle ties to the `fractions` statement."""

from fractions import Fraction

import numpy as np
import pytest

import numerics as nx

SR = nx.RoundMode.STOCHASTIC
WIDTH = {"fp16": 13, "bf16": 16}


def carry_oracle(fmt, width: int, x: float, r: int, saturate: bool) -> float:
    """Exact: RZ(|x|) onto the destination grid (unbounded exponent), the dropped part as a fraction d of
    the spacing there; away from zero iff floor(d * 2^width) + r >= 2^width; past max: max, or inf when
    it carried without satfinite; NaN stays NaN; inf is ±max with satfinite, else ±inf."""
    if np.isnan(x):
        return float("nan")
    if np.isinf(x):
        q = fmt.max if saturate else float("inf")
        return -q if x < 0 else q
    a = Fraction(abs(x))
    e = fmt.emin if a == 0 else max(int(np.frexp(abs(x))[1]) - 1, fmt.emin)
    ulp = Fraction(2) ** (e - fmt.man_bits)
    kept = a // ulp
    dropped = (a - kept * ulp) / ulp  # in [0, 1)
    carry = (dropped * 2 ** width) // 1 + r >= 2 ** width
    q = (kept + carry) * ulp
    if q > Fraction(fmt.max):
        q = float("inf") if carry and not saturate else fmt.max
    return -float(q) if np.signbit(x) else float(q)


def carry_oracle_array(fmt, width: int, x: np.ndarray, r: np.ndarray, saturate: bool) -> np.ndarray:
    """carry_oracle on arrays of float32 x, in exact integer arithmetic on the bit fields: |x| = sig * 2^s;
    the destination's unit there is 2^t; kept = sig >> (t - s), and the dropped bits scaled to `width`
    bits are the remainder shifted to that width. test_array_oracle_is_the_fractions_oracle checks that
    this gives carry_oracle's values."""
    assert x.dtype == np.float32
    bits = x.view(np.uint32).astype(np.int64)
    field, man = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    sig = np.where(field > 0, man | (1 << 23), man)
    s = np.maximum(field, 1) - 150  # the exponent of sig's unit
    top = np.frexp(sig.astype(np.float64))[1] - 1  # sig's leading bit (exact: sig < 2^24); sig = 0 gives -1
    e = np.where(sig > 0, np.maximum(s + top, fmt.emin), fmt.emin)  # as carry_oracle: zero takes emin
    t = e - fmt.man_bits
    shift = t - s  # > 0 for these formats; a shift past 40 drops every one of sig's 24 bits anyway
    right = np.clip(shift, 0, 40)
    kept = np.where(shift >= 0, sig >> right, sig << np.clip(-shift, 0, 40))
    rem = sig & ((1 << right) - 1)
    dropped = np.where(shift >= width, rem >> np.clip(shift - width, 0, 40), rem << np.clip(width - shift, 0, 40))
    carry = dropped + r.astype(np.int64) >= 1 << width
    q = np.ldexp((kept + carry).astype(np.float64), t)  # exact: kept + carry < 2^25
    q = np.where(q > fmt.max, np.where(carry & (not saturate), np.inf, fmt.max), q)
    inf = (field == 0xFF) & (man == 0)
    q = np.where(inf, fmt.max if saturate else np.inf, q)
    q = np.where((field == 0xFF) & (man != 0), np.nan, q)
    return np.where(np.signbit(x), -q, q)


def check(name: str, x: np.ndarray, r: np.ndarray, saturate: bool = True, fractions: bool = False) -> None:
    """lowbit's codes against carry_oracle_array (fractions=True: against carry_oracle, value by value)."""
    fmt = nx.get_format(name)
    got = fmt.decode(fmt.encode(x, rounding=SR, rbits=r, saturate=saturate))
    if fractions:
        want = np.array([carry_oracle(fmt, WIDTH[name], float(v), int(b), saturate) for v, b in zip(x, r)])
    else:
        want = carry_oracle_array(fmt, WIDTH[name], x, r, saturate)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    ok = ~np.isnan(want)
    bad = np.flatnonzero(ok & (got != want))
    assert bad.size == 0, f"{bad.size} mismatches, first x={x[bad[0]]!r} r={r[bad[0]]} got {got[bad[0]]} want " \
                          f"{want[bad[0]]}"
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


def f32_range(lo_bits: int, hi_bits: int) -> np.ndarray:
    """Every float32 whose bit pattern lies in lo_bits..hi_bits (inclusive)."""
    return np.arange(lo_bits, hi_bits + 1, dtype=np.uint32).view(np.float32)


def thresholds(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each x with rbits 0, the last value that does not carry, the first that does, and all ones."""
    fmt, w = nx.get_format(name), WIDTH[name]
    a = np.abs(x.astype(np.float64))
    e = np.maximum(np.frexp(a)[1] - 1, fmt.emin)
    d = np.floor(np.ldexp(a, fmt.man_bits + w - e)) % (1 << w)  # the dropped bits, as a width-bit integer
    first = ((1 << w) - d).astype(np.int64)  # the smallest r that carries (2^w: none does)
    r = np.stack([np.zeros_like(first), first - 1, first, np.full_like(first, (1 << w) - 1)], axis=1)
    ok = (r >= 0) & (r < (1 << w))
    xs = np.repeat(x[:, None], 4, axis=1)
    return xs[ok], r[ok].astype(np.uint32)


# float32 bit patterns: one destination interval at the top of the binade [1, 2) (carries into 2), the
# interval below the smallest normal (subnormal results carrying into the min normal), the interval
# at the top of the finite range (carries past max), and tiny inputs (results 0 or the min subnormal)
CASES = {
    "fp16": {"top of [1, 2)": (0x3FFFE000, 0x3FFFFFFF),
             "min normal 2^-14": (0x387FC000, 0x387FFFFF),
             "max 65504": (0x477FE000, 0x477FFFFF),
             "below 2^-24": (0x33000000 - 4096, 0x33000000 + 4096)},
    "bf16": {"top of [1, 2)": (0x3FFF0000, 0x3FFFFFFF),
             "min normal 2^-126": (0x007F0000, 0x007FFFFF),
             "max": (0x7F7F0000, 0x7F7FFFFF),
             "below the min subnormal 2^-133": (0x00000000, 0x0000FFFF)},
}


@pytest.mark.slow
@pytest.mark.parametrize("name, case", [(n, c) for n in CASES for c in CASES[n]])
def test_rbits_against_fractions_complete_interval(name, case):
    x = f32_range(*CASES[name][case])
    x = np.concatenate([x, -x[::16]])  # the sign is one bit: every 16th negated
    xs, r = thresholds(name, x)
    check(name, xs, r, saturate=True)
    if case.startswith("max"):
        check(name, xs, r, saturate=False)


def specials_and_random(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 1 << 32, 3000, dtype=np.uint64).astype(np.uint32)
    x = bits.view(np.float32)
    x[:12] = [0.0, -0.0, np.inf, -np.inf, np.nan, 65504.0, 65520.0, 65536.0, 70000.0, 3.4e38, 2.0 ** -149,
              -(2.0 ** -24) * 0.75]
    return x, rng.integers(0, 1 << WIDTH[name], x.size).astype(np.uint32)


@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_rbits_against_fractions_specials_and_random(name):
    x, r = specials_and_random(name)
    for saturate in (True, False):
        check(name, x, r, saturate, fractions=True)
    xs, rt = thresholds(name, x[np.isfinite(x)])
    check(name, xs, rt, fractions=True)


@pytest.mark.slow  # it vouches for the oracle of the complete intervals, which are slow too
@pytest.mark.parametrize("name", ["fp16", "bf16"])
def test_array_oracle_is_the_fractions_oracle(name):
    """The vectorised oracle the complete intervals use gives carry_oracle's values: on the specials and random
    inputs above, and on every 61st float32 of each interval, with each one's threshold rbits."""
    fmt, w = nx.get_format(name), WIDTH[name]
    x, r = specials_and_random(name)
    sampled = [f32_range(*CASES[name][case])[::61] for case in CASES[name]]
    xt, rt = thresholds(name, np.concatenate(sampled + [-s for s in sampled] + [x[np.isfinite(x)]]))
    for xs, rs in ((x, r), (xt, rt)):
        for saturate in (True, False):
            want = np.array([carry_oracle(fmt, w, float(v), int(b), saturate) for v, b in zip(xs, rs)])
            got = carry_oracle_array(fmt, w, xs, rs, saturate)
            np.testing.assert_array_equal(got, want)  # NaN where NaN
            ok = ~np.isnan(want)
            np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


@pytest.mark.slow
def test_fp16_every_dropped_bits_and_rbits_pair():
    """The 8192 float32 of [2 - 2^-10, 2) (every value of the 13 dropped bits) x all 8192 rbits values:
    the carry of their integer sum decides the code (PTX's words), counted with integers here."""
    fmt = nx.get_format("fp16")
    x = f32_range(0x3FFFE000, 0x3FFFFFFF)
    dropped = (x.view(np.uint32) & 0x1FFF).astype(np.int64)
    for lo in range(0, 8192, 1024):
        r = np.arange(lo, lo + 1024, dtype=np.uint16)
        xs = np.repeat(x, r.size)
        rs = np.tile(r, x.size)
        carry = np.repeat(dropped, r.size) + rs >= 8192
        want = np.where(carry, 0x4000, 0x3FFF).astype(np.uint16)  # 2.0, or 2 - 2^-10 (fp16 codes)
        np.testing.assert_array_equal(fmt.encode(xs, rounding=SR, rbits=rs), want)


def flashinfer_cvt_rs_f16_sw(x: np.ndarray, r13: np.ndarray) -> np.ndarray:
    """cvt_rs_f16_sw of flashinfer include/flashinfer/mamba/conversion.cuh
    (flashinfer-ai/flashinfer@04e570b3d8cf0a85a8eb8345a19d559bd2619b2f), their fallback for
    cvt.rs.f16x2.f32 without satfinite: add the 13 bits to the low bits of |x|'s float32 pattern, then
    truncate; exponent past 142 is inf, below 113 flushes to zero (no fp16 subnormals)."""
    bits = x.view(np.uint32)
    sign = (bits >> 16) & 0x8000
    ab = (bits & 0x7FFFFFFF) + (r13 & 0x1FFF)
    exp = (ab >> 23) & 0xFF
    man = ab & 0x7FFFFF
    normal = ((exp - 112) << 10) | ((ab >> 13) & 0x3FF)
    mag = np.where(exp == 0xFF, np.where(man != 0, 0x7E00, 0x7C00),
                   np.where(exp > 142, 0x7C00, np.where(exp < 113, 0, normal)))
    return (sign | mag).astype(np.uint16)


def test_fp16_matches_flashinfer_software_model_on_normal_results():
    """Where flashinfer's model is defined the same way (fp16 normal results below 65520), codes agree."""
    rng = np.random.default_rng(3)
    a = np.exp2(rng.uniform(-14, 15.9, 200_000)).astype(np.float32)
    x = np.where(rng.random(a.size) < 0.5, -a, a).astype(np.float32)
    r = rng.integers(0, 8192, x.size).astype(np.uint32)
    fmt = nx.get_format("fp16")
    got = fmt.encode(x, rounding=SR, rbits=r, saturate=False)
    want = flashinfer_cvt_rs_f16_sw(x, r)
    keep = (np.abs(x) >= 2.0 ** -14) & (np.abs(x) < 65520)
    np.testing.assert_array_equal(got[keep], want[keep])


def test_bf16_matches_bit_trick_on_every_float32_class():
    """bf16 keeps float32's exponent range, so (bits + r) & ~0xFFFF is the rule for every finite float32
    whose result is finite (the nvidia_rs_bit_probe README's model for bf16x2), subnormals included."""
    rng = np.random.default_rng(4)
    bits = rng.integers(0, 0x7F7F0000, 300_000, dtype=np.uint64).astype(np.uint32)
    bits[:3] = [0, 1, 0x007FFFFF]
    x = (bits | (rng.integers(0, 2, bits.size, dtype=np.uint32) << 31)).view(np.float32)
    r = rng.integers(0, 65536, x.size).astype(np.uint32)
    fmt = nx.get_format("bf16")
    got = fmt.encode(x, rounding=SR, rbits=r, saturate=False)
    sign = x.view(np.uint32) & 0x80000000
    want = ((((x.view(np.uint32) & 0x7FFFFFFF) + r) & 0xFFFF0000) | sign) >> 16
    np.testing.assert_array_equal(got, want.astype(np.uint16))


@pytest.mark.parametrize("name", ["fp16", "bf16"])
@pytest.mark.parametrize("saturate", [True, False])
def test_zero_rbits_round_toward_zero_fp16_bf16(name, saturate):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 1 << 32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = x[~np.isnan(x)]
    fmt = nx.get_format(name)
    got = fmt.encode(x, rounding=SR, rbits=np.zeros(x.shape, np.uint16), saturate=saturate)
    np.testing.assert_array_equal(got, fmt.encode(x, rounding=nx.RoundMode.TOWARD_ZERO, saturate=saturate))


def test_rbits_all_ones_from_float16_input_is_exact():
    """float16 x into fp16: nothing is dropped, so no rbits value changes a code."""
    x = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    x = x[np.isfinite(x)]  # satfinite: inf becomes max
    fmt = nx.get_format("fp16")
    got = fmt.encode(x, rounding=SR, rbits=np.full(x.shape, 8191, np.uint16))
    np.testing.assert_array_equal(got, x.view(np.uint16))


def test_f16x2_register_unpacked_as_flashinfer_does():
    """cvt_rs_f16x2_f32 of flashinfer (same commit as above) without the instruction: d[15:0] (PTX b, our
    lane 0) rounds with rbits[12:0], d[31:16] (PTX a, lane 1) with rbits[28:16]; lowbit fed
    rbits_from_ptx(W, "fp16") gives the same two codes per register on fp16 normal results."""
    rng = np.random.default_rng(8)
    a = np.exp2(rng.uniform(-14, 15.9, (50_000, 2))).astype(np.float32)
    x = np.where(rng.random(a.shape) < 0.5, -a, a).astype(np.float32)
    w = (rng.integers(0, 1 << 32, 50_000, dtype=np.uint64) & 0x1FFF1FFF).astype(np.uint32)
    fmt = nx.get_format("fp16")
    got = fmt.encode(x, rounding=SR, rbits=nx.rbits_from_ptx(w, "fp16").reshape(x.shape), saturate=False)
    want = np.stack([flashinfer_cvt_rs_f16_sw(x[:, 0], w & 0x1FFF), flashinfer_cvt_rs_f16_sw(x[:, 1], w >> 16)], 1)
    keep = (np.abs(x) >= 2.0 ** -14) & (np.abs(x) < 65520)
    np.testing.assert_array_equal(got[keep], want[keep])
