"""NVFP4 recipes against transcriptions of each stack's published reference arithmetic (issue #20).

The oracles below restate, in numpy float32, the arithmetic read at:
  torchao   pytorch/ao@36027d82d1ad9949597ea16002ff4940374b1b94
            torchao/prototype/mx_formats/nvfp4_tensor.py: per_tensor_amax_to_scale, nvfp4_quantize
            (the reciprocal form since pytorch/ao@5c0c814879588ec552cdb0d69c4699d31108ec35, PR #4031)
  TE        NVIDIA/TransformerEngine@d0067d0da6cb01811b8072a7d304f0e00344ce2b
            transformer_engine/pytorch/custom_recipes/reference_nvfp4.py: NVFP4QuantizerRef.
            _quantize_blockwise_reference and cast_to_fp4x2 (the folded 1/6 multiplier since
            NVIDIA/TransformerEngine@bce8162f1e278500aaa1fb804118278a7305f35d, PR #2817)
  lowbit    the division recipe DESIGN.md documents: q = RNE(x / fl32(s_b * s_t)).
E4M3 block scales come from ml_dtypes' float8_e4m3fn cast of clamped float32 (no double rounding from
float32 input), E2M1 elements from TE's threshold table (ties to even), both independent of lowbit.
"""

import ml_dtypes
import numpy as np
import pytest

import numerics as nx

F32 = np.float32
F32_MAX = F32(np.finfo(np.float32).max)
E4M3_TINY = F32(2.0 ** -6)  # torch.finfo(torch.float8_e4m3fn).tiny, torchao's E4M3_EPS


def e2m1_codes(v: np.ndarray) -> np.ndarray:
    """TE cast_to_fp4x2's thresholds (before packing): code = sign * 8 + magnitude index."""
    a = np.abs(v)
    edges_closed_hi = [(0.25, 0), (0.75, 1), (1.25, 2), (1.75, 3), (2.5, 4), (3.5, 5), (5.0, 6)]
    mag = np.full(v.shape, 7, np.uint8)
    # magnitude index: ties go to the even code (0.25->0, 0.75->2, 1.25->2, 1.75->4, 2.5->4, 3.5->6, 5->6)
    for edge, code in reversed(edges_closed_hi):
        even_tie = code % 2 == 0
        inside = a <= edge if even_tie else a < edge
        mag = np.where(inside, code, mag)
    neg = (v < 0)
    return (mag + 8 * neg).astype(np.uint8)


def e4m3_codes(v: np.ndarray) -> np.ndarray:
    return v.astype(np.float32).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)


def e4m3_values(codes: np.ndarray) -> np.ndarray:
    return codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32)


def torchao_oracle(x: np.ndarray):
    """nvfp4_quantize with a per-tensor scale, read at pytorch/ao@36027d82."""
    x = x.astype(F32)
    t_amax = F32(np.abs(x).max())
    ts = F32(t_amax / F32(448.0 * 6.0))
    blocks = x.reshape(-1, 16)
    block_scale = (np.abs(blocks).max(axis=1) / F32(6.0)).astype(F32)
    scaled = (block_scale / ts).astype(F32)
    sb_codes = e4m3_codes(np.clip(scaled, E4M3_TINY, F32(448.0)))
    sb = e4m3_values(sb_codes)
    recip = ((F32(1.0) / ts) / sb).astype(F32)
    data = np.clip((blocks * recip[:, None]).astype(F32), -6, 6)
    return e2m1_codes(data).reshape(x.shape), sb_codes, ts


def te_oracle(x: np.ndarray):
    """NVFP4QuantizerRef 1-D path (no RHT, no 4over6), read at NVIDIA/TransformerEngine@d0067d0d."""
    x = x.astype(F32)
    g_amax = F32(np.abs(x).max())
    with np.errstate(divide="ignore"):
        ges = F32(F32(448.0) * F32(6.0) / g_amax)
    ges = min(ges, F32_MAX)
    if ges == 0:
        ges = F32(1.0)
    gds = F32(F32(1.0) / ges)
    mult = F32(ges * F32(F32(1.0) / F32(6.0)))
    blocks = x.reshape(-1, 16)
    ds = np.minimum((np.abs(blocks).max(axis=1) * mult).astype(F32), F32_MAX)
    sb_codes = e4m3_codes(np.clip(ds, -448, 448))
    with np.errstate(divide="ignore"):
        enc = np.minimum((F32(1.0) / (e4m3_values(sb_codes) * gds).astype(F32)).astype(F32), F32_MAX)
    with np.errstate(over="ignore", invalid="ignore"):
        data = np.clip(np.nan_to_num((blocks * enc[:, None]).astype(F32)), -6, 6)
    return e2m1_codes(data).reshape(x.shape), sb_codes, gds


def lowbit_oracle(x: np.ndarray):
    x = x.astype(F32)
    ts = F32(F32(np.abs(x).max()) / F32(448.0 * 6.0))
    blocks = x.reshape(-1, 16)
    raw = ((np.abs(blocks).max(axis=1) / F32(6.0)).astype(F32) / ts).astype(F32)
    sb_codes = e4m3_codes(np.clip(raw, E4M3_TINY, F32(448.0)))
    total = (e4m3_values(sb_codes) * ts).astype(F32)
    data = np.clip((blocks / total[:, None]).astype(F32), -6, 6)
    return e2m1_codes(data).reshape(x.shape), sb_codes, ts


ORACLES = {"lowbit": lowbit_oracle, "torchao": torchao_oracle, "transformer_engine": te_oracle}


def near_midpoints(seed: int, rows: int = 64) -> np.ndarray:
    """Blocks whose elements sit a few float32 ulps from the E2M1 midpoints of their own scaled grid,
    where dividing by s_b * s_t and multiplying by its reciprocal can disagree. Row 0 fixes the tensor
    amax at 2688 * T (T a power of two, so s_t = T exactly); row r > 0 has amax 6 * k_r * T with k_r an
    E4M3 value, so its block scale is k_r and its elements are midpoints times k_r * T."""
    rng = np.random.default_rng(seed)
    t = 2.0 ** int(rng.integers(-20, 20))
    mids = np.array([0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0])
    k = e4m3_values(rng.integers(0x10, 0x7E, size=rows).astype(np.uint8)).astype(np.float64)[:, None]
    body = rng.choice(mids, size=(rows, 16)) * (1 + rng.integers(-2, 3, size=(rows, 16)) * 2.0 ** -23)
    body *= rng.choice([-1.0, 1.0], size=(rows, 16))
    body[:, 0] = 6.0
    x = body * k * t
    x[0] = 0.0
    x[0, 0] = 2688.0 * t
    return x.astype(F32)


def random_blocks(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((32, 64)) * np.exp2(rng.uniform(-30, 30, size=(32, 1)))
    x[rng.random(x.shape) < 0.05] = 0.0
    return x.astype(F32)


INPUTS = {"normal": random_blocks, "midpoints": near_midpoints}


@pytest.mark.parametrize("recipe", list(ORACLES))
@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize("seed", range(3))
def test_recipe_matches_its_stack(recipe, kind, seed):
    x = INPUTS[kind](seed)
    bt = nx.get_block_format("nvfp4", recipe=recipe).encode(x)
    codes, scales, ts = ORACLES[recipe](x)
    np.testing.assert_array_equal(bt.scales.reshape(-1), scales)
    np.testing.assert_array_equal(bt.codes, codes)
    assert bt.tensor_scale == float(ts)


def test_default_recipe_is_lowbit():
    assert nx.get_block_format("nvfp4").recipe == "lowbit"
    assert nx.get_block_format("nvfp4", recipe="lowbit") == nx.get_block_format("nvfp4")


def test_recipes_disagree_near_midpoints():
    """The recipes are different arithmetic: on data near midpoints their codes differ somewhere."""
    x = np.concatenate([near_midpoints(s, 256) for s in range(4)])
    codes = {r: nx.get_block_format("nvfp4", recipe=r).encode(x).codes for r in ORACLES}
    assert (codes["lowbit"] != codes["torchao"]).any()
    assert (codes["torchao"] != codes["transformer_engine"]).any() or (
        codes["lowbit"] != codes["transformer_engine"]).any()


def test_te_does_not_clamp_small_block_scales():
    """A block far below the tensor's amax: TE's scale may round to E4M3 zero or a subnormal; the
    torchao/lowbit recipes clamp it at 2^-6."""
    x = np.zeros((1, 32), F32)
    x[0, 0] = 1000.0
    x[0, 16:] = 1e-6
    te = nx.get_block_format("nvfp4", recipe="transformer_engine").encode(x)
    ao = nx.get_block_format("nvfp4", recipe="torchao").encode(x)
    np.testing.assert_array_equal(te.scales.reshape(-1), te_oracle(x)[1])
    np.testing.assert_array_equal(ao.scales.reshape(-1), torchao_oracle(x)[1])
    assert te.scales[0, 1] < ao.scales[0, 1] == 0x08  # code 0x08 is 2^-6


@pytest.mark.parametrize("recipe", list(ORACLES))
def test_all_zero_tensor(recipe):
    x = np.zeros((2, 16), F32)
    bt = nx.get_block_format("nvfp4", recipe=recipe).encode(x)
    assert (bt.decode() == 0).all()


@pytest.mark.parametrize("bad, exc, match", [
    ("pytorch", ValueError, "unknown recipe 'pytorch'; choose one of 'lowbit', 'torchao', 'transformer_engine'"),
    ("", ValueError, "unknown recipe"),
    (3, TypeError, "recipe must be a str"),
])
def test_bad_recipe(bad, exc, match):
    with pytest.raises(exc, match=match):
        nx.get_block_format("nvfp4", recipe=bad)


def test_recipe_needs_an_amax_rule():
    with pytest.raises(ValueError, match="recipe 'torchao' fixes the arithmetic of the amax rules"):
        nx.get_block_format("mxfp4", recipe="torchao")


def test_te_recipe_needs_tensor_scale():
    with pytest.raises(ValueError, match="needs tensor_scale=True"):
        nx.get_block_format("int4_g128", recipe="transformer_engine")
