"""nx.fake_quant_matmul and quantize_model(backward=...): the forward value is the matmul of the fake-quantised
operands, and the gradients are the hand-derived ones for each backward: identity and clipped straight-through
estimators, and torchao's high-precision weight gradient (db = a^T g from the unquantised activations)."""

import numpy as np
import pytest

import numerics as nx

A = np.array([[0.3, 1.7], [-0.8, 7.0]], np.float32)   # e2m1: 0.3 -> 0.5, 1.7 -> 1.5, -0.8 -> -1, 7 -> 6 (saturated)
B = np.array([[1.0, -0.5], [2.0, 3.0]], np.float32)   # e2m1 values already
AQ = np.array([[0.5, 1.5], [-1.0, 6.0]], np.float32)
G = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32)    # the incoming gradient
# by hand: da = G B^T for identity and high precision; clipped zeroes column 1 of row 1 (|7| > 6)
DA = G @ B.T
DA_CLIPPED = DA * np.array([[1, 1], [1, 0]], np.float32)
DB = {"identity": AQ.T @ G, "clipped": AQ.T @ G, "high_precision": A.T @ G}


def test_hand_values_are_what_e2m1_gives():
    np.testing.assert_array_equal(nx.fake_quant(A, "e2m1"), AQ)
    np.testing.assert_array_equal(nx.fake_quant_matmul(A, B, "e2m1", "e2m1"), AQ @ B)


@pytest.mark.parametrize("bad,exc,match", [({"backward": "hp"}, ValueError, "backward must be one of"),
                                           ({"b": [[1.0]]}, TypeError, "one framework")])
def test_bad_arguments(bad, exc, match):
    kw = {"a": A, "b": B, "a_format": "e2m1", "b_format": "e2m1", **bad}
    kw["b"] = np.asarray(kw["b"]) if "b" not in bad else kw["b"]
    with pytest.raises(exc, match=match):
        nx.fake_quant_matmul(**kw)


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("backward", ["identity", "clipped", "high_precision"])
def test_torch_gradients_by_hand(backward):
    a, b = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    y = nx.fake_quant_matmul(a, b, "e2m1", "e2m1", backward=backward)
    np.testing.assert_array_equal(y.detach().numpy(), AQ @ B)  # the value is exact whatever the backward
    da, db = torch.autograd.grad(y, (a, b), torch.tensor(G))
    np.testing.assert_array_equal(da.numpy(), DA_CLIPPED if backward == "clipped" else DA)
    np.testing.assert_array_equal(db.numpy(), DB[backward])


def test_torch_high_precision_block_formats_and_compile():
    """Block formats (blocks along K) and torch.compile(fullgraph=True): db = a^T g, da = g fq(b)^T."""
    rng = np.random.default_rng(0)
    a, b, g = (rng.standard_normal(s).astype(np.float32) for s in ((4, 64), (64, 8), (4, 8)))
    bq = nx.get_block_format("mxfp4").quantize(b, axis=0).astype(np.float32)
    aq = nx.get_block_format("nvfp4").quantize(a, axis=1).astype(np.float32)

    def f(x, w):
        return nx.fake_quant_matmul(x, w, "nvfp4", "mxfp4", backward="high_precision")

    for fn in (f, torch.compile(f, fullgraph=True, backend="aot_eager")):
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        y = fn(ta, tb)
        np.testing.assert_array_equal(nx.fake_quant(ta, "nvfp4").detach().numpy(), aq)  # the operands as numpy has them
        with torch.no_grad():  # the framework's matmul of the fake-quantised operands (numpy's bits: test_fake_quant)
            want = nx.fake_quant(ta, "nvfp4") @ nx.fake_quant(tb, "mxfp4", axis=0)
        # eager: that very matmul; compiled: a GEMM of the same operands, whose summation order may differ
        torch.testing.assert_close(y, want, rtol=0 if fn is f else 1e-6, atol=0 if fn is f else 1e-5)
        da, db = torch.autograd.grad(y, (ta, tb), torch.tensor(g))
        np.testing.assert_allclose(da.numpy(), g @ bq.T, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(db.numpy(), a.T @ g, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backward", ["identity", "clipped", "high_precision"])
def test_jax_gradients_by_hand(backward):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy

    def loss(a, b):
        return jnp.sum(nx.fake_quant_matmul(a, b, "e2m1", "e2m1", backward=backward) * jnp.asarray(G))

    for fn in (jax.grad(loss, argnums=(0, 1)), jax.jit(jax.grad(loss, argnums=(0, 1)))):
        da, db = fn(jnp.asarray(A), jnp.asarray(B))
        np.testing.assert_array_equal(np.asarray(da), DA_CLIPPED if backward == "clipped" else DA)
        np.testing.assert_array_equal(np.asarray(db), DB[backward])


def test_quantize_model_high_precision_backward():
    """A quantised Linear with backward="high_precision": the same output as "identity", the input's gradient
    against the rounded weight, the weight's gradient from the unquantised input (bf16: no per-tensor scale)."""
    from accel.quantize_model import quantize_model
    torch.manual_seed(0)
    lin = torch.nn.Linear(32, 4)
    x = torch.randn(6, 32, requires_grad=True)
    g = torch.randn(6, 4)
    ident = quantize_model(lin, weights="e2m1", activations="bf16")
    hp = quantize_model(lin, weights="e2m1", activations="bf16", backward="high_precision")
    y_id, y_hp = ident(x), hp(x)
    assert torch.equal(y_id, y_hp)
    dx, dw, dbias = torch.autograd.grad(y_hp, (x, hp.weight, hp.bias), g)
    dx_id, dw_id, _ = torch.autograd.grad(y_id, (x, ident.weight, ident.bias), g)
    s = lin.weight.detach().abs().max() / 6.0  # e2m1 (4 bits): per-tensor amax scale
    wq = nx.fake_quant(lin.weight.detach() / s, "e2m1") * s
    xq = nx.fake_quant(x.detach(), "bf16")
    torch.testing.assert_close(dx, g @ wq, rtol=0, atol=0)
    torch.testing.assert_close(dx_id, g @ wq, rtol=0, atol=0)
    torch.testing.assert_close(dw, g.T @ x.detach(), rtol=1e-6, atol=1e-6)      # the unquantised input
    torch.testing.assert_close(dw_id, g.T @ xq, rtol=1e-6, atol=1e-6)          # the rounded input
    assert not torch.allclose(dw, dw_id, rtol=0, atol=1e-7)
    torch.testing.assert_close(dbias, g.sum(0))
    conv = quantize_model(torch.nn.Conv2d(2, 3, 3), weights="e4m3", activations="e4m3", backward="high_precision")
    xi = torch.randn(1, 2, 5, 5, requires_grad=True)
    conv(xi).sum().backward()
    assert conv.weight.grad is not None and xi.grad is not None and conv.bias.grad is not None
