"""Scale-rounding conventions of issue #20, each against an independent computation.

Power-of-two rules and the Triton UE4M3 rules run exhaustively over every positive finite float16
block amax; oracles use exact integer/Fraction arithmetic or the UE4M3 codebook from ml_dtypes.
"""

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

import numerics as nx
from numerics.blocks import BlockFormat, ScaleRule

from .test_nvfp4_recipes import e2m1_codes, e4m3_codes, e4m3_values

F32 = np.float32
# every positive finite float16 value, as float64 (exact)
FP16_POS = np.arange(1, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float64)


def floor_log2(a: float) -> int:
    n, d = Fraction(a).as_integer_ratio()
    e = n.bit_length() - d.bit_length()
    return e if Fraction(2) ** e <= Fraction(n, d) else e - 1


FLOOR_LOG2 = np.array([floor_log2(a) for a in FP16_POS.tolist()])


def tilelang_exponents(m: float, amax: np.ndarray) -> np.ndarray:
    """tile-ai/tilelang@a35008a4 examples/deepseek_v32/inference/kernel.py fast_round_scale, restated
    with exact arithmetic: v = fl32(amax * fl32(1/m)) (the product of two float32 values is exact in
    float64, so one float32 rounding of it is the float32 product); then the smallest e with 2^e >= v for
    a normal v, -126 for a float32-subnormal v, -127 for v = 0."""
    inv = Fraction(float(np.float32(1.0 / m)))
    out = []
    for a in amax.tolist():
        v = Fraction(float(np.float32(float(Fraction(float(np.float32(a))) * inv))))
        if v == 0:
            out.append(-127)
        elif v < Fraction(2) ** -126:
            out.append(-126)
        else:
            e = floor_log2(float(v))
            out.append(e if Fraction(2) ** e == v else e + 1)
    return np.array(out)


ORACLES = {
    ScaleRule.FLOOR: lambda el: FLOOR_LOG2 - el.emax,
    # aws-neuron/nki-library test/utils/mx_utils.py get_mx_max_exp(mx_alt_emax=True): E5M2 14, E4M3 7,
    # E2M1 2 (code = max float32 exponent field - that); E3M2 / E2M3 are not in its table: lowbit
    # gives formats narrower than 8 bits no headroom, as for E2M1
    ScaleRule.TRAINIUM: lambda el: FLOOR_LOG2 - {"e5m2": 14, "e4m3": 7, "e2m1": 2}.get(el.name, el.emax),
    ScaleRule.TILELANG: lambda el: tilelang_exponents(float(el.max), FP16_POS),
}


def one_per_block(values: np.ndarray) -> np.ndarray:
    """Each value alone in its own 32-element row (the rest zeros), so each row's amax is the value."""
    x = np.zeros((values.size, 32))
    x[:, 0] = values
    return x


@pytest.mark.parametrize("rule", list(ORACLES), ids=lambda r: r.name)
@pytest.mark.parametrize("elem", ["e4m3", "e5m2", "e2m1", "e3m2", "e2m3"])
def test_pow2_rules_exhaustive_fp16(rule, elem):
    el = nx.get_format(elem)
    fmt = BlockFormat(element=el, scale=nx.get_format("e8m0"), block_size=32, scale_rule=rule)
    bt = fmt.encode(one_per_block(FP16_POS))
    want = np.clip(ORACLES[rule](el), -127, 127) + 127
    np.testing.assert_array_equal(bt.scales[:, 0], want)
    # elements: the scalar format's own RNE of x / 2^e, saturating
    e = want.astype(np.int64) - 127
    np.testing.assert_array_equal(bt.codes[:, 0], el.encode(np.ldexp(FP16_POS, -e), saturate=True))


def test_tilelang_float32_subnormal_descale():
    """Where fl32(amax / 448) is a float32 subnormal tilelang's bit trick gives 2^-126, RCEIL 2^-127."""
    el = nx.get_format("e4m3")
    amax = np.array([2.0 ** -120, 448 * 2.0 ** -127, 448 * 2.0 ** -126, 3e-38, 1e-45])
    x = np.zeros((amax.size, 32), np.float32)
    x[:, 0] = amax
    got = BlockFormat(element=el, scale=nx.get_format("e8m0"), scale_rule=ScaleRule.TILELANG).encode(x).scales[:, 0]
    np.testing.assert_array_equal(got, np.clip(tilelang_exponents(448.0, amax), -127, 127) + 127)


@pytest.mark.parametrize("rule", [ScaleRule.TRAINIUM, ScaleRule.TILELANG, ScaleRule.RCEIL], ids=lambda r: r.name)
def test_e4m3_headroom_rules_never_clip(rule):
    fmt = BlockFormat(element=nx.get_format("e4m3"), scale=nx.get_format("e8m0"), block_size=32, scale_rule=rule)
    x = one_per_block(FP16_POS)
    assert (np.abs(fmt.quantize(x)[:, 0]) <= FP16_POS * 1.0625).all()
    assert (fmt.encode(x).codes[:, 0] & 0x7F != 0x7E).any()


def ue4m3_grid() -> np.ndarray:
    return np.arange(0, 0x7F, dtype=np.uint8).view(ml_dtypes.float8_e4m3fn).astype(np.float64)


@pytest.mark.parametrize("rule", [ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN, ScaleRule.TRITON_NEAREST],
                         ids=lambda r: r.name)
def test_triton_ue4m3_rules_exhaustive_fp16(rule):
    fmt = BlockFormat(element=nx.get_format("e2m1"), scale=nx.get_format("ue4m3"), block_size=16, scale_rule=rule)
    x = np.zeros((FP16_POS.size, 16), F32)
    x[:, 0] = FP16_POS
    bt = fmt.encode(x)
    raw = np.clip((x[:, 0] / F32(6.0)).astype(F32), F32(2.0 ** -6), F32(448.0)).astype(np.float64)
    grid = ue4m3_grid()
    if rule == ScaleRule.TRITON_UP:
        want = np.searchsorted(grid, raw, side="left")
    elif rule == ScaleRule.TRITON_DOWN:
        want = np.searchsorted(grid, raw, side="right") - 1
    else:
        want = e4m3_codes(raw.astype(F32))
    np.testing.assert_array_equal(bt.scales[:, 0], want)
    # elements: fl32(x / s) rounded to E2M1 (ties to even), clamped to ±6
    sval = grid[want].astype(F32)
    np.testing.assert_array_equal(bt.codes[:, 0], e2m1_codes(np.clip((x[:, 0] / sval).astype(F32), -6, 6)))


def four_over_six_oracle(x: np.ndarray):
    """Per block: UE4M3 scales for amax -> 6 and amax -> 4 (1.5x the first), lowbit division recipe,
    keep the one with the lower squared error in the value domain (ties: 6)."""
    x = x.astype(F32)
    ts = F32(F32(np.abs(x).max()) / F32(2688.0))
    blocks = x.reshape(-1, 16)
    raw = ((np.abs(blocks).max(axis=1) / F32(6.0)).astype(F32) / ts).astype(F32)
    e2m1 = np.array([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6])
    best = None
    for f in (F32(1.0), F32(1.5)):
        codes = e4m3_codes(np.clip((raw * f).astype(F32), F32(2.0 ** -6), F32(448)))
        sval = (e4m3_values(codes) * ts).astype(F32)
        q = e2m1_codes(np.clip((blocks / sval[:, None]).astype(F32), -6, 6))
        err = ((e2m1[q] * sval[:, None].astype(np.float64) - blocks) ** 2).sum(axis=1)
        if best is None:
            best = (codes, q, err)
        else:
            pick = err < best[2]
            best = (np.where(pick, codes, best[0]), np.where(pick[:, None], q, best[1]), np.minimum(err, best[2]))
    return best[0], best[1].reshape(x.shape)


@pytest.mark.parametrize("seed", range(4))
def test_four_over_six(seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((16, 64)) * np.exp2(rng.uniform(-8, 8, size=(16, 1)))).astype(F32)
    fmt = nx.get_block_format("nvfp4", scale_rule="four_over_six")
    bt = fmt.encode(x)
    scales, codes = four_over_six_oracle(x)
    np.testing.assert_array_equal(bt.scales.reshape(-1), scales)
    np.testing.assert_array_equal(bt.codes, codes)
    # never worse than plain NVFP4, block by block
    err = ((fmt.quantize(x) - x) ** 2).reshape(-1, 16).sum(axis=1)
    err6 = ((nx.get_block_format("nvfp4").quantize(x) - x) ** 2).reshape(-1, 16).sum(axis=1)
    assert (err <= err6).all()


@pytest.mark.parametrize("name, member", [
    ("ocp", ScaleRule.FLOOR), ("OCP", ScaleRule.FLOOR), ("floor", ScaleRule.FLOOR),
    ("cuda_mxfp8", ScaleRule.RCEIL), ("rceil", ScaleRule.RCEIL), ("tilelang", ScaleRule.TILELANG),
    ("trainium", ScaleRule.TRAINIUM), ("triton_nearest", ScaleRule.AMAX), ("triton_up", ScaleRule.TRITON_UP),
    ("amax_down", ScaleRule.TRITON_DOWN), ("four_over_six", ScaleRule.FOUR_OVER_SIX),
    (ScaleRule.CEIL, ScaleRule.CEIL),
])
def test_scale_rule_by_name(name, member):
    base = "nvfp4" if member in (ScaleRule.AMAX, ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN,
                                 ScaleRule.FOUR_OVER_SIX) else "mxfp8_e4m3"
    assert nx.get_block_format(base, scale_rule=name).scale_rule is member


@pytest.mark.parametrize("bad, exc, match", [
    ("nearest", ValueError, "unknown scale_rule 'nearest'; choose one of floor, ocp, ceil"),
    ("", ValueError, "unknown scale_rule"),
    (1, TypeError, "scale_rule must be a ScaleRule or its name"),
])
def test_bad_scale_rule(bad, exc, match):
    with pytest.raises(exc, match=match):
        nx.get_block_format("mxfp4", scale_rule=bad)


@pytest.mark.parametrize("name, rule, match", [
    ("int4_g128_asym", "four_over_six", "zero_point uses the AMAX rule"),
    ("int4_g128", "four_over_six", "four_over_six chooses between"),
    ("nvfp4", "tilelang", "TILELANG gives power-of-two scales; the scale format must have no mantissa"),
])
def test_rule_format_mismatch(name, rule, match):
    with pytest.raises(ValueError, match=match):
        nx.get_block_format(name, scale_rule=rule)


def test_triton_rule_fixes_scale_rounding():
    fmt = nx.get_block_format("nvfp4", scale_rule="triton_up")
    with pytest.raises(ValueError, match="TRITON_UP fixes the scale rounding"):
        fmt.encode(np.ones(16), scale_rounding=nx.RoundMode.TOWARD_ZERO)
