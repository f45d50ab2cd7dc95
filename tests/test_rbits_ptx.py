"""rbits= for the x4 types against bit-level models of PTX cvt.rs.satfinite.{e2m1,e2m3,e3m2,e4m3,e5m2}x4.f32
(16 random bits per element), and `rbits_from_ptx` against the operand layouts as the PTX ISA text and
the sm_100a probe README state them, transcribed lane by lane.

Models (docs/formats_2026.md, "rbits", says what each one establishes):
- flashinfer's `cvt_rs_e4m3_sw`, reported bitwise equal to cvt.rs.satfinite.e4m3x4.f32 on sm_100a
  (flashinfer-ai/flashinfer@04e570b3d8cf0a85a8eb8345a19d559bd2619b2f include/flashinfer/mamba/conversion.cuh).
- quant_cast_bench's eager model of the x4 carry rule (vkuzo/quant_cast_bench@381c048aed2f0f3bfc9e493ef5597c32ecadad30,
  experiments/stochastic_rounding_api/api.py, the float8_e4m3fn branch), tested there bitwise against the
  instruction on sm_100a for e4m3 (normals, subnormals, the bottom bin, saturation). Here it takes each
  format's constants (max, mantissa bits, min normal exponent): for e5m2 and e2m1 that is the rule the
  probe README measured at 1.0 on sm_100a; for e2m3 and e3m2 it is the PTX text's rule, not measured.
"""

import numpy as np
import pytest

import numerics as nx

SR = nx.RoundMode.STOCHASTIC
F32 = np.float32
X4 = ["e2m1", "e2m3", "e3m2", "e4m3", "e5m2"]
ALL_F16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
# 16-bit random values: both ends, each byte alone, the top and the bottom bit, and random ones whose low
# byte is not zero (the bits an 8-bit reading of the operand would lose)
R_SPREAD = np.concatenate([np.array([0, 1, 0x00FF, 0x0100, 0x7FFF, 0x8000, 0x80FF, 0xFF00, 0xFFFE, 0xFFFF]),
                           np.random.default_rng(20).integers(0, 1 << 16, 14) | 1]).astype(np.uint16)


def flashinfer_cvt_rs_e4m3_sw(x: np.ndarray, rand16: np.ndarray) -> np.ndarray:
    """cvt_rs_e4m3_sw of flashinfer (module doc): the 16-bit random value placed at the top of the dropped
    bits of the 24-bit significand, then truncation; satfinite; float32 subnormals to signed zero; NaN to
    S.1111.111."""
    bits = x.astype(F32).view(np.uint32).astype(np.int64)
    rand16 = rand16.astype(np.int64)
    sign = (bits >> 31) & 1
    exp = (bits >> 23) & 0xFF
    mant24 = 0x800000 | (bits & 0x7FFFFF)
    unb = exp - 127
    shift = np.where(unb >= -6, 20, 14 - unb)
    rshift = shift - 16
    contrib = np.where(rshift < 0, rand16 >> np.maximum(-rshift, 0),
                       np.where(rshift < 56, rand16 << np.clip(rshift, 0, 55), 0))
    ip = (mant24 + contrib) >> np.minimum(shift, 63)  # the C shifts are defined up to 63 (exponent >= -49)
    e = np.where(unb >= -6, unb + 7, 1)
    while (ip >= 16).any():  # a carry into the next binade (at most a few steps)
        e = np.where(ip >= 16, e + 1, e)
        ip = np.where(ip >= 16, ip >> 1, ip)
    sat = (e > 15) | ((e == 15) & ((ip & 7) == 7))
    normal = (e << 3) | (ip & 7)
    sub = np.where(unb >= -6, normal, np.where(ip <= 7, ip, normal))
    mag = np.where(sat, 0x7E, sub)
    mag = np.where(exp == 0, 0, mag)
    mag = np.where(exp == 0xFF, np.where(bits & 0x7FFFFF, 0x7F, 0x7E), mag)
    return ((sign << 7) | mag).astype(np.uint8)


def qcb_rs_x4_values(fmt, x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """quant_cast_bench's model (module doc) with fmt's constants, as float64 values: clamp to ±max; the
    dropped width D = (23 - mantissa bits) + max(0, emin - E) from the float32 exponent E; add r << (D - 16)
    to the float32 pattern and clear its low D bits; below the min subnormal s, |x| / s + r / 2^16 >= 1
    gives s, else 0; the sign kept (NaN inputs: not modelled, left out by the callers)."""
    xc = np.clip(x.astype(F32), -fmt.max, fmt.max).astype(F32)
    bits = xc.view(np.uint32).astype(np.int64)
    e = ((bits >> 23) & 0xFF) - 127
    d = np.minimum(23 - fmt.man_bits + np.maximum(0, fmt.emin - e), 23)
    out = ((bits + (r.astype(np.int64) << (d - 16))) & ~((np.int64(1) << d) - 1)).astype(np.uint32)
    val = out.view(F32).astype(np.float64)
    sub = 2.0 ** (fmt.emin - fmt.man_bits)
    ax = np.abs(x.astype(np.float64))
    bottom = np.where(ax / sub + r / 65536.0 >= 1.0, sub, 0.0)
    return np.copysign(np.where(ax < sub, bottom, np.abs(val)), x.astype(np.float64))


def encode_sr(fmt, x, r):
    return fmt.encode(x, rounding=SR, rbits=r)


def every_f16_by_spread(finite: bool = True) -> tuple[np.ndarray, np.ndarray]:
    x = ALL_F16[np.isfinite(ALL_F16)] if finite else ALL_F16[~np.isnan(ALL_F16)]
    return np.repeat(x.astype(F32), R_SPREAD.size), np.tile(R_SPREAD, x.size)


def test_e4m3_equals_flashinfer_hardware_model_on_every_float16():
    """Every float16 input (±inf included) x 24 random values, low bytes included: the same codes."""
    fmt = nx.get_format("e4m3")
    x, r = every_f16_by_spread(finite=False)
    np.testing.assert_array_equal(encode_sr(fmt, x, r), flashinfer_cvt_rs_e4m3_sw(x, r))


def test_e4m3_equals_hardware_models_on_float32_classes():
    """Random float32 patterns of every class with random 16-bit values. flashinfer's model is compared
    where its C shifts are defined (float32 exponent >= -49, and float32 subnormals, which it flushes to
    signed zero); below 2^-49 its shift by 14 - exponent reaches 64 bits, so those inputs (all 0 in lowbit,
    since 16 random bits cannot carry there) are compared with quant_cast_bench's model instead."""
    rng = np.random.default_rng(21)
    bits = rng.integers(0, 1 << 32, 400_000, dtype=np.uint64).astype(np.uint32)
    bits[:4] = [1, 0x807FFFFF, 0x3B800000 - 1, 0x43E00001]  # subnormals, just below 2^-8, just above 448
    x = bits.view(F32)
    x = x[~np.isnan(x)]
    r = rng.integers(0, 1 << 16, x.size).astype(np.uint16)
    r[:4] = 0xFFFF
    fmt = nx.get_format("e4m3")
    got = encode_sr(fmt, x, r)
    e = (x.view(np.uint32) >> 23) & 0xFF
    fi = (e == 0) | (e >= 127 - 49)
    assert fi.sum() > 100_000 and (~fi).sum() > 100_000
    np.testing.assert_array_equal(got[fi], flashinfer_cvt_rs_e4m3_sw(x[fi], r[fi]))
    np.testing.assert_array_equal(fmt.decode(got), qcb_rs_x4_values(fmt, x, r))


@pytest.mark.parametrize("name", X4)
def test_x4_equals_quant_cast_bench_model_on_every_float16(name):
    fmt = nx.get_format(name)
    x, r = every_f16_by_spread(finite=False)
    got = fmt.decode(encode_sr(fmt, x, r))
    want = qcb_rs_x4_values(fmt, x, r)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} differ, first x={x[bad[0]]!r} r={r[bad[0]]:#06x}: {got[bad[0]]}, {want[bad[0]]}"
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def f32_range(lo_bits: int, hi_bits: int) -> np.ndarray:
    return np.arange(lo_bits, hi_bits + 1, dtype=np.uint32).view(F32)


def carry_thresholds(fmt, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each x with rbits 0, the last value that does not carry, the first that does, and 0xFFFF (kinds 0..3):
    the top 16 of the dropped bits t (read from the float32 pattern) carry with r iff t + r >= 2^16."""
    bits = x.view(np.uint32).astype(np.int64)
    e = ((bits >> 23) & 0xFF) - 127
    d = 23 - fmt.man_bits + np.maximum(0, fmt.emin - e)
    mant = np.where(e > -127, (bits & 0x7FFFFF) | 0x800000, (bits & 0x7FFFFF) << 1)
    top16 = np.where(d <= 39, (mant >> np.minimum(d - 16, 62)) & 0xFFFF, 0)  # deeper: nothing reaches the top 16
    first = (1 << 16) - top16
    r = np.stack([np.zeros_like(first), first - 1, first, np.full_like(first, 0xFFFF)], axis=1)
    kind = np.broadcast_to(np.arange(4), r.shape)
    ok = (r >= 0) & (r < 1 << 16)
    return np.repeat(x[:, None], 4, axis=1)[ok], r[ok].astype(np.uint16), kind[ok]


def boundary_cases(fmt) -> dict[str, np.ndarray]:
    """Complete runs of 2^16 + 1 float32 patterns, signs alternating, where the carry crosses a boundary:
    the top of [1, 2) (into 2), just below the min normal (subnormal into normal), just below max (into
    saturation), and just below the min subnormal (0 or the min subnormal)."""
    def below(v: float) -> np.ndarray:
        top = int(np.array(v, F32).view(np.uint32)) - 1
        return f32_range(top - (1 << 16), top)
    cases = {"top of [1, 2)": below(2.0), "below the min normal": below(fmt.min_normal),
             "below max": below(fmt.max), "below the min subnormal": below(fmt.min_subnormal)}
    for k, x in cases.items():
        x = x.copy()
        x[1::2] *= -1
        cases[k] = x
    return cases


@pytest.mark.parametrize("name", X4)
def test_x4_carry_thresholds(name):
    """On both sides of each input's carry threshold: one below it gives round toward zero, at it the next
    value away from zero (max at most); lowbit equals quant_cast_bench's model throughout, and for e4m3
    also flashinfer's."""
    fmt = nx.get_format(name)
    pos = np.array([v for v in fmt.values() if v >= 0])
    for case, xs in boundary_cases(fmt).items():
        x, r, kind = carry_thresholds(fmt, xs)
        assert (kind == 1).sum() > 1000 and (kind == 2).sum() > 1000, case
        got = fmt.decode(encode_sr(fmt, x, r))
        want = qcb_rs_x4_values(fmt, x, r)
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, f"{case}: {bad.size} differ, first x={x[bad[0]]!r} r={r[bad[0]]:#06x}"
        if name == "e4m3":
            np.testing.assert_array_equal(encode_sr(fmt, x, r), flashinfer_cvt_rs_e4m3_sw(x, r), err_msg=case)
        rz = np.abs(fmt.decode(fmt.encode(x, rounding=nx.RoundMode.TOWARD_ZERO)))
        up = pos[np.minimum(np.searchsorted(pos, rz) + 1, pos.size - 1)]
        np.testing.assert_array_equal(np.abs(got[kind == 1]), rz[kind == 1], err_msg=case)
        np.testing.assert_array_equal(np.abs(got[kind == 2]), up[kind == 2], err_msg=case)


def lane_value(w: np.ndarray, msb_to_lsb: list[int]) -> np.ndarray:
    """A lane's random value from the operand bits it reads, listed from its most significant bit down."""
    v = np.zeros(w.shape, np.uint64)
    for pos, b in enumerate(msb_to_lsb):
        v |= ((w.astype(np.uint64) >> np.uint64(b)) & np.uint64(1)) << np.uint64(len(msb_to_lsb) - 1 - pos)
    return v


def bits(hi: int, lo: int) -> list[int]:
    """hi, hi-1, ..., lo (or ascending when hi < lo): a run of operand bit positions."""
    return list(range(hi, lo - 1, -1)) if hi >= lo else list(range(hi, lo + 1))


# lane i (the i-th least significant field of the result) -> the operand bits it reads, MSB first:
# the nvidia_rs_bit_probe README tables (e4m3/e5m2, e2m1, bf16; its elem i is our lane i), the PTX text for
# e2m3/e3m2 (Figure 41, the same as e4m3/e5m2) and f16 (the 13 low bits of each half)
F8_LANES = [bits(15, 0), bits(0, 15), bits(31, 16), bits(16, 31)]
LANES = {
    "e4m3": F8_LANES, "e5m2": F8_LANES, "e2m3": F8_LANES, "e3m2": F8_LANES,
    "e2m1": [bits(23, 16) + bits(7, 0), bits(0, 7) + bits(16, 23), bits(31, 24) + bits(15, 8),
             bits(8, 15) + bits(24, 31)],
    "bf16": [bits(15, 0), bits(31, 16)],
    "fp16": [bits(12, 0), bits(28, 16)],
}


@pytest.mark.parametrize("name", sorted(LANES))
def test_rbits_from_ptx_against_the_published_layouts(name):
    rng = np.random.default_rng(22)
    w = rng.integers(0, 1 << 32, (3, 50), dtype=np.uint64).astype(np.uint32)
    w[0, :4] = [0, 0xFFFFFFFF, 0x12345678, 0x80000001]
    if name == "fp16":
        w &= 0x1FFF1FFF  # bits [31:29] and [15:13] are 0 (PTX)
    got = nx.rbits_from_ptx(w, name)
    g = len(LANES[name])
    assert got.shape == (3, 50 * g) and got.dtype == np.uint32
    want = np.stack([lane_value(w, lane) for lane in LANES[name]], axis=-1).reshape(3, -1)
    np.testing.assert_array_equal(got, want)
    # a scalar operand, a format object and a wider unsigned dtype give the same values
    np.testing.assert_array_equal(nx.rbits_from_ptx(w[0, 2], nx.get_format(name)), want[0, 2 * g:3 * g])
    np.testing.assert_array_equal(nx.rbits_from_ptx(w.astype(np.uint64), name), want)


def test_hand_built_e4m3x4_register():
    """One cvt.rs.satfinite.e4m3x4.f32 with d's bytes 0..3 from x0..x3 (PTX {a, b, e, f} = {x3, x2, x1, x0})
    and the register W = 0xC000_0003: lane 0 reads 0x0003, lane 1 its reversal 0xC000, lane 2 0xC000, lane
    3 its reversal 0x0003. Each x lies 3/4 of the way from 1.0 to 1.125 (t = 0xC000 in the top 16 dropped
    bits), so 0xC000 carries (1.125) and 0x0003 does not (1.0); flashinfer's fallback, which packs the four
    lanes the same way, agrees."""
    x = np.full(4, 1.09375, F32)
    w = np.uint32(0xC0000003)
    r = nx.rbits_from_ptx(w, "e4m3")
    np.testing.assert_array_equal(r, [0x0003, 0xC000, 0xC000, 0x0003])
    fmt = nx.get_format("e4m3")
    codes = encode_sr(fmt, x, r)
    np.testing.assert_array_equal(fmt.decode(codes), [1.0, 1.125, 1.125, 1.0])
    lo, hi = int(w) & 0xFFFF, int(w) >> 16
    rev = [int(f"{v:016b}"[::-1], 2) for v in (lo, hi)]
    fi = [flashinfer_cvt_rs_e4m3_sw(x[i:i + 1], np.array([v]))[0] for i, v in enumerate([lo, rev[0], hi, rev[1]])]
    np.testing.assert_array_equal(codes, fi)


def test_hand_built_e2m1x4_register():
    """cvt.rs.satfinite.e2m1x4.f32 with W's bytes B3 B2 B1 B0 = 0x80 0x00 0x00 0x01: lane 0 reads B2B0 =
    0x0001, lane 1 its reversal 0x8000, lane 2 B3B1 = 0x8000, lane 3 its reversal 0x0001. x = 1.25 is
    halfway from 1 to 1.5: 0x8000 carries, 0x0001 does not."""
    r = nx.rbits_from_ptx(np.uint32(0x80000001), "e2m1")
    np.testing.assert_array_equal(r, [0x0001, 0x8000, 0x8000, 0x0001])
    fmt = nx.get_format("e2m1")
    np.testing.assert_array_equal(fmt.decode(encode_sr(fmt, np.full(4, 1.25, F32), r)), [1.0, 1.5, 1.5, 1.0])


def test_hand_built_f16x2_and_bf16x2_registers():
    """f16x2: b (lane 0) reads W[12:0], a (lane 1) W[28:16]; bf16x2: b W[15:0], a W[31:16]."""
    np.testing.assert_array_equal(nx.rbits_from_ptx(np.uint32(0x1ABC0123), "fp16"), [0x0123, 0x1ABC])
    np.testing.assert_array_equal(nx.rbits_from_ptx(np.uint32(0xFABC8123), "bf16"), [0x8123, 0xFABC])


@pytest.mark.parametrize("operand, fmt, exc, match", [
    (np.uint32(0x2000), "fp16", ValueError, r"bits \[31:29\] and \[15:13\] must be 0"),
    (np.array([0x20000000], np.uint32), "fp16", ValueError, r"bits \[31:29\] and \[15:13\] must be 0"),
    (np.array([1 << 32], np.uint64), "e4m3", ValueError, "operand values must lie in 0..4294967295"),
    (np.array([1], np.int32), "e4m3", TypeError, "operand must be a numpy array of unsigned integers"),
    (5, "e4m3", TypeError, "operand must be a numpy array of unsigned integers"),
    (np.uint32(0), "e4m3fn", ValueError, r"fmt must be one of \['bf16', 'e2m1', 'e2m3', 'e3m2', 'e4m3', 'e5m2', "),
    (np.uint32(0), nx.get_format("e3m4"), ValueError, "fmt must be one of .* got 'e3m4'"),
])
def test_rbits_from_ptx_bad_input(operand, fmt, exc, match):
    with pytest.raises(exc, match=match):
        nx.rbits_from_ptx(operand, fmt)


@pytest.mark.parametrize("name", ["e2m1", "e2m3", "e3m2"])
def test_nan_is_positive_max_without_nan_code(name):
    """PTX .satfinite: NaN becomes +MAX_NORM for e2m1 / e2m3 / e3m2, whatever the random bits."""
    fmt = nx.get_format(name)
    x = np.array([np.nan, -np.nan], F32)
    for r in (0, 0xFFFF):
        got = fmt.decode(encode_sr(fmt, x, np.full(2, r, np.uint16)))
        np.testing.assert_array_equal(got, [fmt.max, fmt.max])
