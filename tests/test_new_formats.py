"""Issue #20 block formats (mxfp4_b16, nvfp4_ue5m3, fp8_b128, int4_g128_e4m3), two-dimensional block
shapes and the 16-point random Hadamard transform, each against an independent computation."""

import ml_dtypes
import numpy as np
import pytest

import numerics as nx
from numerics.blocks.hadamard import hadamard_matrix, hadamard_signs, random_hadamard

from .test_nvfp4_recipes import e2m1_codes, e4m3_codes, e4m3_values

F32 = np.float32
ALL_F16 = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
NEW_BLOCK_FORMATS = ["mxfp4_b16", "nvfp4_ue5m3", "fp8_b128", "int4_g128_e4m3"]


def data(seed: int, shape=(8, 256), spread: float = 6.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * np.exp2(rng.uniform(-spread, spread, size=(shape[0], 1)))).astype(F32)


@pytest.mark.parametrize("name, bits", [("mxfp4_b16", 4.5), ("nvfp4_ue5m3", 4.5), ("fp8_b128", 8.25),
                                        ("int4_g128_e4m3", 4 + 8 / 128)])
def test_registered(name, bits):
    assert name in nx.block_format_names()
    assert nx.get_block_format(name).name == name
    assert nx.get_block_format(name).bits_per_element == bits


def ue5m3_value(c: int) -> float:
    """UE5M3: 5-bit exponent, bias 15, 3 fraction bits, no sign, subnormals (m / 8) 2^-14, exponent
    fields 1..30 finite (the grid of benchmark_ue5m3.py in clee1994/finer_is_better, arXiv 2605.08565's
    code; Graphcore's MrHuff/ue5m3-fp4 formats.py: max 61440); field 31: inf (m = 0) / NaN, IEEE style."""
    e, m = c >> 3, c & 7
    if e == 31:
        return float("inf") if m == 0 else float("nan")
    return (m / 8) * 2.0 ** -14 if e == 0 else (1 + m / 8) * 2.0 ** (e - 15)


def test_ue5m3_codebook_exhaustive():
    scale = nx.get_block_format("nvfp4_ue5m3").scale
    got = scale.decode(np.arange(256, dtype=np.uint8))
    want = np.array([ue5m3_value(c) for c in range(256)])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[:0xF9], want[:0xF9])
    assert scale.max == 61440.0 and scale.min_subnormal == 2.0 ** -17


@pytest.mark.parametrize("seed", range(3))
def test_nvfp4_ue5m3(seed):
    x = data(seed, spread=12)
    bt = nx.get_block_format("nvfp4_ue5m3").encode(x)
    grid = np.array([ue5m3_value(c) for c in range(0xF8)])  # the finite codes
    ts = F32(F32(np.abs(x).max()) / F32(grid[-1] * 6))
    blocks = x.reshape(-1, 16)
    raw = ((np.abs(blocks).max(axis=1) / F32(6)).astype(F32) / ts).astype(F32).astype(np.float64)
    raw = np.clip(raw, 2.0 ** -14, grid[-1])
    # nearest grid value, ties to the even code
    hi = np.searchsorted(grid, raw)
    lo = np.maximum(hi - 1, 0)
    dlo, dhi = raw - grid[lo], grid[np.minimum(hi, grid.size - 1)] - raw
    want = np.where((dhi < dlo) | ((dhi == dlo) & (hi % 2 == 0)), hi, lo)
    np.testing.assert_array_equal(bt.scales.reshape(-1), want)
    sval = (grid[want].astype(F32) * ts).astype(F32)
    np.testing.assert_array_equal(bt.codes.reshape(-1, 16), e2m1_codes(np.clip(blocks / sval[:, None], -6, 6)))


@pytest.mark.parametrize("seed", range(3))
def test_mxfp4_b16(seed):
    x = data(seed).astype(np.float64)
    bt = nx.get_block_format("mxfp4_b16").encode(x)
    blocks = x.reshape(-1, 16)
    e = np.array([int(np.floor(np.log2(a))) - 2 for a in np.abs(blocks).max(axis=1)])
    np.testing.assert_array_equal(bt.scales.reshape(-1), e + 127)
    np.testing.assert_array_equal(bt.codes.reshape(-1, 16), e2m1_codes(np.clip(np.ldexp(blocks, -e[:, None]), -6, 6)))


@pytest.mark.parametrize("seed", range(3))
def test_fp8_b128_deepseek(seed):
    """DeepSeek-V3 §3.3.1: s = amax / 448 in FP32 per 1 x 128 run; q = E4M3(x / s)."""
    x = data(seed, (4, 512), spread=20)
    bt = nx.get_block_format("fp8_b128").encode(x)
    blocks = x.reshape(-1, 128)
    s = (np.abs(blocks).max(axis=1) / F32(448)).astype(F32)
    np.testing.assert_array_equal(bt.scales.reshape(-1), s.view(np.uint32))
    np.testing.assert_array_equal(bt.codes.reshape(-1, 128), e4m3_codes(np.clip(blocks / s[:, None], -448, 448)))


@pytest.mark.parametrize("seed", range(3))
def test_int4_g128_e4m3(seed):
    x = data(seed, (4, 512))
    bt = nx.get_block_format("int4_g128_e4m3").encode(x)
    blocks = x.reshape(-1, 128)
    sc = e4m3_codes(np.clip((np.abs(blocks).max(axis=1) / F32(7)).astype(F32), F32(2.0 ** -6), F32(448)))
    np.testing.assert_array_equal(bt.scales.reshape(-1), sc)
    s = e4m3_values(sc)
    q = np.clip(np.rint((blocks / s[:, None]).astype(F32)), -7, 7)
    np.testing.assert_array_equal(bt.decode().reshape(-1, 128), q * s[:, None].astype(np.float64))


@pytest.mark.parametrize("name", NEW_BLOCK_FORMATS)
def test_matmul_accepts_new_formats(name):
    fmt = nx.get_block_format(name)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 256)), rng.standard_normal((256, 3))
    qa, qb = fmt.encode(a), fmt.encode(b, axis=0)
    got = nx.matmul(qa, qb, accumulator="exact")  # exact sum, rounded once to the FP32 output
    want = (qa.decode() @ qb.decode()).astype(np.float32)
    np.testing.assert_allclose(got, want, rtol=2.0 ** -23, atol=0)


# -- two-dimensional block shapes --------------------------------------------------------------------
@pytest.mark.parametrize("name, tile, shape", [("nvfp4", (16, 16), (48, 64)), ("mxfp8_e4m3", (16, 16), (32, 48)),
                                               ("fp8_b128", (128, 128), (256, 384)),
                                               ("nvfp4", (16, 16), (2, 32, 16))])
def test_block_shape_w_and_wt_share_scales(name, tile, shape):
    fmt = nx.get_block_format(name)
    w = data(1, (int(np.prod(shape[:-1])), shape[-1])).reshape(shape)
    bt = fmt.encode(w, block_shape=tile)
    btt = fmt.encode(np.swapaxes(w, -1, -2), block_shape=tile)
    np.testing.assert_array_equal(btt.scales, np.swapaxes(bt.scales, -1, -2))
    np.testing.assert_array_equal(btt.codes, np.swapaxes(bt.codes, -1, -2))
    assert bt.scales.shape == shape[:-2] + (shape[-2] // tile[0], shape[-1] // tile[1])


def test_block_shape_equals_flattened_tiles():
    """A (16, 16) tile quantises like a 256-element 1-D block holding the same elements."""
    w = data(2, (32, 48))
    bt = nx.get_block_format("nvfp4").encode(w, block_shape=(16, 16))
    tiles = w.reshape(2, 16, 3, 16).transpose(0, 2, 1, 3).reshape(6, 256)
    flat = nx.BlockFormat(element=nx.get_format("e2m1"), scale=nx.get_format("ue4m3"), block_size=256,
                          scale_rule=nx.ScaleRule.AMAX, tensor_scale=True).encode(tiles)
    np.testing.assert_array_equal(bt.scales.reshape(-1), flat.scales.reshape(-1))
    np.testing.assert_array_equal(bt.codes.reshape(2, 16, 3, 16).transpose(0, 2, 1, 3).reshape(6, 256), flat.codes)


@pytest.mark.parametrize("shape, block_shape, axis, exc, match", [
    ((20, 32), (16, 16), -1, ValueError, r"block_shape \(16, 16\) does not tile x of shape \(20, 32\)"),
    ((32, 40), (16, 16), -1, ValueError, "axis -1 has length 40, not a multiple of 16"),
    ((32,), (16, 16), -1, ValueError, "needs x with at least 2 dimensions"),
    ((32, 32), (0, 16), -1, ValueError, "block_shape entries must be positive ints"),
    ((32, 32), (16.0, 16), -1, ValueError, "block_shape entries must be positive ints"),
    ((32, 32), "16x16", -1, TypeError, "block_shape must be a non-empty tuple"),
    ((32, 32), (), -1, TypeError, "block_shape must be a non-empty tuple"),
    ((32, 32), (16, 16), 0, ValueError, "axis must be -1"),
    ((32, 32), (16, 16), (0,), ValueError, "one axis per block_shape dimension"),
    ((32, 32), (16, 16), (0, 5), ValueError, "axis 5 is out of range"),
])
def test_block_shape_bad_input(shape, block_shape, axis, exc, match):
    with pytest.raises(exc, match=match):
        nx.get_block_format("nvfp4").encode(np.ones(shape), axis=axis, block_shape=block_shape)


# -- 16-point random Hadamard transform ---------------------------------------------------------------
# TransformerEngine's wgrad sign vector, transcribed from reference_nvfp4.py get_wgrad_sign_vector
# (NVIDIA/TransformerEngine@d0067d0da6cb01811b8072a7d304f0e00344ce2b)
TE_SIGNS = np.array([1, 1, 1, -1, 1, -1, -1, -1, -1, -1, -1, 1, -1, 1, -1, -1], float)


def te_transform(signs: np.ndarray) -> np.ndarray:
    """TE: H built by Sylvester doubling [[h, h], [h, -h]], rows flipped by diag(signs), times 1/sqrt(16)."""
    h = np.array([[1.0]])
    while h.shape[0] < 16:
        h = np.concatenate([np.concatenate([h, h], 1), np.concatenate([h, -h], 1)], 0)
    return (np.diag(signs) @ h) * 0.25


def test_hadamard_matches_te_construction():
    x = data(3, (4, 64)).astype(np.float64)
    want = (x.reshape(-1, 16) @ te_transform(TE_SIGNS)).reshape(x.shape)
    np.testing.assert_allclose(random_hadamard(x, TE_SIGNS), want, rtol=0, atol=1e-12 * np.abs(x).max())
    np.testing.assert_array_equal(hadamard_matrix(16), te_transform(np.ones(16)) * 4)


def test_hadamard_seed_is_reproducible_and_preserves_products():
    s1, s2 = hadamard_signs(7), hadamard_signs(7)
    np.testing.assert_array_equal(s1, s2)
    assert set(np.unique(s1)) <= {-1.0, 1.0}
    a, b = data(4, (6, 64)).astype(np.float64), data(5, (5, 64)).astype(np.float64)
    np.testing.assert_allclose(random_hadamard(a, 7) @ random_hadamard(b, 7).T, a @ b.T, rtol=1e-9, atol=1e-9)


def test_encode_with_hadamard_is_encode_of_transformed():
    x = data(6, (4, 64))
    fmt = nx.get_block_format("nvfp4")
    a = fmt.encode(x, hadamard=11)
    b = fmt.encode(random_hadamard(x, 11))
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(a.scales, b.scales)
    assert x.dtype == random_hadamard(x, 11).dtype == np.float32


@pytest.mark.parametrize("x_shape, hadamard, axis, exc, match", [
    ((4, 40), 1, -1, ValueError, "runs of 16: axis -1 has length 40"),
    ((4, 32), np.ones(8), -1, ValueError, "16 values of \\+1 or -1"),
    ((4, 32), np.full(16, 0.5), -1, ValueError, "16 values of \\+1 or -1"),
    ((4, 32), -1, -1, ValueError, "seed must be non-negative"),
    ((4, 32), "te", -1, TypeError, "hadamard must be an int seed"),
    ((4, 32), 1.5, -1, TypeError, "hadamard must be an int seed"),
    ((4, 32), 1, None, ValueError, "hadamard applies along one axis"),
])
def test_hadamard_bad_input(x_shape, hadamard, axis, exc, match):
    with pytest.raises(exc, match=match):
        nx.get_block_format("nvfp4").encode(np.ones(x_shape), axis=axis, hadamard=hadamard)


def test_ml_dtypes_oracle_sane():
    """The E4M3 oracle used above rounds float32 once (ties to even) and never sees out-of-range input."""
    assert e4m3_codes(np.array([1.0625], F32))[0] == 0x38  # tie between 1.0 and 1.125 goes to even 1.0
    assert np.float32(ml_dtypes.float8_e4m3fn(448.0)) == 448.0


@pytest.mark.parametrize("name", ["mxfp4_b16", "nvfp4_ue5m3", "fp8_b128"])
def test_accelerator_model_accepts_new_formats(name):
    import accel
    rep = accel.simulate(accel.get_design("b200-like"), accel.Gemm(64, 64, 64, a_format=name, b_format=name))
    assert rep.cycles > 0 and rep.energy_j > 0


def test_accelerator_model_w4a8_has_no_int4_rate():
    """b200 has no INT4 tensor-core rate: the model says so instead of inventing one."""
    import accel
    with pytest.raises(ValueError, match="no 'int4' rate"):
        accel.simulate(accel.get_design("b200-like"),
                       accel.Gemm(64, 64, 64, a_format="int4_g128_e4m3", b_format="int4_g128_e4m3"))


# -- scalar formats: hifloat8, ue5m3, e1m2 ------------------------------------------------------------
def hif8_value_set() -> set:
    """The paper's value set (arXiv 2409.16626 abstract and Table 1): exponents -3..3 with 3 mantissa
    bits, |E| 4..7 with 2, |E| 8..15 with 1 (E = +15, m = 1 is inf), denormals 2^-22..2^-16, one zero."""
    vals = {0.0}
    for e in range(-15, 16):
        m = 3 if abs(e) <= 3 else 2 if abs(e) <= 7 else 1
        for k in range(1 << m):
            if e == 15 and k == 1:
                continue
            vals |= {s * (1 + k / (1 << m)) * 2.0 ** e for s in (1, -1)}
    vals |= {s * 2.0 ** e for e in range(-22, -15) for s in (1, -1)}
    return vals


def test_hifloat8_decode_exhaustive():
    f = nx.get_format("hifloat8")
    v = f.decode(np.arange(256, dtype=np.uint8))
    assert np.isnan(v[0x80]) and np.isnan(v).sum() == 1
    assert v[0x6F] == np.inf and v[0xEF] == -np.inf and np.isinf(v).sum() == 2
    finite = v[np.isfinite(v)]
    assert len(finite) == 253 and set(finite.tolist()) == hif8_value_set()
    assert f.max == 2.0 ** 15 and f.values().size == 253


def huawei_ta(a: float) -> float:
    """Fp16ToHif8Rtne of Huawei's Ascend aicpu `hif8.cc` (Apache-2.0), restated: |x| with exponent
    E = floor(log2 |x|) keeps man_bits + 1 fraction bits of its 10 (float16), adds one when the last of
    them is 1 (ties away), carries into E + 1 when they are all ones, and re-reads the Dot class."""
    def man_bits(e):
        if -22 <= e < -15:
            return 0
        return 3 if abs(e) <= 3 else 2 if abs(e) <= 7 else 1

    e = int(np.floor(np.log2(a)))
    frac = int(a * 2.0 ** (10 - e)) - 1024
    mb = man_bits(e)
    tmp = frac >> (10 - (mb + 1))
    if tmp == (1 << (mb + 1)) - 1:
        e, m = e + 1, 0
        mb = man_bits(e)
    elif tmp % 2:
        m = (tmp + 1) >> 1
    else:
        m = tmp >> 1
    return (1 + m / (1 << mb)) * 2.0 ** e if mb else 2.0 ** e


def test_hifloat8_ta_matches_ascend_kernel_on_float16():
    """Every float16 with 2^-22 <= |x| < 1.25 * 2^15 (the Ascend kernel flushes below 2^-22, where lowbit
    rounds to the nearest value, 2^-22 from 2^-23 up)."""
    f = nx.get_format("hifloat8")
    x = ALL_F16[np.isfinite(ALL_F16)].astype(np.float64)
    a = np.abs(x)
    x = x[(a >= 2.0 ** -22) & (a < 1.25 * 2 ** 15)]
    got = f.quantize(x, rounding=nx.RoundMode.TIES_TO_AWAY)
    want = np.array([np.copysign(huawei_ta(abs(v)), v) for v in x.tolist()])
    np.testing.assert_array_equal(got, want)


def test_hifloat8_overflow_nan_zero():
    f = nx.get_format("hifloat8")
    x = np.array([1.25 * 2 ** 15, 1.24 * 2 ** 15, 1e30, -np.inf, np.nan, 0.0, -0.0, 2.0 ** -23, 0.99 * 2.0 ** -23])
    ta = nx.RoundMode.TIES_TO_AWAY
    np.testing.assert_array_equal(f.encode(x, rounding=ta, saturate=False),
                                  [0x6F, 0x6E, 0x6F, 0xEF, 0x80, 0x00, 0x00, 0x01, 0x00])
    np.testing.assert_array_equal(f.encode(x, rounding=ta), [0x6E, 0x6E, 0x6E, 0xEE, 0x80, 0x00, 0x00, 0x01, 0x00])


def test_hifloat8_nearest_and_stochastic_against_codebook():
    f = nx.get_format("hifloat8")
    grid = np.array(sorted(hif8_value_set()))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(3000) * np.exp2(rng.uniform(-20, 14, 3000))
    i = np.clip(np.searchsorted(grid, x) - 1, 0, grid.size - 2)
    lo, hi = grid[i], grid[i + 1]
    nearest = np.where(x - lo < hi - x, lo, hi)
    np.testing.assert_array_equal(f.quantize(x, rounding=nx.RoundMode.TIES_TO_EVEN), nearest)
    q = f.quantize(x, rounding=nx.RoundMode.STOCHASTIC, rng=3)
    assert ((q == lo) | (q == hi)).all()


def test_ue5m3_and_e1m2_scalars():
    ue = nx.get_format("ue5m3")
    np.testing.assert_array_equal(ue.decode(np.arange(256, dtype=np.uint8)),
                                  [ue5m3_value(c) for c in range(256)])
    e1m2 = nx.get_format("e1m2")
    # Huawei CANN float4_e1m2 (cann/opbase include/nnopbase/opdev/float4_e1m2.h): sign, 1 exponent bit with
    # bias 1, 2 mantissa bits, no inf / NaN; codes 0x1 = 0.25 (min denormal), 0x4 = 1.0, 0x7 = 1.75 (max)
    codes = np.arange(16, dtype=np.uint8)
    want = np.array([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(e1m2.decode(codes), np.concatenate([want, -want]))
    np.testing.assert_array_equal(e1m2.values(), np.arange(-7, 8) / 4)
    assert "e1m2" in nx.format_names() and "ue5m3" in nx.format_names() and "hifloat8" in nx.format_names()


# -- fuzzing the new entry points ----------------------------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_RULES = [None, "ocp", "tilelang", "trainium", "triton_up", "triton_down", "four_over_six", "cuda_mxfp8", "bogus", 3]
_RECIPES = [None, "lowbit", "torchao", "transformer_engine", "tilelang", 0]


@given(st.sampled_from(["mxfp4", "nvfp4", "mxfp4_b16", "nvfp4_ue5m3", "fp8_b128", "int4_g128_e4m3", "mxfp8_e4m3"]),
       st.sampled_from(_RULES), st.sampled_from(_RECIPES),
       st.sampled_from([(16, 32), (32, 16), (20, 32), (48, 128), (128, 128), (3, 16, 16)]),
       st.sampled_from([None, (16, 16), (16,), 16, (8, 16), (0, 4), (128, 128), "x"]),
       st.sampled_from([None, 0, 5, np.ones(16), np.ones(3), "te"]),
       st.sampled_from([1.0, 1e-30, 1e30, 0.0]), st.integers(0, 2 ** 16))
def test_fuzz_new_entry_points(name, rule, recipe, shape, block_shape, hadamard, scale, seed):
    """Only a correct result or ValueError/TypeError: never NaN from finite input, never another error."""
    x = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)
    try:
        fmt = nx.get_block_format(name, scale_rule=rule, recipe=recipe)
        bt = fmt.encode(x, block_shape=block_shape, hadamard=hadamard)
    except (ValueError, TypeError):
        return
    bt.validate()
    y = bt.decode()
    assert y.shape == x.shape and np.isfinite(y).all()
    if hadamard is None:
        assert np.abs(y).max() <= 4 * np.abs(x).max() + 1e-30 or not np.abs(x).max()


@pytest.mark.parametrize("name, tile, k, n", [("nvfp4", (16, 16), 64, 48), ("nvfp4", (16, 8), 64, 40),
                                              ("fp8_b128", (128, 128), 256, 128), ("mxfp8_e4m3", (32, 32), 64, 64)])
def test_tiled_weights_in_matmul(name, tile, k, n):
    """A tiled weight, re-expressed along K by along(0), keeps every code and scale and goes into matmul."""
    fmt = nx.get_block_format(name)
    rng = np.random.default_rng(1)
    qa = fmt.encode(rng.standard_normal((8, k)).astype(F32))
    qw = fmt.encode(rng.standard_normal((k, n)).astype(F32), block_shape=tile)
    qk = qw.along(0)
    np.testing.assert_array_equal(qk.decode(), qw.decode())
    assert qk.format.block_size == tile[0] and qk.axis == 0
    got = nx.matmul(qa, qk, accumulator="exact")
    np.testing.assert_allclose(got, (qa.decode() @ qw.decode()).astype(F32), rtol=2.0 ** -23, atol=0)


@pytest.mark.parametrize("make, axis, exc, match", [
    (lambda: nx.get_block_format("nvfp4").encode(np.ones((4, 32))), 0, ValueError, "converts tile-blocked tensors"),
    (lambda: nx.get_block_format("nvfp4").encode(np.ones((3, 32, 32)), block_shape=(16, 16)), 0, ValueError,
     r"axis 0 is not one of the tiled axes \(1, 2\)"),
    (lambda: nx.get_block_format("nvfp4").encode(np.ones((32, 32)), block_shape=(16, 16)), 1.0, TypeError,
     "axis must be an int"),
])
def test_along_bad_input(make, axis, exc, match):
    with pytest.raises(exc, match=match):
        make().along(axis)
