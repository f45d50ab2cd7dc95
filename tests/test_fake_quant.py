"""nx.fake_quant: bit-identical to numpy quantize in numpy, PyTorch eager, torch.compile(fullgraph=True)
and JAX; straight-through gradients; clear errors."""

import numpy as np
import pytest

import numerics as nx
from numerics.fake_quant import fake_quant

N = 10**6
# one table of formats per family; every one is checked on 10**6 inputs
FAMILIES = {"float": ("e4m3", "e5m2", "e2m1", "e3m2", "bf16", "fp16"), "int": ("int8", "int4", "uint8"),
            "posit": ("posit8", "posit16", "posit8_0"), "block": ("mxfp4", "mxfp8_e4m3", "nvfp4", "mxint8")}
CASES = [(fam, f) for fam, fs in FAMILIES.items() for f in fs]


def _inputs(n: int, seed: int = 0) -> np.ndarray:
    """float32 values over 2**-24 .. 2**24 in magnitude, both signs, with exact zeros and ties sprinkled in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp2(rng.integers(-24, 24, n))
    x[::97] = 0.0
    x[1::101] = np.round(x[1::101] * 4) / 4 + 0.125  # ties of the coarse formats
    return x.astype(np.float32).reshape(-1, 64)


def _reference(x: np.ndarray, name: str, **kw) -> np.ndarray:
    if name in nx.format_names():
        q = nx.get_format(name).quantize(x, **kw)
    else:  # the block kernels take no 16-bit floats (numba typing errors): widen exactly, as fake_quant does
        xw = x.astype(np.float32) if x.dtype.name in ("bfloat16", "float16") else x
        q = nx.get_block_format(name).quantize(xw, axis=-1, **kw)
    return q.astype(x.dtype)


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32 if a.dtype == np.float32 else np.uint16)


@pytest.fixture(scope="module")
def x_million():
    return _inputs(N)


@pytest.mark.parametrize("family,name", CASES)
def test_numpy_equals_quantize_bits(family, name, x_million):
    np.testing.assert_array_equal(_bits(fake_quant(x_million, name)), _bits(_reference(x_million, name)))


def test_numpy_float64_returns_quantize_itself():
    x = _inputs(4096).astype(np.float64)
    np.testing.assert_array_equal(fake_quant(x, "e4m3").view(np.uint64),
                                  nx.get_format("e4m3").quantize(x).view(np.uint64))


def test_numpy_stochastic_seeded_is_reproducible():
    x = _inputs(4096)
    a = fake_quant(x, "e2m1", rounding=nx.RoundMode.STOCHASTIC, seed=7)
    b = fake_quant(x, "e2m1", rounding=nx.RoundMode.STOCHASTIC, seed=7)
    ref = _reference(x, "e2m1", rounding=nx.RoundMode.STOCHASTIC, rng=7)
    np.testing.assert_array_equal(_bits(a), _bits(b))
    np.testing.assert_array_equal(_bits(a), _bits(ref))


@pytest.mark.parametrize("kw,exc,match", [
    ({"format": "e9m9"}, ValueError, "unknown format 'e9m9'"),
    ({"format": 8}, TypeError, "format must be a format name"),
    ({"format": "e4m3", "axis": 0}, ValueError, "axis=0 applies to block formats only"),
    ({"format": "mxfp4", "axis": 1.5}, TypeError, "axis must be an int"),
    ({"format": "e4m3", "rounding": "nearest"}, TypeError, "rounding must be a numerics.RoundMode"),
    ({"format": "e4m3", "rounding": nx.RoundMode.STOCHASTIC}, ValueError, "needs an explicit seed"),
    ({"format": "e4m3", "rounding": nx.RoundMode.STOCHASTIC, "seed": -1}, ValueError, "needs an explicit seed"),
    ({"format": "e4m3", "seed": 3}, ValueError, "seed= is only used with"),
    ({"format": "e4m3", "saturate": 1}, TypeError, "saturate must be a bool"),
    ({"format": "mxfp4", "saturate": False}, ValueError, "block formats always saturate"),
    ({"format": "e4m3", "backward": "ste"}, ValueError, "backward must be one of"),
    ({"format": "nvfp4", "backward": "clipped"}, ValueError, "'clipped' needs a scalar format"),
])
def test_numpy_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        fake_quant(np.ones(32, np.float32), **kw)


@pytest.mark.parametrize("x,exc,match", [
    ([1.0, 2.0], TypeError, "must be a numpy array, a torch tensor or a jax array"),
    (np.arange(4), TypeError, "float16, bfloat16, float32 or float64"),
    (np.array([40000.0], np.float16), ValueError, "cannot hold exactly"),
])
def test_numpy_bad_arrays(x, exc, match):
    fmt = "int16" if isinstance(x, np.ndarray) and x.dtype == np.float16 else "e4m3"
    with pytest.raises(exc, match=match):
        fake_quant(x, fmt)


@pytest.mark.parametrize("name", ["e4m3", "e5m2", "e2m1", "int8", "posit8", "mxfp4", "fp16"])
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf, 1e30, -1e-30, 0.0])
def test_numpy_special_values_correct_or_clear_error(name, special):
    x = np.array([1.0, special, -2.5] * 11, dtype=np.float32)
    try:
        ref = _reference(x, name)
    except ValueError as err:  # e.g. NaN into a format with no NaN: the same refusal
        with pytest.raises(ValueError, match=str(err)[:20]):
            fake_quant(x, name)
        return
    out = fake_quant(x, name)
    np.testing.assert_array_equal(_bits(out), _bits(ref))


def test_bfloat16_block_formats_widen_exactly():
    import ml_dtypes
    x = _inputs(2048).astype(ml_dtypes.bfloat16)
    out = fake_quant(x, "mxfp4")
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out.view(np.uint16), _reference(x, "mxfp4").view(np.uint16))


# ------------------------------------------------------------------------------------------------- jax
def test_jax_eager_and_jit_bit_identical(x_million):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    xj = jnp.asarray(x_million)
    for name in ("e4m3", "int8", "posit8", "mxfp4", "nvfp4"):
        ref = _bits(_reference(x_million, name))
        np.testing.assert_array_equal(_bits(np.asarray(fake_quant(xj, name))), ref)
        np.testing.assert_array_equal(_bits(np.asarray(jax.jit(lambda t, n=name: fake_quant(t, n))(xj))), ref)
    sr = jax.jit(lambda t: fake_quant(t, "e2m1", rounding=nx.RoundMode.STOCHASTIC, seed=11))(xj)
    np.testing.assert_array_equal(_bits(np.asarray(sr)),
                                  _bits(_reference(x_million, "e2m1", rounding=nx.RoundMode.STOCHASTIC, rng=11)))


@pytest.mark.parametrize("backward", ["identity", "clipped"])
def test_jax_straight_through_gradient(backward):
    jax = pytest.importorskip("jax")
    x = jax.numpy.asarray(np.array([1.0, 500.0, -3.0, -449.0], np.float32))
    g = jax.grad(lambda t: (fake_quant(t, "e4m3", backward=backward) * 2.0).sum())(x)
    want = [2.0, 2.0, 2.0, 2.0] if backward == "identity" else [2.0, 0.0, 2.0, 0.0]
    np.testing.assert_array_equal(np.asarray(g), np.array(want, np.float32))


def test_jax_bad_dtype():
    jax = pytest.importorskip("jax")
    with pytest.raises(TypeError, match="float16, bfloat16, float32 or float64 jax array"):
        fake_quant(jax.numpy.arange(4), "e4m3")


# ---------------------------------------------------------------------------------------------- torch
torch = pytest.importorskip("torch")


@pytest.mark.parametrize("family,name", CASES)
def test_torch_eager_equals_quantize_bits(family, name, x_million):
    y = fake_quant(torch.from_numpy(x_million), name)
    assert isinstance(y, torch.Tensor) and y.dtype == torch.float32
    np.testing.assert_array_equal(_bits(y.numpy()), _bits(_reference(x_million, name)))


@pytest.mark.parametrize("name", ["e4m3", "int8", "posit16", "mxfp8_e4m3"])
def test_torch_bfloat16_and_float16(name):
    import ml_dtypes
    x = _inputs(4096) / 1024
    for tdt, ndt in ((torch.bfloat16, ml_dtypes.bfloat16), (torch.float16, np.float16)):
        xn = x.astype(ndt)
        y = fake_quant(torch.from_numpy(xn.view(np.uint16).astype(np.int16)).view(tdt), name)
        assert y.dtype == tdt
        np.testing.assert_array_equal(y.view(torch.int16).numpy().view(np.uint16), _bits(_reference(xn, name)))


def _all_families(x):
    return (fake_quant(x, "e4m3"), fake_quant(x, "int8"), fake_quant(x, "posit8"), fake_quant(x, "mxfp4", axis=-1),
            fake_quant(x, "e2m1", rounding=nx.RoundMode.STOCHASTIC, seed=11))


def test_torch_compile_fullgraph_bit_identical(x_million):
    """One graph holding one op per family (aot_eager: Dynamo, fake kernels and autograd tracing, no C++
    compiler); fullgraph=True fails on any graph break."""
    torch._dynamo.reset()
    compiled = torch.compile(_all_families, fullgraph=True, backend="aot_eager")
    got = compiled(torch.from_numpy(x_million))
    refs = [_reference(x_million, n) for n in ("e4m3", "int8", "posit8", "mxfp4")]
    refs.append(_reference(x_million, "e2m1", rounding=nx.RoundMode.STOCHASTIC, rng=11))
    for g, r in zip(got, refs):
        np.testing.assert_array_equal(_bits(g.numpy()), _bits(r))


def test_torch_compile_gradients_match_eager():
    torch._dynamo.reset()
    x = torch.linspace(-600, 600, 257, requires_grad=True)

    def f(t):
        return (fake_quant(t, "e4m3", backward="clipped") * torch.arange(257.0)).sum()

    g_eager, = torch.autograd.grad(f(x), x)
    g_comp, = torch.autograd.grad(torch.compile(f, fullgraph=True, backend="aot_eager")(x), x)
    assert torch.equal(g_eager, g_comp)
    expected = torch.where(x.detach().abs() <= 448, torch.arange(257.0), torch.zeros(257))
    assert torch.equal(g_eager, expected)


@pytest.mark.slow
def test_torch_compile_inductor():
    torch._dynamo.reset()
    x = torch.from_numpy(_inputs(4096))
    y = torch.compile(lambda t: fake_quant(t * 2, "mxfp4") + 1, fullgraph=True)(x)
    ref = _reference((x * 2).numpy(), "mxfp4") + np.float32(1)
    np.testing.assert_array_equal(_bits(y.numpy()), _bits(ref))


@pytest.mark.parametrize("name,backward", [("e4m3", "identity"), ("mxfp4", "identity"), ("int8", "clipped"),
                                           ("e4m3", "clipped")])
def test_torch_straight_through_gradient(name, backward):
    x = torch.from_numpy(_inputs(1024)).requires_grad_()
    w = torch.randn_like(x)
    (fake_quant(x, name, backward=backward) * w).sum().backward()
    if backward == "identity":
        assert torch.equal(x.grad, w)
    else:
        bound = nx.get_format(name).max
        assert torch.equal(x.grad, torch.where(x.detach().abs() <= bound, w, torch.zeros_like(w)))


def test_torch_opcheck():
    """torch.library's own consistency checks of the custom op (schema, fake kernel, autograd registration)."""
    x = torch.randn(8, 32, requires_grad=True)
    torch.library.opcheck(torch.ops.lowbit.fake_quant.default, (x, "mxfp4", 0, -1, None, True, "identity"))


@pytest.mark.parametrize("make,exc,match", [
    (lambda: torch.arange(4), TypeError, "float16, bfloat16, float32 or float64 tensor"),
    (lambda: torch.ones(4, device="meta"), ValueError, "'meta' device"),
    (lambda: torch.ones(4).to_sparse(), ValueError, "dense"),
])
def test_torch_bad_tensors(make, exc, match):
    with pytest.raises(exc, match=match):
        fake_quant(make(), "e4m3")


def test_torch_compile_bad_format_fails_at_trace_time():
    torch._dynamo.reset()
    with pytest.raises(Exception, match="unknown format 'e4m9x'"):
        torch.compile(lambda t: fake_quant(t, "e4m9x"), fullgraph=True, backend="aot_eager")(torch.ones(4))
