"""accel.quantize_model.quantize_jax: a JAX model written as apply(params, x) over a params pytree, with its
weight matrices and inputs fake-quantised (the counterpart of quantize_model's module swap)."""

import numpy as np
import pytest

import numerics as nx
from accel.quantize_model import quantize_jax

jax = pytest.importorskip("jax")
jnp = jax.numpy


def apply(params, x):
    h = jnp.maximum(x @ params["w1"] + params["b1"], 0.0)
    return h @ params["w2"]


@pytest.fixture(scope="module")
def params_and_x():
    rng = np.random.default_rng(0)
    params = {"w1": rng.standard_normal((64, 32)).astype(np.float32) * 0.2, "b1": np.full(32, 0.1, np.float32),
              "w2": rng.standard_normal((32, 10)).astype(np.float32) * 0.2}
    return jax.tree_util.tree_map(jnp.asarray, params), jnp.asarray(rng.standard_normal((8, 64)).astype(np.float32))


def _scaled(a: np.ndarray, fmt: str) -> np.ndarray:
    """By hand: a per-tensor amax scale (float32), the numpy quantize, the scale back."""
    f = nx.get_format(fmt)
    s = np.float32(np.abs(a).max() / np.float32(f.max))
    return (nx.get_format(fmt).quantize(a / s).astype(np.float32) * s).astype(np.float32)


def test_forward_equals_the_hand_quantised_model(params_and_x):
    """apply_fn receives exactly the hand-quantised weights and inputs (bits compared), eager and under jit."""
    params, x = params_and_x
    seen = {}

    def spy(p, xx):
        seen.update({k: np.asarray(v) for k, v in p.items()}, x=np.asarray(xx))
        return apply(p, xx)

    q = quantize_jax(spy, weights="e4m3", activations="bf16")
    y = q(params, x)
    assert np.array_equal(seen["w1"], _scaled(np.asarray(params["w1"]), "e4m3"))
    assert np.array_equal(seen["w2"], _scaled(np.asarray(params["w2"]), "e4m3"))
    assert np.array_equal(seen["b1"], np.asarray(params["b1"]))  # 1-D leaves stay
    assert np.array_equal(seen["x"], nx.get_format("bf16").quantize(np.asarray(x)).astype(np.float32))
    # XLA's float32 GEMM may sum in another order for differently placed buffers: the outputs agree closely
    hand = {k: jnp.asarray(seen[k]) for k in params}
    np.testing.assert_allclose(np.asarray(y), np.asarray(apply(hand, jnp.asarray(seen["x"]))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(jax.jit(quantize_jax(apply, weights="e4m3", activations="bf16"))(params, x)),
                               np.asarray(y), rtol=1e-5, atol=1e-6)


def test_block_weights_along_k_and_straight_through_gradient(params_and_x):
    """mxfp4 weights, blocks along K (axis -2 of a kernel used as x @ W); the gradient w.r.t. the params is the
    float model's gradient taken at the quantised weights (straight through), and biases pass untouched."""
    params, x = params_and_x
    q = quantize_jax(apply, weights="mxfp4")
    bf = nx.get_block_format("mxfp4")
    hand = {"w1": jnp.asarray(bf.quantize(np.asarray(params["w1"]), axis=0).astype(np.float32)), "b1": params["b1"],
            "w2": jnp.asarray(bf.quantize(np.asarray(params["w2"]), axis=0).astype(np.float32))}
    np.testing.assert_allclose(np.asarray(q(params, x)), np.asarray(apply(hand, x)), rtol=1e-5, atol=1e-6)
    g = jax.grad(lambda p: jnp.sum(q(p, x) ** 2))(params)
    g_hand = jax.grad(lambda p: jnp.sum(apply(p, x) ** 2))(hand)
    for k in params:
        np.testing.assert_allclose(np.asarray(g[k]), np.asarray(g_hand[k]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kw,exc,match", [({"weights": "e9m9x"}, ValueError, "e9m9x"),
                                          ({"backward": "high_precision"}, ValueError, "sees no GEMM"),
                                          ({"weight_axis": "k"}, TypeError, "weight_axis must be an int")])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        quantize_jax(apply, **kw)
    with pytest.raises(TypeError, match="apply_fn must be a function"):
        quantize_jax(3, weights="e4m3")
