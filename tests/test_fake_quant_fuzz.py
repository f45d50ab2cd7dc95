"""Hypothesis fuzz of nx.fake_quant: the laws a rounding to a format obeys (idempotence, sign symmetry,
monotonicity), and equality with numpy `quantize` bit for bit in PyTorch eager and JAX, across random
formats, shapes, axes and rounding modes. Bounded to run in seconds: small arrays, few examples, eager calls
only (torch.compile and jax.jit are covered on 10**6 inputs in test_fake_quant.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics as nx
from numerics.fake_quant import fake_quant

# sign-symmetric formats (IEEE-style floats, OCP floats, posits; two's-complement INT-N is not: -128 but 127).
# (LNS values are not float32 numbers: fake_quant refuses a float32 tensor for lns8.)
SYMMETRIC = ["e4m3", "e5m2", "e2m1", "e3m2", "e2m3", "e4m3fnuz", "bf16", "fp16", "posit8", "posit16"]
SCALAR = SYMMETRIC + ["int8", "int4", "uint8", "nf4"]  # (apot4's levels, like LNS's, are not float32 numbers)
# block formats whose scale depends only on the block (OCP MX v1.0 §6.3): re-quantising keeps every scale
MX = ["mxfp4", "mxfp6_e2m3", "mxfp6_e3m2", "mxfp8_e4m3", "mxfp8_e5m2", "mxint8"]
BLOCK = MX + ["nvfp4"]
DETERMINISTIC = [m for m in nx.RoundMode if m != nx.RoundMode.STOCHASTIC]
FUZZ = settings(max_examples=30, deadline=None)

@st.composite
def arrays(draw, max_side: int = 24, max_dims: int = 3):
    """float32 arrays of a drawn shape whose values come from a drawn seed: magnitudes 2**-30 .. 2**30, both
    signs, some exact zeros and ties of the coarse formats (numpy fills them: drawing each element through
    hypothesis would be slow, and the shape, seed and spread are what the laws vary over)."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_dims)))
    seed, spread = draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 30))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp2(rng.integers(-spread, spread + 1, shape))
    x[rng.random(shape) < 0.05] = 0.0
    ties = rng.random(shape) < 0.05
    x[ties] = np.round(x[ties] * 4) / 4 + 0.125
    return x.astype(np.float32)


def _bits(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a)).view(np.uint32)


def _quantize(x, name, axis=None, rounding=nx.RoundMode.TIES_TO_EVEN):
    if name in nx.format_names():
        return nx.get_format(name).quantize(x, rounding=rounding).astype(np.float32)
    return nx.get_block_format(name).quantize(x, axis=axis, rounding=rounding).astype(np.float32)


@FUZZ
@given(x=arrays(), name=st.sampled_from(SCALAR), rounding=st.sampled_from(DETERMINISTIC))
def test_scalar_idempotent(x, name, rounding):
    q = fake_quant(x, name, rounding=rounding)
    np.testing.assert_array_equal(_bits(fake_quant(q, name, rounding=rounding)), _bits(q))


@FUZZ
@given(x=arrays(), name=st.sampled_from(MX), data=st.data())
def test_mx_block_idempotent(x, name, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    q = fake_quant(x, name, axis=axis)
    np.testing.assert_array_equal(_bits(fake_quant(q, name, axis=axis)), _bits(q))


@FUZZ
@given(x=arrays(), name=st.sampled_from(SYMMETRIC + BLOCK), data=st.data())
def test_sign_symmetric(x, name, data):
    """Round-to-nearest-even is symmetric in sign, and block scales follow |x|: fq(-x) = -fq(x). Adding +0.0 maps
    -0 to +0 on both sides: posits, FNUZ formats and block elements of value 0 hold one zero only."""
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1)) if name in BLOCK else None
    np.testing.assert_array_equal(_bits(fake_quant(-x, name, axis=axis) + np.float32(0)),
                                  _bits(-fake_quant(x, name, axis=axis) + np.float32(0)))


@FUZZ
@given(x=arrays(max_side=200, max_dims=1), name=st.sampled_from(SCALAR), rounding=st.sampled_from(DETERMINISTIC))
def test_scalar_monotone(x, name, rounding):
    q = fake_quant(np.sort(x), name, rounding=rounding)
    assert np.all(np.diff(q.astype(np.float64)) >= 0)


@FUZZ
@given(x=arrays(max_side=32, max_dims=1), name=st.sampled_from(BLOCK))
def test_block_monotone_within_a_block(x, name):
    """Within one block the scale is shared (and sorting does not change the block's amax), so the rounding is
    monotone there."""
    x = np.sort(x[:nx.get_block_format(name).block_size])
    assert np.all(np.diff(fake_quant(x, name).astype(np.float64)) >= 0)


torch = pytest.importorskip("torch")


@FUZZ
@given(x=arrays(), name=st.sampled_from(SCALAR + BLOCK), rounding=st.sampled_from(DETERMINISTIC), data=st.data())
def test_torch_and_jax_equal_numpy_quantize(x, name, rounding, data):
    block = name in BLOCK
    rounding = nx.RoundMode.TIES_TO_EVEN if block and rounding == nx.RoundMode.TO_ODD else rounding
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1)) if block else None
    want = _bits(_quantize(x, name, axis, rounding))
    np.testing.assert_array_equal(_bits(fake_quant(torch.from_numpy(x), name, rounding=rounding, axis=axis).numpy()),
                                  want)
    np.testing.assert_array_equal(_bits(fake_quant(x, name, rounding=rounding, axis=axis)), want)
    try:
        import jax.numpy as jnp
    except ImportError:
        return
    np.testing.assert_array_equal(_bits(fake_quant(jnp.asarray(x), name, rounding=rounding, axis=axis)), want)
