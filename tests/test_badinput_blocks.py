"""Bad and edge-case input to block formats, BlockTensor, bit packing and N:M sparsity (issue #14):
each case raises ValueError/TypeError naming the argument before any kernel runs, or gives the exact
correct result."""

import dataclasses

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numerics as nx
from kernels import block_amax, block_decode, block_divide_f32, pack_bits, unpack_bits
from numerics.formats import FloatFormat, NanPolicy

F32_MAX = float(np.finfo(np.float32).max)
FORMATS = ["mxfp4", "mxfp8_e4m3", "mxfp6_e2m3", "mxint8", "nvfp4", "int4_g32", "int4_g128_asym", "int8_channel"]


def bf(name):
    return nx.get_block_format(name)


def _x(shape=(4, 64), seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) * 2.0 ** rng.integers(-6, 6, shape[:-1] + (1,))


def _same(a, b):
    """Two BlockTensors hold the same codes, scales, zero points and tensor scale."""
    assert np.array_equal(a.codes, b.codes) and np.array_equal(a.scales, b.scales)
    assert (a.zero_points is None) == (b.zero_points is None)
    if a.zero_points is not None:
        assert np.array_equal(a.zero_points, b.zero_points)
    assert a.tensor_scale == b.tensor_scale


# -- accepted input dtypes: the same codes as the same values in float64 -----------------------------
@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16, np.float32])
def test_narrow_float_input_rounds_like_float64(name, dtype):
    x = _x().astype(dtype)  # every float16/bfloat16/float32 value is a float64 value
    _same(bf(name).encode(x), bf(name).encode(x.astype(np.float64)))


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4", "int4_g128_asym"])
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8])
def test_integer_input_converts_exactly(name, dtype):
    x = (np.arange(96).reshape(3, 32) % 37).astype(dtype)
    _same(bf(name).encode(x), bf(name).encode(x.astype(np.float64)))


def test_python_list_input():
    _same(bf("mxfp4").encode([[1.0, 2.5, -3.0]]), bf("mxfp4").encode(np.array([[1.0, 2.5, -3.0]])))


def test_int64_beyond_2_53_raises():
    with pytest.raises(ValueError, match=r"beyond 2\^53"):
        bf("mxfp4").encode(np.array([1, 2**53 + 1], np.int64))


@pytest.mark.parametrize("x", [
    np.ones(4, np.complex128), np.ones(4, bool), np.array([1.0, None], dtype=object), np.array(["a", "b"]),
    np.ones(4, "datetime64[s]"), np.ones(4, ml_dtypes.float8_e4m3fn), np.ones(4, np.longdouble)
    if np.dtype(np.longdouble).itemsize > 8 else np.ones(4, np.complex64)],
    ids=["complex", "bool", "object", "str", "datetime", "float8", "longdouble"])
def test_non_numeric_input_raises_typeerror(x):
    with pytest.raises(TypeError, match="x must be a float16, bfloat16, float32, float64 or integer array"):
        bf("mxfp4").encode(x)


def test_ragged_sequence_raises_typeerror():
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        bf("mxfp4").encode([[1.0], [1.0, 2.0]])


# -- range: FP32 recipes refuse what FP32 cannot hold; MX saturates ----------------------------------
@pytest.mark.parametrize("name", ["nvfp4", "int4_g128", "int4_g128_asym", "int8_channel"])
@pytest.mark.parametrize("v", [1e39, -1e300, F32_MAX * (1 + 2**-20)])
def test_fp32_recipe_refuses_values_above_float32(name, v):
    x = np.ones(32)
    x[3] = v
    with pytest.raises(ValueError, match=r"largest finite \|x\| accepted is 3\.4028234663852886e\+38"):
        bf(name).encode(x)


def test_mse_rule_refuses_values_above_float32():
    f = dataclasses.replace(bf("int4_g32"), scale_rule=nx.ScaleRule.MSE)
    with pytest.raises(ValueError, match="above float32's range"):
        f.encode(np.full(32, 1e40))


@pytest.mark.parametrize("v", [F32_MAX, -F32_MAX, 1e38])
def test_nvfp4_at_float32_max_is_finite(v):
    x = np.linspace(-1, 1, 32)
    x[5] = v
    d = bf("nvfp4").quantize(x)
    assert np.isfinite(d).all() and d[5] == pytest.approx(v, rel=0.25)


@pytest.mark.parametrize("v", [1e-310, 5e-324, 1e-46, 1e-45])
def test_nvfp4_tiny_inputs_flush_to_zero_without_nan(v):
    # below float32's smallest subnormal, fl32(amax) = 0: the tensor scale falls back to 1, elements to 0
    d = bf("nvfp4").quantize(np.full(16, v))
    assert np.array_equal(d, np.zeros(16))


def test_nvfp4_float32_subnormal_tensor_is_finite():
    x = np.linspace(-1, 1, 32) * 1e-40
    d = bf("nvfp4").quantize(x)
    assert np.isfinite(d).all() and np.abs(d).max() == pytest.approx(1e-40, rel=0.3)


@pytest.mark.parametrize("name", FORMATS)
def test_all_zero_tensor(name):
    bt = bf(name).encode(np.zeros((2, 64)))
    assert np.array_equal(bt.decode(), np.zeros((2, 64)))
    assert bt.tensor_scale == (1.0 if name == "nvfp4" else None)


@pytest.mark.parametrize("name", ["mxfp4", "mxfp8_e4m3", "mxint8"])
def test_mx_saturates_huge_float64(name):
    f = bf(name)
    d = f.quantize(np.full(32, 1e300))
    assert np.array_equal(d, np.full(32, f.element.max * 2.0**127))  # scale clamped to 2^127 (OCP §6.3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_mx_nonfinite_block_is_nan_only_there(bad):
    x = np.ones((2, 32))
    x[1, 7] = bad
    bt = bf("mxfp4").encode(x)
    assert bt.scales.tolist() == [[125], [255]]  # 2^(0 - emax 2); the E8M0 NaN code for the second block only
    d = bt.decode()
    assert np.array_equal(d[0], np.ones(32)) and np.isnan(d[1]).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("elem", ["int8", "int4"])
@pytest.mark.parametrize("rule, zp", [(nx.ScaleRule.MSE, False), (nx.ScaleRule.AMAX, True)])
def test_fp32_recipe_nonfinite_block_is_nan(bad, elem, rule, zp):
    # the MSE search and the GPTQ zero point used to hand the NaN/inf (or a huge finite neighbour,
    # divided by the fallback scale) to the element quantiser, which raised about internals
    f = nx.BlockFormat(element=nx.get_format("u" + elem if zp else elem), scale=nx.get_format("fp16"),
                       block_size=32, scale_rule=rule, zero_point=zp)
    x = _x((2, 32))
    x[1, 7], x[1, 9] = bad, 1e300
    d = f.quantize(x)
    assert np.array_equal(d[0], f.quantize(x[:1])[0]) and np.isnan(d[1]).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nvfp4_nonfinite_poisons_every_block(bad):
    x = np.ones((2, 32))
    x[1, 7] = bad
    assert np.isnan(bf("nvfp4").quantize(x)).all()  # the FP32 tensor scale is NaN: documented


# -- axis, shape, empty ---------------------------------------------------------------------------
@pytest.mark.parametrize("axis, exc, msg", [
    (2, ValueError, "axis 2 is out of range for an array of 2 dimensions"),
    (-3, ValueError, "axis -3 is out of range"),
    (1.5, TypeError, "axis must be an int, a tuple of ints or None"),
    (True, TypeError, "axis must be an int, a tuple of ints or None"),
    ([1], TypeError, "axis must be an int, a tuple of ints or None"),
    ("0", TypeError, "axis must be an int, a tuple of ints or None"),
    ((0, 1), ValueError, "must name one axis per block dimension"),
])
def test_bad_axis(axis, exc, msg):
    with pytest.raises(exc, match=msg):
        bf("mxfp4").encode(np.ones((2, 32)), axis=axis)


def test_tile_axes():
    tile = nx.BlockFormat(element=nx.get_format("e4m3"), scale=nx.get_format("fp32"), block_size=(2, 2),
                          scale_rule=nx.ScaleRule.AMAX)
    with pytest.raises(ValueError, match="repeats an axis"):
        tile.encode(np.ones((4, 4)), axis=(0, 0))
    with pytest.raises(ValueError, match="tile block sizes need explicit axes"):
        tile.encode(np.ones((4, 4)), axis=None)


def test_zero_dim_input():
    with pytest.raises(ValueError, match="x must have at least one dimension"):
        bf("mxfp4").encode(np.float64(3.0))


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4", "int4_g128_asym", "int8_channel"])
@pytest.mark.parametrize("shape, axis", [((0,), -1), ((3, 0), -1), ((0, 40), 0), ((0,), None), ((2, 0, 3), 1)])
def test_empty_input(name, shape, axis):
    f = bf(name)
    bt = f.encode(np.zeros(shape), axis=axis)
    assert bt.decode().shape == shape and bt.codes.shape == shape
    back = nx.BlockTensor.from_packed(f, bt.packed(), shape, axis=axis)
    assert back.decode().shape == shape
    with pytest.raises(ValueError, match="bits_per_element of an empty tensor"):
        _ = bt.bits_per_element


# -- BlockFormat construction -----------------------------------------------------------------------
E2M1, E8M0 = nx.get_format("e2m1"), nx.get_format("e8m0")


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(block_size=0), ValueError, "block_size must be positive"),
    (dict(block_size=-4), ValueError, "block_size must be positive"),
    (dict(block_size=1.5), TypeError, "block_size entries must be ints or None"),
    (dict(block_size="32"), TypeError, "block_size entries must be ints or None"),
    (dict(block_size=True), TypeError, "block_size entries must be ints or None"),
    (dict(block_size=[32]), TypeError, "not a list"),
    (dict(block_size=()), ValueError, "block_size must not be an empty tuple"),
    (dict(block_size=(2, 0)), ValueError, "block_size must be positive"),
    (dict(scale_rule="floor"), TypeError, r"scale_rule must be a ScaleRule \(ScaleRule.FLOOR"),
    (dict(scale_rule=None), TypeError, "scale_rule must be a ScaleRule"),
    (dict(element="e2m1"), TypeError, "element must be a FloatFormat or IntFormat"),
    (dict(element=nx.get_format("posit8")), TypeError, "element must be a FloatFormat or IntFormat"),
    (dict(scale="e8m0"), TypeError, "scale must be a FloatFormat"),
    (dict(scale=nx.get_format("int8")), TypeError, "scale must be a FloatFormat"),
    (dict(tensor_scale=1), TypeError, "tensor_scale must be a bool"),
    (dict(zero_point="yes"), TypeError, "zero_point must be a bool"),
    (dict(element=nx.get_format("ue4m3")), ValueError, "ue4m3 has no sign bit"),
    (dict(element=nx.get_format("uint4"), scale_rule=nx.ScaleRule.AMAX, scale=nx.get_format("fp16")),
     ValueError, "has no sign bit"),
    (dict(element=FloatFormat(exp_bits=4, man_bits=1, bias=7, inf=False, nan=NanPolicy.FN, subnormals=False,
                              zero=False)), ValueError, "a block element must represent 0"),
    (dict(scale=nx.get_format("fp32"), scale_rule=nx.ScaleRule.AMAX, tensor_scale=True), ValueError,
     "exceeds float32's range"),
    (dict(scale=nx.get_format("ue4m3")), ValueError, "scale format must have no mantissa"),
])
def test_blockformat_construction(kw, exc, msg):
    args = dict(element=E2M1, scale=E8M0, block_size=32) | kw
    with pytest.raises(exc, match=msg):
        nx.BlockFormat(**args)


@pytest.mark.parametrize("block_size, bits", [(None, (24 * 4 + 3 * 16) / 24), ((None, 4), (24 * 4 + 2 * 16) / 24),
                                              ((4, None), (32 * 4 + 16) / 24)])  # padded tile: 4 x 8 elements
def test_whole_axis_bits_per_element(block_size, bits):
    f = nx.BlockFormat(element=E2M1, scale=nx.get_format("fp16"), block_size=block_size,
                       scale_rule=nx.ScaleRule.AMAX)
    with pytest.raises(ValueError, match="depends on the axis length"):
        _ = f.bits_per_element
    bt = f.encode(np.ones((3, 8)), axis=-1 if block_size is None else (0, 1))
    assert bt.bits_per_element == bits  # elements (padding included) plus the fp16 scales, per element


def test_custom_pow2_scale_formats_decode_correctly():
    # man_bits=0 scales other than E8M0: codes are the biased exponent field (with zero=True, 0 is zero)
    x = _x((4, 64))
    ref = bf("mxfp4").quantize(x)
    for sc in (FloatFormat(exp_bits=8, man_bits=0, bias=127, signed=False, inf=False, nan=NanPolicy.FN,
                           subnormals=False, zero=True),
               FloatFormat(exp_bits=5, man_bits=0, bias=15, inf=False, nan=NanPolicy.FN, subnormals=False,
                           zero=False)):
        f = nx.BlockFormat(element=E2M1, scale=sc, block_size=32)
        assert np.array_equal(f.quantize(x), ref)


@pytest.mark.parametrize("name, exc, msg", [
    ("mxfp5", ValueError, "unknown block format 'mxfp5'; close matches: mxfp4"),
    ("nvfp8", ValueError, "close matches: nvfp4"),
    ("int4_g0", ValueError, "group size must be positive"),
    ("int99_g128", ValueError, "2 <= N <= 16"),
    ("", ValueError, "unknown block format ''"),
    (42, TypeError, "block format name must be a str"),
    (None, TypeError, "block format name must be a str"),
])
def test_unknown_block_format(name, exc, msg):
    with pytest.raises(exc, match=msg):
        nx.get_block_format(name)


# -- rounding, rng, sr_bits -------------------------------------------------------------------------
SR = nx.RoundMode.STOCHASTIC


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(rng=1), ValueError, "rng is only used with rounding=RoundMode.STOCHASTIC"),
    (dict(rng=np.random.default_rng(0)), ValueError, "rng is only used with"),
    (dict(rng="seed"), TypeError, "rng must be a numpy.random.Generator, an int seed or None, got str"),
    (dict(rng=1.5, rounding=SR), TypeError, "rng must be a numpy.random.Generator"),
    (dict(rng=True, rounding=SR), TypeError, "rng must be a numpy.random.Generator"),
    (dict(rng="seed", rounding=SR), TypeError, "got str"),
    (dict(sr_bits=4), ValueError, "sr_bits is only used with"),
    (dict(sr_bits=0, rounding=SR), ValueError, "sr_bits must be in 1..62"),
    (dict(rounding="rne"), TypeError, "rounding must be a numerics.RoundMode"),
    (dict(scale_rounding=SR), ValueError, "scale_rounding must be deterministic"),
    (dict(scale_rounding=4), TypeError, "rounding must be a numerics.RoundMode"),
])
@pytest.mark.parametrize("name", ["mxfp4", "nvfp4"])
def test_rounding_arguments(name, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        bf(name).encode(np.ones(32), **kw)


@pytest.mark.parametrize("name", ["mxfp4", "nvfp4", "int4_g128_asym"])
def test_stochastic_rng_is_used(name):
    x = _x((2, 64))
    a = bf(name).encode(x, rounding=SR, rng=7)
    _same(a, bf(name).encode(x, rounding=SR, rng=np.random.default_rng(7)))
    assert not all(np.array_equal(a.codes, bf(name).encode(x, rounding=SR, rng=s).codes) for s in range(8, 12))


# -- BlockTensor fields: checked at construction (replace) and again before decode/packed ----------------
def _nv():
    return bf("nvfp4").encode(_x((2, 32)))


def _asym():
    return bf("int4_g128_asym").encode(_x((2, 128)))


@pytest.mark.parametrize("make, kw, exc, msg", [
    (_nv, dict(scales=np.zeros((2, 1), np.uint8)), ValueError, r"scales has shape \(2, 1\).*needs \(2, 2\)"),
    (_nv, dict(scales=np.full((2, 2), 200, np.uint8)), ValueError, r"scales must lie in 0\.\.127 for ue4m3"),
    (_nv, dict(scales=np.zeros((2, 2), np.float32)), TypeError, "scales must be an integer array"),
    (_nv, dict(codes=np.full((2, 32), 16, np.uint8)), ValueError, r"codes must lie in 0\.\.15 for e2m1"),
    (_nv, dict(codes=np.full((2, 32), -1)), ValueError, r"codes must lie in 0\.\.15 .*got -1"),
    (_nv, dict(codes=np.zeros((2, 32), bool)), TypeError, "codes must be an integer array"),
    (_nv, dict(codes=np.zeros((2, 16), np.uint8)), ValueError, r"codes has shape \(2, 16\)"),
    (_nv, dict(codes=[[0] * 32] * 2), None, None),
    (_nv, dict(shape=(2, 64)), ValueError, r"codes has shape \(2, 32\)"),
    (_nv, dict(shape=(4, 16)), ValueError, r"codes has shape \(2, 32\)"),
    (_nv, dict(shape=(2, -32)), ValueError, "shape entries must be non-negative"),
    (_nv, dict(shape=64), TypeError, "shape must be a tuple of ints"),
    (_nv, dict(shape=()), ValueError, "shape must have at least one dimension"),
    (_nv, dict(axis=3), ValueError, "axis 3 is out of range"),
    (_nv, dict(axis=0), ValueError, r"scales has shape \(2, 2\)"),
    (_nv, dict(tensor_scale=None), ValueError, "nvfp4 has FP32 tensor scale; tensor_scale is None"),
    (_nv, dict(tensor_scale=float("nan")), ValueError, "tensor_scale must be a positive finite float32 value"),
    (_nv, dict(tensor_scale=0.0), ValueError, "positive finite float32"),
    (_nv, dict(tensor_scale=0.1), ValueError, "positive finite float32"),
    (_nv, dict(tensor_scale="1"), TypeError, "tensor_scale must be a float or None"),
    (_nv, dict(zero_points=np.zeros((2, 2), np.uint8)), ValueError, "nvfp4 has no zero points"),
    (_nv, dict(format="nvfp4"), TypeError, "format must be a BlockFormat"),
    (_asym, dict(zero_points=None), ValueError, "int4_g128_asym stores zero points; zero_points is None"),
    (_asym, dict(zero_points=np.full((2, 1), 16, np.uint8)), ValueError, r"zero_points must lie in 0\.\.15"),
    (_asym, dict(zero_points=np.zeros((1, 2), np.uint8)), ValueError, r"zero_points has shape \(1, 2\)"),
    (_asym, dict(scales=np.zeros((2, 1), np.uint32)), None, None),
    (lambda: bf("mxfp4").encode(np.ones(64)), dict(tensor_scale=1.0), ValueError, "mxfp4 has no FP32 tensor"),
    (lambda: bf("mxfp4").encode(np.ones(64), axis=None), dict(shape=(4, 16)), ValueError,
     r"codes has shape \(64,\); shape \(4, 16\) blocked along axis None"),
])
def test_blocktensor_fields(make, kw, exc, msg):
    bt = make()
    if exc is None:  # accepted: codes normalised to the format's code dtype, decode as the equivalent fields
        t = dataclasses.replace(bt, **kw)
        assert t.codes.dtype == bt.format.element.code_dtype and t.scales.dtype == bt.format.scale.code_dtype
        assert t.decode().shape == t.shape
        return
    with pytest.raises(exc, match=msg):
        dataclasses.replace(bt, **kw)


@pytest.mark.parametrize("tamper, msg", [
    (lambda bt: bt.scales.__setitem__((0, 0), 255), r"scales must lie in 0\.\.127"),
    (lambda bt: bt.codes.__setitem__((1, 3), 99), r"codes must lie in 0\.\.15"),
    (lambda bt: setattr(bt.codes, "shape", (4, 16)), r"codes has shape \(4, 16\)"),
    (lambda bt: setattr(bt.scales, "shape", (4,)), r"scales has shape \(4,\)"),
])
@pytest.mark.parametrize("method", ["decode", "packed", "validate"])
def test_inplace_tampering_caught_before_kernels(tamper, msg, method):
    bt = _nv()
    tamper(bt)
    with pytest.raises(ValueError, match=msg):
        getattr(bt, method)()


@pytest.mark.parametrize("make, fix, exc, msg", [
    (_nv, lambda p: dataclasses.replace(p, data=p.data[:-1]), ValueError, "packed.data holds 31 bytes"),
    (_nv, lambda p: dataclasses.replace(p, scales=p.scales + b"\0"), ValueError, "packed.scales holds 5 codes"),
    (_nv, lambda p: dataclasses.replace(p, scales=b"\xff" * 4), ValueError, r"scales must lie in 0\.\.127"),
    (_nv, lambda p: dataclasses.replace(p, tensor_scale=None), ValueError, "packed.tensor_scale is None"),
    (_nv, lambda p: dataclasses.replace(p, tensor_scale=float("inf")), ValueError, "positive finite float32"),
    (_asym, lambda p: dataclasses.replace(p, zero_points=b""), ValueError, "packed.zero_points holds 0 bytes"),
    (_asym, lambda p: dataclasses.replace(p, zero_points=None), ValueError, "packed.zero_points is None"),
    (_asym, lambda p: dataclasses.replace(p, scales=p.scales[:-1]), ValueError, "not a whole number of 2-byte"),
    (_asym, lambda p: dataclasses.replace(p, tensor_scale=1.0), ValueError, "int4_g128_asym has no tensor scale"),
    (_nv, lambda p: dataclasses.replace(p, zero_points=b"\0"), ValueError, "nvfp4 stores no zero points"),
])
def test_from_packed_checks(make, fix, exc, msg):
    bt = make()
    with pytest.raises(exc, match=msg):
        nx.BlockTensor.from_packed(bt.format, fix(bt.packed()), bt.shape, axis=-1)


@pytest.mark.parametrize("args, exc, msg", [
    (("mxfp4", "packed", (32,)), TypeError, "packed must be a Packed"),
    (("nvfp4-name", None, (32,)), TypeError, "fmt must be a BlockFormat"),
    (("mxfp4", None, (-32,)), ValueError, "shape entries must be non-negative"),
    (("mxfp4", None, "32"), TypeError, "shape must be a tuple of ints"),
])
def test_from_packed_arguments(args, exc, msg):
    fmt = bf(args[0]) if args[0] in FORMATS else args[0]
    packed = args[1] if args[1] is not None else bf("mxfp4").encode(np.ones(32)).packed()
    with pytest.raises(exc, match=msg):
        nx.BlockTensor.from_packed(fmt, packed, args[2])


@pytest.mark.parametrize("kw, msg", [
    (dict(data="abc"), "Packed.data must be bytes"),
    (dict(scales=[1, 2]), "Packed.scales must be bytes"),
    (dict(zero_points=3), "Packed.zero_points must be bytes or None"),
    (dict(tensor_scale="1.0"), "Packed.tensor_scale must be a float or None"),
])
def test_packed_fields(kw, msg):
    args = dict(data=b"", scales=b"", zero_points=None, tensor_scale=None) | kw
    with pytest.raises(TypeError, match=msg):
        nx.Packed(**args)


def _mx64():
    return bf("mxfp4").encode(np.ones((64, 64)))


@pytest.mark.parametrize("kw, msg", [
    # before issue #14: a segfault (codes indexed the 16-entry table at 10^9), a NaN from too few
    # scales, 0.0 from codes 250 read past the table, a reshape error from numpy for a wrong shape
    (lambda bt: dict(codes=np.full((64, 64), 10**9, np.uint32)), r"codes must lie in 0\.\.15 .*got 1000000000"),
    (lambda bt: dict(scales=bt.scales[:1]), r"scales has shape \(1, 2\)"),
    (lambda bt: dict(codes=np.full((64, 64), 250, np.uint8)), r"codes must lie in 0\.\.15 .*got 250"),
    (lambda bt: dict(shape=(64, 128)), r"codes has shape \(64, 64\)"),
])
def test_prefix_crash_repros_raise_in_process(kw, msg):
    bt = _mx64()
    with pytest.raises(ValueError, match=msg):
        dataclasses.replace(bt, **kw(bt)).decode()


# -- bit packing kernels' guards ----------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, msg", [
    (lambda: pack_bits(np.array([16], np.uint32), 4), ValueError, r"codes must lie in 0\.\.15 for 4-bit packing"),
    (lambda: pack_bits(np.array([1 << 20], np.uint32), 9), ValueError, r"0\.\.511 for 9-bit packing"),
    (lambda: pack_bits(np.array([-1]), 4), ValueError, "got -1"),
    (lambda: pack_bits(np.array([1.0]), 4), TypeError, "codes must be a 1-D integer array"),
    (lambda: pack_bits(np.zeros((2, 2), np.uint8), 4), TypeError, "1-D integer array"),
    (lambda: pack_bits(np.zeros(2, np.uint8), 0), ValueError, r"bits must be an int in 1\.\.32"),
    (lambda: pack_bits(np.zeros(2, np.uint8), 33), ValueError, r"bits must be an int in 1\.\.32"),
    (lambda: unpack_bits(np.zeros(1, np.uint8), 4, 3), ValueError, "data holds 1 bytes; 3 codes of 4 bits need 2"),
    (lambda: unpack_bits(np.zeros(1, np.uint8), 9, 1), ValueError, "need 2"),
    (lambda: unpack_bits(np.zeros(4, np.uint8), 4, -1), ValueError, "n must be a non-negative int"),
    (lambda: unpack_bits(np.zeros(4, np.int64), 4, 2), TypeError, "data must be a 1-D uint8 array"),
])
def test_packing_guards(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("call, exc, msg", [
    (lambda: block_decode(np.zeros(16), np.full((2, 4), 16, np.uint8), np.ones(2)), ValueError,
     r"codes must lie in 0\.\.15 \(the table's length\), got 16"),
    (lambda: block_decode(np.zeros(16), np.zeros((2, 4), np.uint8), np.ones(1)), ValueError,
     r"svals must be a 1-D array with one entry per block \(2\)"),
    (lambda: block_decode(np.zeros(16), np.zeros((2, 4), np.int8), np.ones(2)), TypeError, "codes must be a 2-D"),
    (lambda: block_decode(np.zeros((4, 4)), np.zeros((2, 4), np.uint8), np.ones(2)), TypeError, "table must be"),
    (lambda: block_divide_f32(np.ones((3, 4), np.float32), np.ones(2, np.float32)), ValueError,
     r"one entry per block \(3\)"),
    (lambda: block_amax(np.ones(4)), TypeError, "blocks must be a 2-D array"),
    (lambda: block_amax(np.ones((2, 2), np.int64)), TypeError, "blocks must be a 2-D array of kind 'f'"),
])
def test_block_kernel_guards(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("bits", [1, 4, 6, 9, 13, 32])
def test_packing_roundtrip(bits):
    codes = np.random.default_rng(bits).integers(0, 1 << bits, 37, dtype=np.uint64)
    assert np.array_equal(unpack_bits(pack_bits(codes, bits), bits, 37), codes)


# -- N:M sparsity ------------------------------------------------------------------------------------
W = np.arange(1, 13, dtype=np.float32).reshape(2, 6)


@pytest.mark.parametrize("kw, exc, msg", [
    (dict(indices=np.full((2, 4), 4)), ValueError, r"indices must lie in 0\.\.3"),
    (dict(indices=np.full((2, 4), -1)), ValueError, "got -1"),
    (dict(indices=np.array([[3, 2, 0, 1]] * 2)), ValueError, "strictly ascending"),
    (dict(indices=np.array([[1, 1, 0, 1]] * 2)), ValueError, "strictly ascending"),
    (dict(indices=np.array([[2, 3, 2, 3]] * 2)), ValueError, "nonzero at a padding position"),
    (dict(indices=np.zeros((2, 4), float)), TypeError, "indices must be an integer array"),
    (dict(values=np.zeros((2, 2))), ValueError, r"values has shape \(2, 2\)"),
    (dict(values=np.array([["a"] * 4] * 2)), TypeError, "values must be a numeric array"),
    (dict(shape=(2, 9)), ValueError, r"needs \(2, 6\)"),
    (dict(shape=(2, -6)), ValueError, "shape must be a non-empty tuple of non-negative ints"),
    (dict(axis=2), ValueError, "axis 2 is out of range"),
    (dict(axis=1.0), TypeError, "axis must be an int"),
    (dict(n=4), ValueError, "1 <= n < m <= 256"),
    (dict(m=2.0), TypeError, "m must be an int"),
])
def test_sparse_tensor_fields(kw, exc, msg):
    with pytest.raises(exc, match=msg):
        dataclasses.replace(nx.sparse24(W), **kw)


def test_sparse_inplace_tampering():
    s = nx.sparse24(W)
    s.indices[0, 0] = 9
    with pytest.raises(ValueError, match=r"indices must lie in 0\.\.3"):
        s.decompress()


@pytest.mark.parametrize("w, kw, exc, msg", [
    (np.array([np.nan, 1, 2, 3]), {}, ValueError, "w holds NaN"),
    (np.array([1, 2, 3, 4], ml_dtypes.bfloat16) * np.array(np.nan, ml_dtypes.bfloat16), {}, ValueError, "NaN"),
    (np.ones(4, complex), {}, TypeError, "w must be a numeric array"),
    (np.ones(4, bool), {}, TypeError, "w must be a numeric array"),
    (np.float32(1), {}, ValueError, "at least one dimension"),
    (W, dict(axis=1.0), TypeError, "axis must be an int"),
    (W, dict(axis=-3), ValueError, "out of range"),
    (W, dict(n=True), TypeError, "n must be an int"),
    (W, dict(n=2, m=300), ValueError, "1 <= n < m <= 256"),
])
def test_sparse24_arguments(w, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        nx.sparse24(w, **kw)


@pytest.mark.parametrize("w", [np.zeros(0), np.zeros((3, 0)), np.array([1, 2, 3], ml_dtypes.bfloat16),
                               np.array([5, -7, 1], np.int8), np.array([np.inf, 1.0, 2.0, 3.0])])
def test_sparse24_edge_results(w):
    d = nx.sparse24(w).decompress()
    wf = w.astype(np.float64)
    assert d.shape == w.shape and d.dtype == w.dtype
    # exactly the two largest magnitudes of each group of 4 survive, at their positions
    exp = wf.copy()
    for g in range(0, wf.shape[-1] if wf.ndim == 1 else 0, 4):
        grp = np.abs(wf[g:g + 4])
        exp[g:g + 4][np.argsort(-grp, kind="stable")[2:]] = 0
    assert np.array_equal(d.astype(np.float64), exp)


# -- fuzz: any array, any name, any axis, any rule: a correct result or ValueError/TypeError ---------
_VALUES = [0.0, -0.0, 1.0, -2.5, 3e38, 1e39, 1e300, 5e-324, 1e-40, 1e-310, np.nan, np.inf, -np.inf, 7.0, 448.0]
_DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int8, np.int32, bool, np.complex64]
_SHAPES = [(), (0,), (5,), (33,), (2, 17), (3, 0), (2, 3, 16)]
_NAMES = nx.block_format_names() + ["int3_g8", "int5_g4_asym", "mxfp5", "int2_channel"]


@pytest.mark.slow  # ~10-25 s for 100 examples on the shared 2-core machine
@given(st.sampled_from(_DTYPES), st.sampled_from(_SHAPES), st.data(), st.sampled_from(_NAMES),
       st.sampled_from([-1, 0, 1, 2, -4, None, (0, 1), 1.5]), st.sampled_from([None] + list(nx.ScaleRule)))
def test_fuzz_block_encode(dtype, shape, data, name, axis, rule):
    n = int(np.prod(shape))
    vals = data.draw(st.lists(st.sampled_from(_VALUES), min_size=n, max_size=n))
    with np.errstate(all="ignore"):
        x = np.array(vals, np.float64).reshape(shape).astype(dtype)
    try:
        f = nx.get_block_format(name)
        if rule is not None:
            f = dataclasses.replace(f, scale_rule=rule)
        bt = f.encode(x, axis=axis)
    except (ValueError, TypeError):
        return
    d = bt.decode()
    assert d.shape == x.shape and d.dtype == np.float64
    xf = x.astype(np.float64)
    assert np.isnan(d[~np.isfinite(xf)]).all()  # non-finite input is never hidden
    if np.isfinite(xf).all():
        assert np.isfinite(d).all()  # finite, accepted input never becomes NaN or inf
    back = nx.BlockTensor.from_packed(f, bt.packed(), x.shape, axis=axis)
    assert np.array_equal(back.decode(), d, equal_nan=True)


_CODE_DTYPES = [np.uint8, np.uint16, np.int8, np.int64, np.float32, bool]


@pytest.mark.slow  # a few seconds: every example decodes
@given(st.sampled_from(["mxfp4", "mxfp6_e3m2", "nvfp4", "int4_g32", "int4_g128_asym", "int8_channel"]),
       st.sampled_from(["codes", "scales", "zero_points"]), st.sampled_from(_CODE_DTYPES),
       st.sampled_from([(2, 64), (2, 2), (2, 1), (64,), (2, 4), ()]), st.integers(-2, 300))
def test_fuzz_tampered_blocktensor(name, field, dtype, shape, value):
    # any replacement array: a ValueError/TypeError at replace (or decode), or a correct decode
    bt = bf(name).encode(_x((2, 64)))
    arr = np.full(shape, value).astype(dtype)
    try:
        t = dataclasses.replace(bt, **{field: arr})
        d = t.decode()
    except (ValueError, TypeError):
        return
    # accepted: the codes were in range and of the right shape, so decode matches the table values
    assert d.shape == bt.shape
    el = t.format.element
    ref = dataclasses.replace(t, codes=t.codes.astype(np.int64))
    assert np.array_equal(ref.decode(), d, equal_nan=True)
    assert int(t.codes.max()) < 1 << el.bits and int(t.scales.max()) < 1 << t.format.scale.bits


@pytest.mark.slow
@given(st.sampled_from([np.float32, np.float64, np.int16, ml_dtypes.bfloat16, bool, np.complex64]),
       st.sampled_from([(0,), (7,), (3, 9), (2, 4, 5), ()]), st.data(),
       st.sampled_from([(2, 4), (1, 4), (3, 8), (4, 4), (0, 2), (2, 300)]),
       st.sampled_from([-1, 0, 1, 2, 1.0, None]))
def test_fuzz_sparse24(dtype, shape, data, nm, axis):
    n = int(np.prod(shape))
    vals = data.draw(st.lists(st.sampled_from([0.0, 1.0, -2.0, 3.5, -3.5, np.inf, np.nan, 1e30]),
                              min_size=n, max_size=n))
    with np.errstate(all="ignore"):
        w = np.array(vals).reshape(shape).astype(dtype)
    try:
        s = nx.sparse24(w, n=nm[0], m=nm[1], axis=axis)
    except (ValueError, TypeError):
        return
    d = s.decompress()
    assert d.shape == w.shape and d.dtype == w.dtype
    kept = d != 0
    assert np.array_equal(d[kept], w[kept])  # every kept value is the input's, in place
    g = np.moveaxis(kept, s.axis, -1)
    k = g.shape[-1]
    g = np.pad(g, [(0, 0)] * (g.ndim - 1) + [(0, -k % nm[1])]).reshape(g.shape[:-1] + (-1, nm[1]))
    assert (g.sum(axis=-1) <= nm[0]).all()  # at most n nonzeros per group of m


_POOL = [0.0, -0.0, 1.0, -2.5, 3e38, 1e39, 1e300, 5e-324, 1e-40, 1e-310, np.nan, np.inf, -np.inf, 7.0, 448.0,
         65504.0, 1e5, -1e-8]


@pytest.mark.slow  # ~5-15 s: any BlockFormat a user can construct
@given(st.sampled_from(["e2m1", "e4m3", "e5m2", "int4", "int8", "fp16", "e3m2", "uint4", "ue4m3"]),
       st.sampled_from(["e8m0", "ue4m3", "fp16", "fp32", "bf16", "e4m3"]), st.sampled_from(list(nx.ScaleRule)),
       st.sampled_from([None, 1, 3, 16, (2, 4), (None, 2)]), st.booleans(), st.booleans(),
       st.sampled_from([(5,), (2, 17), (4, 8), (3, 0)]), st.sampled_from([-1, 0, None, (0, 1)]),
       st.sampled_from([np.float64, np.float32, np.float16]),
       st.sampled_from([nx.RoundMode.TIES_TO_EVEN, nx.RoundMode.TOWARD_ZERO, SR]), st.data())
def test_fuzz_custom_block_formats(el, sc, rule, bs, ts, zp, shape, axis, dtype, rounding, data):
    n = int(np.prod(shape))
    with np.errstate(all="ignore"):
        x = np.array(data.draw(st.lists(st.sampled_from(_POOL), min_size=n, max_size=n))).reshape(shape).astype(dtype)
    try:
        f = nx.BlockFormat(element=nx.get_format(el), scale=nx.get_format(sc), block_size=bs, scale_rule=rule,
                           tensor_scale=ts, zero_point=zp)
        bt = f.encode(x, axis=axis, rounding=rounding, rng=1 if rounding == SR else None)
    except (ValueError, TypeError) as err:
        assert "cannot represent" not in str(err)  # never an element quantiser's internal complaint
        return
    d = bt.decode()
    xf = x.astype(np.float64)
    assert d.shape == x.shape
    assert np.isnan(d[~np.isfinite(xf)]).all()
    if np.isfinite(xf).all():
        assert np.isfinite(d).all()
    assert np.array_equal(nx.BlockTensor.from_packed(f, bt.packed(), x.shape, axis=axis).decode(), d, equal_nan=True)
