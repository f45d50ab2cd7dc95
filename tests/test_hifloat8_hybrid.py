"""HiFloat8 hybrid rounding (HR, arXiv 2409.16626 §3.2 eq. (3), Fig. 2) against an exact `fractions`
statement of the paper's rule over the HiF8 codebook: every float16 and every bfloat16 (SR2 sources),
and complete (F14, T14) grids of float32 (SR14) in five HiF8 precision regions. The large sets use the same
rule on arrays (hr_reference_array), which test_array_reference_is_the_fractions_reference ties to it."""

from bisect import bisect_right
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

import numerics as nx

TA = nx.RoundMode.TIES_TO_AWAY
HIF8 = nx.get_format("hifloat8")
INF_LEVEL = Fraction(3, 2) * 2 ** 15  # where the ±inf codes sit (E = 15, m = 1)


def codebook() -> tuple[list, dict]:
    """The non-negative finite HiF8 values (the codebook is the oracle) plus the inf level, and value -> code."""
    codes = np.arange(128, dtype=np.uint8)
    vals = HIF8.decode(codes)
    by_value = {Fraction(float(v)): int(c) for v, c in zip(vals, codes) if np.isfinite(v)}
    by_value[INF_LEVEL] = 0x6F
    return sorted(by_value), by_value


LEVELS, CODE_OF = codebook()
LEVELS_F64 = np.array([float(v) for v in LEVELS])  # exact: dyadic values of a few bits
CODES = np.array([CODE_OF[v] for v in LEVELS])


def hr_reference(x: float, src_bits: int, src: str, saturate: bool) -> int:
    """The paper's rule, exactly: TA where the source exponent |E| < 4 (§3.1), else K + 1 iff F >= T with
    F14 / T14 (float32: 14 MSBs of the discarded fraction, 14 source LSBs) or F2 / T2 (float16, bfloat16:
    2 MSBs, {LSB, 1}) (§3.2, Fig. 2); inexact values only; past the inf level: inf (max with saturate)."""
    if np.isnan(x):
        return 0x80
    sign = 0x80 if np.signbit(x) else 0
    if np.isinf(x):
        return sign | (0x6E if saturate else 0x6F)
    a = Fraction(abs(x))
    if a == 0:
        return 0
    e = int(np.frexp(abs(x))[1]) - 1
    if a >= INF_LEVEL:
        q = INF_LEVEL
    else:
        k = bisect_right(LEVELS, a) - 1  # the largest level <= a
        lo, hi = LEVELS[k], LEVELS[k + 1]
        frac = (a - lo) / (hi - lo)
        if abs(e) < 4:  # TA: nearest, ties away from zero
            q = hi if frac >= Fraction(1, 2) else lo
        else:
            if src == "float32":
                f, t = (frac * 2 ** 14) // 1, src_bits & 0x3FFF
            else:
                f, t = (frac * 4) // 1, 2 * (src_bits & 1) + 1
            q = hi if frac > 0 and f >= t else lo
    code = CODE_OF[q]
    if code == 0x6F and saturate:
        code = 0x6E
    return 0 if code == 0 else sign | code


def hr_reference_array(x: np.ndarray, saturate: bool) -> np.ndarray:
    """hr_reference on an array, in float64, where every step is exact: the source values are float64s; the
    neighbouring levels lo <= |x| < hi have hi <= 2 lo (or lo = 0), so |x| - lo is exact (Sterbenz), and
    hi - lo is a power of two, so the fraction and its scaling by 4 or 2^14 are exact
    (test_codebook_spacing_keeps_the_array_reference_exact)."""
    raw = x.view(np.uint32 if x.dtype.name == "float32" else np.uint16).astype(np.int64)
    a = np.abs(x.astype(np.float64))
    nan, inf = np.isnan(a), np.isinf(a)
    a = np.where(nan | inf, 0.0, a)
    e = np.frexp(a)[1] - 1
    k = np.minimum(np.searchsorted(LEVELS_F64, a, side="right") - 1, LEVELS_F64.size - 2)  # largest level <= a
    lo, hi = LEVELS_F64[k], LEVELS_F64[k + 1]
    frac = (a - lo) / (hi - lo)
    if x.dtype.name == "float32":
        f, t = np.floor(frac * 2.0 ** 14), raw & 0x3FFF
    else:
        f, t = np.floor(frac * 4), 2 * (raw & 1) + 1
    up = np.where(np.abs(e) < 4, frac >= 0.5, (frac > 0) & (f >= t))
    code = np.where(a >= float(INF_LEVEL), 0x6F, np.where(up, CODES[k + 1], CODES[k]))
    if saturate:
        code = np.where(code == 0x6F, 0x6E, code)
    sign = np.where(np.signbit(x), 0x80, 0)
    out = np.where(code == 0, 0, sign | code)
    out = np.where(inf, sign | (0x6E if saturate else 0x6F), out)
    return np.where(nan, 0x80, out).astype(np.uint8)


def check(x: np.ndarray, saturate: bool = True, fractions: bool = False) -> None:
    """lowbit's codes against hr_reference_array (fractions=True: against hr_reference, value by value)."""
    src = x.dtype.name
    raw = x.view(np.uint32 if src == "float32" else np.uint16)
    got = HIF8.encode(x, rounding=TA, hybrid=True, saturate=saturate)
    if fractions:
        want = np.array([hr_reference(float(v), int(b), src, saturate) for v, b in zip(x, raw)], np.uint8)
    else:
        want = hr_reference_array(x, saturate)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} mismatches, first x={x[bad[0]]!r} got {got[bad[0]]:#04x} "
                           f"want {want[bad[0]]:#04x}")


def test_codebook_spacing_keeps_the_array_reference_exact():
    """What hr_reference_array's exactness rests on: neighbouring levels differ by a power of two, and each
    positive level is at least half the next one."""
    step = np.diff(LEVELS_F64)
    assert (np.frexp(step)[0] == 0.5).all()
    assert (LEVELS_F64[2:] <= 2 * LEVELS_F64[1:-1]).all() and LEVELS_F64[0] == 0


@pytest.mark.slow  # it vouches for the reference of the exhaustive sets, which are slow too
def test_array_reference_is_the_fractions_reference():
    """hr_reference_array gives hr_reference's codes: on every 37th float16 and bfloat16 and every 101st
    value of each float32 grid, both signs, saturating or not."""
    sets = [np.arange(0, 1 << 16, 37, dtype=np.uint16).view(dt) for dt in (np.float16, ml_dtypes.bfloat16)]
    sets += [f32_grid(e, kept)[::101] for e, kept in GRIDS]
    for x in sets:
        x = np.concatenate([x, -x])
        raw = x.view(np.uint32 if x.dtype.name == "float32" else np.uint16)
        for saturate in (True, False):
            want = [hr_reference(float(v), int(b), x.dtype.name, saturate) for v, b in zip(x, raw)]
            np.testing.assert_array_equal(hr_reference_array(x, saturate), np.array(want, np.uint8))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16])
@pytest.mark.parametrize("saturate", [True, False])
def test_hybrid_every_16_bit_source(dtype, saturate):
    check(np.arange(1 << 16, dtype=np.uint16).view(dtype), saturate)


def f32_grid(e: int, kept: int) -> np.ndarray:
    """float32 in binade 2^e whose HiF8 step keeps `kept` mantissa bits: every kept pattern's first value
    with every F14 (the 14 discarded MSBs) and the remaining low bits 0, 1, all ones and one random value."""
    rest_w = 23 - kept - 14
    rng = np.random.default_rng(abs(e))
    f14 = np.arange(1 << 14, dtype=np.uint32)
    rests = np.array([0, 1, (1 << rest_w) - 1, int(rng.integers(0, 1 << rest_w))], np.uint32)
    kept_v = np.array([0, (1 << kept) - 1], np.uint32) if kept else np.array([0], np.uint32)
    man = (kept_v[:, None, None] << (23 - kept)) | (f14[None, :, None] << rest_w) | rests[None, None, :]
    bits = ((e + 127) << 23) | man.reshape(-1)
    return bits.astype(np.uint32).view(np.float32)


# a source binade on each side of 1 per kept mantissa width (2, 1, 0 bits; 0 bits only below 2^-15)
GRIDS = [(5, 2), (10, 1), (-20, 0), (-6, 2), (-12, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("e, kept", GRIDS)
def test_hybrid_float32_sr14_complete_grid(e, kept):
    x = f32_grid(e, kept)
    check(np.concatenate([x, -x[::7]]))


def test_hybrid_float32_random_and_specials():
    rng = np.random.default_rng(11)
    x = (rng.standard_normal(20_000) * np.exp2(rng.uniform(-30, 18, 20_000))).astype(np.float32)
    x[:10] = [0.0, -0.0, np.inf, -np.inf, np.nan, 2.0 ** 15, 1.25 * 2 ** 15, 1.5 * 2 ** 15, 2.0 ** -23, 15.5]
    for saturate in (True, False):
        check(x, saturate, fractions=True)


def test_hybrid_is_ta_where_exponent_small_and_exact_values_stay():
    x = np.linspace(-15.99, 15.99, 5001, dtype=np.float32)
    x = x[np.abs(x) >= 0.125]
    np.testing.assert_array_equal(HIF8.encode(x, rounding=TA, hybrid=True), HIF8.encode(x, rounding=TA))
    vals = HIF8.decode(np.arange(256, dtype=np.uint8))
    exact = vals[np.isfinite(vals)].astype(np.float32)
    for src in (exact, exact.astype(np.float16)[np.isfinite(exact.astype(np.float16))]):
        np.testing.assert_array_equal(HIF8.decode(HIF8.encode(src, rounding=TA, hybrid=True)), src.astype(np.float64))


def test_hybrid_sr2_thresholds():
    """SR2 by hand: at 2^6 HiF8 keeps 2 mantissa bits (step 16); 68 is a quarter step (F2 = 1) and steps
    up because its float16 LSB is 0 (T2 = 0.25); 68.0625 (LSB 1, T2 = 0.75) stays; 72 (F2 = 2, LSB 0) steps
    up; 76 (F2 = 3) steps up from either threshold."""
    x = np.array([68.0, 68.0625, 72.0, 76.0], np.float16)  # 68.0625 has LSB 1 (fp16 step at 64 is 1/16)
    got = HIF8.decode(HIF8.encode(x, rounding=TA, hybrid=True))
    np.testing.assert_array_equal(got, [80.0, 64.0, 80.0, 80.0])


@pytest.mark.parametrize("kw, x, exc, match", [
    (dict(rounding=nx.RoundMode.TIES_TO_EVEN, hybrid=True), np.ones(2, np.float32), ValueError,
     "pass rounding=RoundMode.TIES_TO_AWAY"),
    (dict(rounding=TA, hybrid=True), np.ones(2), TypeError, "float32 .SR14., float16 and bfloat16"),
    (dict(rounding=TA, hybrid=True, rng=1), np.ones(2, np.float32), ValueError, "draws no random numbers"),
    (dict(rounding=TA, hybrid=1), np.ones(2, np.float32), TypeError, "hybrid must be a bool"),
    (dict(rounding=TA, hybrid=True, saturate=None), np.ones(2, np.float32), TypeError, "saturate must be a bool"),
])
def test_hybrid_bad_input(kw, x, exc, match):
    with pytest.raises(exc, match=match):
        HIF8.encode(x, **kw)
