"""Issue #20 block formats (mxfp4_b16, nvfp4_ue5m3, fp8_b128, int4_g128_e4m3), two-dimensional block
shapes and the 16-point random Hadamard transform, each against an independent computation."""

import ml_dtypes
import numpy as np
import pytest

import numerics as nx
from numerics.blocks.hadamard import hadamard_matrix, hadamard_signs, random_hadamard

from .test_nvfp4_recipes import e2m1_codes, e4m3_codes, e4m3_values

F32 = np.float32
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
    """UE5M3 (arXiv 2605.08565 as lowbit defines it): 5-bit exponent, bias 15, 3 fraction bits, no sign,
    subnormals, 0xFF NaN."""
    e, m = c >> 3, c & 7
    if c == 0xFF:
        return float("nan")
    return (m / 8) * 2.0 ** -14 if e == 0 else (1 + m / 8) * 2.0 ** (e - 15)


def test_ue5m3_codebook_exhaustive():
    scale = nx.get_block_format("nvfp4_ue5m3").scale
    got = scale.decode(np.arange(256, dtype=np.uint8))
    want = np.array([ue5m3_value(c) for c in range(256)])
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[:255], want[:255])
    assert scale.max == 114688.0


@pytest.mark.parametrize("seed", range(3))
def test_nvfp4_ue5m3(seed):
    x = data(seed, spread=12)
    bt = nx.get_block_format("nvfp4_ue5m3").encode(x)
    grid = np.array([ue5m3_value(c) for c in range(255)])
    ts = F32(F32(np.abs(x).max()) / F32(grid[-1] * 6))
    blocks = x.reshape(-1, 16)
    raw = ((np.abs(blocks).max(axis=1) / F32(6)).astype(F32) / ts).astype(F32).astype(np.float64)
    raw = np.clip(raw, 2.0 ** -14, grid[-1])
    # nearest grid value, ties to the even code
    hi = np.searchsorted(grid, raw)
    lo = np.maximum(hi - 1, 0)
    dlo, dhi = raw - grid[lo], grid[np.minimum(hi, 254)] - raw
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
