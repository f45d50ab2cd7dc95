"""Issue #14 for the scalar numerics: bad input is a clear TypeError/ValueError raised before any kernel
runs, and the sign operations are exact on every code. Each case asserts the exception type and a message
fragment, or the exact result."""

import ml_dtypes
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numerics as nx
from numerics import ops

SR = nx.RoundMode.STOCHASTIC
FP32 = nx.get_format("fp32")

# every float format of 8 or 16 bits (and the narrower MX ones), with ml_dtypes' twin where it has one
FLOAT_FORMATS = {
    "e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2, "e4m3fnuz": ml_dtypes.float8_e4m3fnuz,
    "e5m2fnuz": ml_dtypes.float8_e5m2fnuz, "e3m4": ml_dtypes.float8_e3m4, "e2m3": ml_dtypes.float6_e2m3fn,
    "e3m2": ml_dtypes.float6_e3m2fn, "e2m1": ml_dtypes.float4_e2m1fn, "fp16": np.float16,
    "bf16": ml_dtypes.bfloat16, "e6m9": None, "e4m11": None, "e8m7_ftz": None,
}


def _fmt(name):
    if name == "e8m7_ftz":  # a flush-to-zero bf16 variant: sign flips must not care
        return nx.FloatFormat(exp_bits=8, man_bits=7, bias=127, subnormals=False)
    return nx.get_format(name)


def _all_codes(f):
    return np.arange(1 << f.bits).astype(f.code_dtype)


def _same_codes(f, got, want):
    """Codes equal, except that NaN codes need only both be NaN (ml_dtypes may pick another payload)."""
    with np.errstate(invalid="ignore"):
        nan = np.isnan(f.decode(got)) & np.isnan(f.decode(want))
    return bool(((got == want) | nan).all())


# -- neg / abs: exact on every code (IEEE 754 §5.5.1) ------------------------------------------------------

@pytest.mark.parametrize("name", list(FLOAT_FORMATS))
def test_neg_is_the_sign_flip_on_every_code(name):
    f = _fmt(name)
    c = _all_codes(f)
    sign = 1 << (f.bits - 1)
    got = ops.neg(c, f)
    if f.nan == nx.NanPolicy.FNUZ:  # no -0: 0 and NaN (the -0 pattern) stay
        want = np.where((c & (sign - 1)) == 0, c, c ^ sign).astype(f.code_dtype)
    else:
        want = (c ^ sign).astype(f.code_dtype)
    assert np.array_equal(got, want)  # bit for bit: infinities, NaN payloads and -0 included
    v, w = f.decode(c), f.decode(got)
    fin = ~np.isnan(v)
    assert np.array_equal(w[fin], -v[fin]) and np.isnan(w[~fin]).all()
    if FLOAT_FORMATS[name] is not None:  # ml_dtypes' negation agrees
        dt = FLOAT_FORMATS[name]
        ref = (-c.view(dt) if c.dtype.itemsize == np.dtype(dt).itemsize else -c.astype(np.uint8).view(dt))
        assert _same_codes(f, got, ref.view(c.dtype))


@pytest.mark.parametrize("name", list(FLOAT_FORMATS))
def test_abs_clears_the_sign_on_every_code(name):
    f = _fmt(name)
    c = _all_codes(f)
    sign = 1 << (f.bits - 1)
    got = ops.abs(c, f)
    want = np.where((f.nan == nx.NanPolicy.FNUZ) & (c == sign), c, c & (sign - 1)).astype(f.code_dtype)
    assert np.array_equal(got, want)
    v = f.decode(c)
    fin = ~np.isnan(v)
    assert np.array_equal(f.decode(got)[fin], np.abs(v[fin]))
    if FLOAT_FORMATS[name] is not None:
        dt = FLOAT_FORMATS[name]
        assert _same_codes(f, got, np.abs(c.view(dt)).view(c.dtype))


def test_neg_of_fp16_infinities_is_exact():
    c = np.array([0x7C00, 0xFC00, 0x0000, 0x8000, 0x7E01], np.uint16)
    assert ops.neg(c, "fp16").tolist() == [0xFC00, 0x7C00, 0x8000, 0x0000, 0xFE01]
    assert ops.abs(c, "fp16").tolist() == [0x7C00, 0x7C00, 0x0000, 0x0000, 0x7E01]


@pytest.mark.parametrize("name", ["ue4m3", "e8m0"])
def test_unsigned_formats_neg(name):
    f = nx.get_format(name)
    c = _all_codes(f)
    v = f.decode(c)
    keep = (v == 0) | np.isnan(v)  # -0 is 0; NaN stays NaN
    assert np.array_equal(ops.neg(c[keep], f), c[keep])
    assert np.array_equal(ops.abs(c, f), c)
    with pytest.raises(ValueError, match=f"neg: {name} is unsigned, so -x is not representable"):
        ops.neg(c[~keep][:1], f)


@pytest.mark.parametrize("name", ["posit8", "posit8_0", "posit16"])
def test_posit_neg_abs_every_code(name):
    f = nx.get_format(name)
    c = _all_codes(f)
    v = f.decode(c)
    fin = ~np.isnan(v)
    assert np.array_equal(f.decode(ops.neg(c, f))[fin], -v[fin])
    assert np.array_equal(f.decode(ops.abs(c, f))[fin], np.abs(v[fin]))
    assert ops.neg(np.array([f.nan_code]), f)[0] == f.nan_code == ops.abs(np.array([f.nan_code]), f)[0]


# -- every op validates its codes as decode does ------------------------------------------------------------

OPS = {
    "neg": lambda c, f: ops.neg(c, f), "abs": lambda c, f: ops.abs(c, f),
    "compare": lambda c, f: ops.compare(c, np.zeros_like(c), f), "add": lambda c, f: ops.add(c, c, f),
    "mul": lambda c, f: ops.mul(c, c, f), "sqrt": lambda c, f: ops.sqrt(c, f),
    "fma": lambda c, f: ops.fma(c, c, c, f), "convert": lambda c, f: ops.convert(c, f, "fp32"),
}
BAD_CODES = [
    (np.array([300]), ValueError, r"codes must lie in 0\.\.255"),
    (np.array([-1]), ValueError, r"codes must lie in 0\.\.255 .*got -1"),
    (np.array([1.0]), TypeError, "codes must be an integer array, got dtype float64"),
    (np.array([True]), TypeError, "codes must be an integer array, got dtype bool"),
    (np.array([1], object), TypeError, "codes must be an integer array, got dtype object"),
]


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("fmt", ["posit8", "e4m3", "int8"])
@pytest.mark.parametrize("bad,exc,msg", BAD_CODES, ids=["300", "neg", "float", "bool", "object"])
def test_ops_validate_codes(op, fmt, bad, exc, msg):
    if op == "sqrt" and fmt == "int8" and bad.dtype.kind in "iu" and bad[0] < 0:
        pass  # the code check still comes first
    with pytest.raises(exc, match=msg):
        OPS[op](bad, fmt)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: ops.neg(np.uint8(0x80), "int8_narrow"), ValueError, "unknown format"),
    (lambda: ops.neg(np.uint8(0x80), nx.IntFormat(bits=8, narrow=True)), ValueError, "outside narrow-range"),
    (lambda: ops.add(np.ones(2, np.uint8), np.ones(3, np.uint8), "e4m3"), ValueError, "do not broadcast"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "e4m3", rounding=3), TypeError,
     "rounding must be a RoundMode.*TIES_TO_EVEN"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "e4m3", saturate=1), TypeError, "saturate must be a bool"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "e4m3", overflow="wrap"), ValueError, "applies to integer formats"),
    (lambda: ops.neg(np.uint8(1), "e4m3", overflow=None), ValueError, "overflow must be 'saturate' or 'wrap'"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "int8", saturate=False), ValueError, "not saturate=False"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "e4m3", rng=3), ValueError, "rng is only used with"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "int8", rng=3), ValueError, "rng is only used with"),
    (lambda: ops.mul(np.uint8(1), np.uint8(1), "e4m3", sr_bits=3), ValueError, "sr_bits is only used with"),
    (lambda: ops.mul(np.uint8(1), np.uint8(1), "e4m3", SR, rng="x"), TypeError, "rng must be"),
    (lambda: ops.add(np.uint8(1), np.uint8(1), "int8", SR), ValueError, "not defined here for integer"),
    (lambda: ops.sub(np.uint8(0x38), np.uint8(0x40), "ue4m3"), ValueError, "is negative and ue4m3 is unsigned"),
    (lambda: ops.convert(np.uint8(1), "e4m3", "fp16", rng=1), ValueError, "rng is only used with"),
    (lambda: ops.convert(np.uint8(1), "e4m3", "fp16", saturate="no"), TypeError, "saturate must be a bool"),
    (lambda: ops.neg(np.uint8(1), "lns8"), TypeError, "float, posit and integer formats"),
    (lambda: nx.quire_dot(nx.get_format("posit8"), [128, 300], [1, 1]), ValueError, r"codes must lie in 0\.\.255"),
    (lambda: nx.quire_dot(nx.get_format("posit8"), [1.5], [1]), TypeError, "codes must be an integer array"),
    (lambda: nx.quire_dot(nx.get_format("posit8"), [1], [1], c_code=256), ValueError, "got 256"),
    (lambda: nx.quire_dot(nx.get_format("posit8"), [1], [1], c_code=1.0), TypeError, "c_code must be an int"),
    (lambda: nx.quire_dot(nx.get_format("fp16"), [1], [1]), TypeError, "fmt must be a PositFormat"),
])
def test_ops_keyword_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_ops_stochastic_same_seed_same_codes():
    a = nx.get_format("e4m3").encode(np.linspace(-3, 3, 50))
    b = np.roll(a, 7)
    one = ops.add(a, b, "e4m3", SR, rng=5)
    assert np.array_equal(one, ops.add(a, b, "e4m3", SR, rng=5))
    assert np.array_equal(one, ops.add(a, b, "e4m3", SR, rng=np.random.default_rng(5)))


# -- constructors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,exc,msg", [
    (lambda: nx.FloatFormat(exp_bits=8, man_bits=3, bias=-900), ValueError,
     "beyond float64's max.*bias must be >= -769"),
    (lambda: nx.FloatFormat(exp_bits=8, man_bits=23, bias=1060), ValueError, "below float64's smallest subnormal"),
    (lambda: nx.FloatFormat(exp_bits=8, man_bits=0, bias=1200, inf=False, nan=nx.NanPolicy.FN), ValueError,
     "bias must be <= 1075"),
    (lambda: nx.FloatFormat(exp_bits=1, man_bits=2, bias=0), ValueError, "needs exp_bits >= 2"),
    (lambda: nx.FloatFormat(exp_bits=True, man_bits=2, bias=0), TypeError, "exp_bits must be an int"),
    (lambda: nx.FloatFormat(exp_bits=4, man_bits=3.0, bias=7), TypeError, "man_bits must be an int"),
    (lambda: nx.FloatFormat(exp_bits=4, man_bits=3, bias="7"), TypeError, "bias must be an int"),
    (lambda: nx.FloatFormat(exp_bits=4, man_bits=3, bias=7, signed=1), TypeError, "signed must be a bool"),
    (lambda: nx.FloatFormat(exp_bits=9, man_bits=3, bias=7), ValueError, "exp_bits must be in 1..8"),
    (lambda: nx.IntFormat(bits=1), ValueError, "bits must be in 2..32"),
    (lambda: nx.IntFormat(bits=65), ValueError, "bits must be in 2..32"),
    (lambda: nx.IntFormat(bits=8.0), TypeError, "bits must be an int"),
    (lambda: nx.IntFormat(bits=8, narrow=np.int8(1)), TypeError, "narrow must be a bool"),
    (lambda: nx.IntFormat(bits=8, frac_bits=-1), ValueError, "frac_bits must be in 0..32"),
    (lambda: nx.PositFormat(bits=33, es=2), ValueError, "bits must be in 2..32"),
    (lambda: nx.PositFormat(bits=8, es=5), ValueError, "es must be in 0..4"),
    (lambda: nx.PositFormat(bits=8, es=None), TypeError, "es must be an int"),
    (lambda: nx.LogFormat(bits=17, frac_bits=0), ValueError, "bits must be in 2..16"),
    (lambda: nx.LogFormat(bits=8, frac_bits=2, domain=1), TypeError, "domain must be 'log' or 'linear'"),
    (lambda: nx.LogFormat(bits=8, frac_bits=2, domain="ln"), ValueError, "domain must be 'log' or 'linear'"),
    (lambda: nx.LookupFormat(levels=[0.0, 1.0]), TypeError, "levels must be a tuple"),
    (lambda: nx.LookupFormat(levels=(0.0, float("nan"))), ValueError, "levels must be finite"),
    (lambda: nx.LookupFormat(levels=(0.0, float("inf"))), ValueError, "levels must be finite"),
    (lambda: nx.LookupFormat(levels=(0.0, 1.0, 1.0)), ValueError, "duplicate levels"),
    (lambda: nx.LookupFormat(levels=(-0.0, 0.0)), ValueError, "duplicate levels"),
    (lambda: nx.LookupFormat(levels=(1.0, 0.0)), ValueError, "unsorted levels"),
    (lambda: nx.LookupFormat(levels=("a", "b")), TypeError, "levels must be real numbers, got str"),
    (lambda: nx.LookupFormat(levels=(False, True)), TypeError, "levels must be real numbers, got bool"),
    (lambda: nx.LookupFormat(levels=(0, 2**60 + 1)), ValueError, "is not exactly a float64"),
    (lambda: nx.LookupFormat(levels=(1.0,)), ValueError, "levels must hold 2 .. 65536"),
    (lambda: nx.register_format("fp16", nx.get_format("fp32")), ValueError, "already registered"),
    (lambda: nx.register_format(3, nx.get_format("fp32")), TypeError, "name must be a non-empty str"),
    (lambda: nx.register_format("my_fmt_x", 3), TypeError, "a format must be"),
    (lambda: nx.register_format("e6m5", nx.get_format("fp16")), ValueError, "'e6m5' is reserved"),
    (lambda: nx.register_format("posit12_1", nx.get_format("fp16")), ValueError, "'posit12_1' is reserved"),
])
def test_constructor_errors(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make()


def test_numpy_integer_fields_are_stored_as_ints():
    f = nx.FloatFormat(exp_bits=np.int64(4), man_bits=np.uint8(3), bias=np.int32(7), inf=False,
                       nan=nx.NanPolicy.FN, signed=np.bool_(True))
    assert f == nx.get_format("e4m3") and hash(f) == hash(nx.get_format("e4m3")) and f.name == "e4m3"
    assert type(f.exp_bits) is int and type(f.signed) is bool
    assert nx.PositFormat(bits=np.int16(8), es=np.int8(2)).name == "posit8"


def test_extreme_bias_formats_decode_exactly():
    big = nx.FloatFormat(exp_bits=8, man_bits=3, bias=-769)  # largest value just below 2^1024
    assert big.max == (2 - 2**-3) * 2.0**1023 and big.quantize(np.array([np.finfo(np.float64).max]))[0] == big.max
    tiny = nx.FloatFormat(exp_bits=8, man_bits=3, bias=1072)  # smallest subnormal 2^-1074
    assert tiny.min_subnormal == 5e-324
    c = _all_codes(tiny)
    v = tiny.decode(c)
    fin = np.isfinite(v)
    assert np.array_equal(tiny.quantize(v[fin]), v[fin])


# -- encode: x and keywords --------------------------------------------------------------------------------

@pytest.mark.parametrize("x,exc,msg", [
    ("1.0", TypeError, "x must be floating-point numbers, got str"),
    (b"1", TypeError, "x must be floating-point numbers, got bytes"),
    (None, TypeError, "x must be floating-point numbers, got NoneType"),
    (1 + 2j, TypeError, "got complex"),
    (True, TypeError, "got bool"),
    ([True, False], TypeError, "got bools"),
    (["1", "2"], TypeError, "got a sequence of dtype <U1"),
    ([1.0, None], TypeError, "got NoneType None at flat index 1"),
    ([[1.0], [2.0, 3.0]], TypeError, "ragged or mixed"),
    ({1.0}, TypeError, "got dtype object"),
    (np.array([1 + 1j]), TypeError, "got dtype complex128"),
    (np.array([1.0], object), TypeError, "got dtype object"),
    (np.array([1], np.int32), TypeError, "convert integers explicitly"),
    (np.array([True]), TypeError, "bools are not numbers here"),
    (np.int64(3), TypeError, "convert integers explicitly"),
    (np.array([1.0], np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else np.array(["x"]), TypeError,
     "float16, bfloat16, float32 or float64 array"),
    (2**53 + 1, ValueError, "float64 cannot hold exactly"),
    ([1, 2**53 + 1], ValueError, "float64 cannot hold exactly"),
    ([0.5, 2**53 + 1], ValueError, "float64 cannot hold exactly"),
    (10**400, ValueError, "beyond float64's range"),
    ([2**70 + 1], ValueError, "float64 cannot hold exactly"),
])
def test_encode_bad_x(x, exc, msg):
    with pytest.raises(exc, match=msg):
        nx.get_format("fp16").encode(x)


@pytest.mark.parametrize("x,want", [
    (3, [0x4200]), (2**53, None), ([1, 2], [0x3C00, 0x4000]), ((0.5, -2), [0x3800, 0xC000]),
    ([[1.5]], [[0x3E00]]), ([], []), (2**70, None), ([2**64], None), (np.float16(1.0), [0x3C00]),
])
def test_encode_python_numbers(x, want):
    f = nx.get_format("fp16")
    got = f.encode(x, saturate=False)
    assert got.shape == np.shape(x)
    if want is None:  # exact huge integers overflow fp16 to inf
        assert (got == 0x7C00).all()
    else:
        assert np.array_equal(got, np.array(want, np.uint16).reshape(np.shape(x)))


def test_exact_python_int_rounds_once():
    """2^53 + 2^30 + 1 is not a float64: rejected rather than rounded twice; 2^60 + 2^40 is a float64."""
    assert FP32.encode(2**60 + 2**40, rounding=nx.RoundMode.TOWARD_POSITIVE) == FP32.encode(float(2**60 + 2**40),
                                                                                       nx.RoundMode.TOWARD_POSITIVE)
    with pytest.raises(ValueError, match="cannot hold exactly"):
        FP32.encode(2**53 + 2**30 + 1, rounding=nx.RoundMode.TOWARD_POSITIVE)


@pytest.mark.parametrize("name,kw,exc,msg", [
    ("e4m3", dict(rng=3), ValueError, "rng is only used with rounding=RoundMode.STOCHASTIC"),
    ("e4m3", dict(rng=np.random.default_rng(0), rounding=nx.RoundMode.TOWARD_ZERO), ValueError, "rng is only used"),
    ("posit8", dict(rng=0), ValueError, "rng is only used"),
    ("nf4", dict(rng=0), ValueError, "rng is only used"),
    ("int8", dict(rng=0), ValueError, "rng is only used"),
    ("e4m3", dict(rounding=SR, rng=-1), ValueError, "int seed >= 0 or None, got the seed -1"),
    ("e4m3", dict(rounding=SR, rng=True), TypeError, "rng must be .* got bool"),
    ("e4m3", dict(rounding=SR, rng=1.5), TypeError, "rng must be .* got float"),
    ("e4m3", dict(rounding=SR, rng=np.random.RandomState(0)), TypeError, "rng must be .* got RandomState"),
    ("e4m3", dict(rng="x"), TypeError, "rng must be"),  # the type is checked whatever the mode
    ("e4m3", dict(sr_bits=4), ValueError, "sr_bits is only used with"),
    ("e4m3", dict(rounding=SR, sr_bits=63), ValueError, r"sr_bits must be in 1\.\.62"),
    ("e4m3", dict(rounding=SR, sr_bits=2.0), TypeError, "sr_bits must be an int"),
    ("e4m3", dict(rounding=SR, sr_bits=True), TypeError, "sr_bits must be an int"),
    ("nf4", dict(rounding=SR, sr_bits=4), ValueError, "sr_bits applies to float, integer and posit formats"),
    ("lns8", dict(rounding=SR, sr_bits=4), ValueError, "sr_bits applies to float, integer and posit formats"),
    ("e4m3", dict(rounding="TIES_TO_EVEN"), TypeError, "rounding must be a numerics.RoundMode.*RoundMode.TO_ODD"),
    ("e4m3", dict(rounding=0), TypeError, "rounding must be a numerics.RoundMode"),
    ("e4m3", dict(saturate=1), TypeError, "saturate must be a bool"),
    ("e4m3", dict(saturate=None), TypeError, "saturate must be a bool"),
    ("e2m1", dict(nan_code=16), ValueError, r"nan_code must lie in 0\.\.15"),
    ("e2m1", dict(nan_code=-1), ValueError, r"nan_code must lie in 0\.\.15"),
    ("e2m1", dict(nan_code=1.0), TypeError, "nan_code must be an int"),
    ("nf4", dict(nan_code=16), ValueError, r"nan_code must lie in 0\.\.15"),
    ("int8_n", dict(nan_code=0x80), ValueError, "outside narrow-range"),
])
def test_encode_keyword_errors(name, kw, exc, msg):
    f = nx.IntFormat(bits=8, narrow=True) if name == "int8_n" else nx.get_format(name)
    with pytest.raises(exc, match=msg):
        f.encode(np.array([0.25, -0.5]), **kw)


@pytest.mark.parametrize("name", ["e4m3", "fp16", "posit16", "int8", "nf4", "lns8"])
def test_same_seed_same_codes(name):
    f = nx.get_format(name)
    x = np.linspace(-1.3, 1.3, 101)
    a = f.encode(x, rounding=SR, rng=7)
    assert np.array_equal(a, f.encode(x, rounding=SR, rng=7))
    assert np.array_equal(a, f.encode(x, rounding=SR, rng=np.random.default_rng(7)))


# -- decode: codes and out ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name,codes,out,exc,msg", [
    ("fp16", np.array([1], np.uint16), np.empty(1, np.int64), ValueError, "got dtype int64"),
    ("fp16", np.array([1], np.uint16), np.empty(2), ValueError, r"of shape \(1,\).*got shape \(2,\)"),
    ("fp16", np.array([1, 2], np.uint16), np.empty(4)[::2], ValueError, "not C-contiguous"),
    ("fp16", np.array([1], np.uint16), np.zeros(1).setflags(write=False) or None, None, None),
    ("fp16", np.array([1], np.uint16), [0.0], TypeError, "out must be a numpy array or None, got list"),
    ("fp32", np.array([1], np.uint32), np.empty(1, np.float32), ValueError, "got dtype float32"),
    ("fp16", np.array([1.0]), None, TypeError, "codes must be an integer array, got dtype float64"),
    ("fp16", np.array([-1]), None, ValueError, r"codes must lie in 0\.\.65535 for fp16"),
    ("fp16", np.array([1 << 16]), None, ValueError, "got 65536"),
    ("fp16", np.array([True]), None, TypeError, "got dtype bool"),
    ("fp16", "1", None, TypeError, "got dtype <U1"),
    ("nf4", np.array([3, 17]), None, ValueError, r"codes must lie in 0\.\.15 for nf4"),
    ("int8_n", np.array([0x80]), None, ValueError, "outside narrow-range"),
])
def test_decode_errors(name, codes, out, exc, msg):
    f = nx.IntFormat(bits=8, narrow=True) if name == "int8_n" else nx.get_format(name)
    if exc is None:  # the read-only out case, built here
        out = np.zeros(1)
        out.setflags(write=False)
        exc, msg = ValueError, "read-only"
    with pytest.raises(exc, match=msg):
        f.decode(codes, out=out)


def test_decode_into_out_is_exact():
    f = nx.get_format("fp16")
    c = _all_codes(f).reshape(256, 256)
    out = np.empty(c.shape)
    assert f.decode(c, out=out) is out
    want = c.view(np.float16).astype(np.float64)
    assert np.array_equal(out, want, equal_nan=True)


# -- matmul and Accumulator --------------------------------------------------------------------------------

A32, B32 = np.ones((2, 3), np.float32), np.ones((3, 2), np.float32)
FUSED = dict(method=nx.AccMethod.FUSED, out_format=FP32, block_bytes=16, align_bits=24)


def _bt(name, shape, axis):
    return nx.get_block_format(name).encode(np.ones(shape, np.float32), axis=axis)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: nx.matmul(A32, np.ones((4, 2), np.float32)), ValueError, r"\(m, k\) and \(k, n\) with equal k"),
    (lambda: nx.matmul(np.ones((2, 2, 3), np.float32), B32), ValueError, r"got \(2, 2, 3\)"),
    (lambda: nx.matmul(np.float32(1), B32), ValueError, r"got \(\) and"),
    (lambda: nx.matmul(np.ones((2, 3), bool), B32), TypeError, "a must be a numeric array, got dtype bool"),
    (lambda: nx.matmul(A32, np.ones((3, 2), complex)), TypeError, "b must be a numeric array, got dtype complex"),
    (lambda: nx.matmul("ab", B32), TypeError, "a must be a numeric array"),
    (lambda: nx.matmul(A32, B32.astype(object)), TypeError, "got dtype object"),
    (lambda: nx.matmul(np.full((1, 1), 2**53 + 1, np.int64), np.ones((1, 1)), "int32", a_format="int32",
                       b_format="int8"), ValueError, "beyond 2\\^53"),
    (lambda: nx.matmul(np.ones((2, 3)), np.ones((3, 2))), ValueError, "a_format is needed for a float64 array"),
    (lambda: nx.matmul(np.full((2, 3), 0.3), np.ones((3, 2)), a_format="e4m3", b_format="e4m3"), ValueError,
     "not a e4m3 value; quantize it first"),
    (lambda: nx.matmul(A32, B32, accumulator="fp33"), ValueError, "unknown accumulator 'fp33'; close matches: fp32"),
    (lambda: nx.matmul(A32, B32, accumulator=3), TypeError, "accumulator must be an Accumulator or a preset name"),
    (lambda: nx.matmul(A32, B32, c=np.ones((3, 3))), ValueError, r"c must broadcast to the result's shape \(2, 2\)"),
    (lambda: nx.matmul(A32, B32, c="x"), TypeError, "c must be a numeric array"),
    (lambda: nx.matmul(A32, B32, c=np.full((2, 2), 0.1)), ValueError, "c holds .* not a fp32 value"),
    (lambda: nx.matmul(A32, B32, out_format=3), TypeError, "out_format must be a format name or a ScalarFormat"),
    (lambda: nx.matmul(A32, B32, out_format="fp33"), ValueError, "unknown format 'fp33'"),
    (lambda: nx.matmul(np.ones((2, 3)), np.ones((3, 2)), a_format=3, b_format="fp32"), TypeError,
     "a_format must be a format name"),
    (lambda: nx.matmul(np.ones((2, 3)), np.ones((3, 2)), a_format="nf4", b_format="fp32"), ValueError,
     "a_format must be a float, integer or posit format"),
    (lambda: nx.matmul(np.ones((2, 3)), np.ones((3, 2)), "quire", a_format="posit16", b_format="fp32"), ValueError,
     "must share one float or posit format"),
    (lambda: nx.matmul(np.ones((2, 3)), np.ones((3, 2)), "quire", a_format="int8", b_format="int8"), ValueError,
     "must share one float or posit format"),
    (lambda: nx.matmul(A32, B32, "nv_blackwell_nvfp4"), ValueError, "GROUPED accumulator takes block-scaled"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), np.ones((64, 4), np.float32)), TypeError,
     "b must be a BlockTensor when the other operand is one, got ndarray"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (64, 4), 1)), ValueError,
     "b must be a 2-D BlockTensor blocked along axis 0"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (32, 4), 0)), ValueError, "must share K"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (64, 4), 0), "int32"), ValueError,
     "block-scaled operands take an EXACT, FMA, PAIRWISE, FUSED or GROUPED accumulator"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (64, 4), 0), "amd_cdna3"), ValueError,
     "AccMethod.TWO_LEVEL"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (64, 4), 0), a_format="fp32"), ValueError,
     "BlockTensors carry their formats"),
    (lambda: nx.matmul(_bt("mxfp8_e4m3", (4, 64), 1), _bt("mxfp8_e4m3", (64, 4), 0), c=np.ones(3)), ValueError,
     r"c must broadcast to the result's shape \(4, 4\)"),
    (lambda: nx.matmul(_bt("mxfp4", (4, 64), 1), _bt("nvfp4", (64, 4), 0)), ValueError, "share the block size"),
    (lambda: nx.matmul(_bt("nvfp4", (4, 16), 1), _bt("nvfp4", (16, 4), 0), "nv_blackwell_nvfp4"), ValueError,
     "K a multiple of 64"),
    (lambda: nx.matmul(_bad_scales(), _bt("mxfp8_e4m3", (64, 4), 0)), ValueError,
     r"scales has shape \(4, 1\).*needs \(4, 2\)"),
])
def test_matmul_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def _bad_scales():
    """A BlockTensor whose scales are too few for its codes (the GROUPED kernel would read past them)."""
    import dataclasses
    bt = _bt("mxfp8_e4m3", (4, 64), 1)
    return dataclasses.replace(bt, scales=bt.scales[:, :1])


@pytest.mark.parametrize("kw,exc,msg", [
    (dict(FUSED, block_bytes=-1), ValueError, r"block_bytes must be in 0\.\.65536, got -1"),
    (dict(FUSED, block_bytes=16.0), TypeError, "block_bytes must be an int"),
    (dict(FUSED, align_bits=True), TypeError, "align_bits must be an int"),
    (dict(FUSED, promote_every="x"), TypeError, "promote_every must be an int"),
    (dict(FUSED, promote_every=-128), ValueError, "promote_every must be in 0"),
    (dict(FUSED, zero_exp_offset=10**9), ValueError, r"zero_exp_offset must be in 0\.\.64"),
    (dict(FUSED, carry_bits=21), ValueError, r"carry_bits must be in 0\.\.20"),
    (dict(FUSED, interleave=0), ValueError, r"interleave must be in 1\.\.64"),
    (dict(FUSED, group_size=-3), ValueError, "group_size must be in 0"),
    (dict(FUSED, int_bits=16), ValueError, "int_bits=16 does not apply to method AccMethod.FUSED"),
    (dict(FUSED, sum_bits=31), ValueError, r"sum_bits=31 does not apply .*\(only to TWO_LEVEL\)"),
    (dict(method=nx.AccMethod.FMA, out_format=FP32, block_bytes=16), ValueError,
     "block_bytes=16 does not apply to method AccMethod.FMA"),
    (dict(method=nx.AccMethod.INTEGER, int_bits=32.5), TypeError, "int_bits must be an int"),
    (dict(method=nx.AccMethod.INTEGER, int_bits=64), ValueError, r"int_bits must be in 2\.\.63"),
    (dict(method=nx.AccMethod.INTEGER, int_saturate=1), TypeError, "int_saturate must be a bool"),
    (dict(method=nx.AccMethod.EXACT, int_saturate=True), ValueError, "int_saturate=True does not apply"),
    (dict(method=nx.AccMethod.EXACT, out_format=nx.get_format("nf4")), ValueError, "float or posit out_format"),
    (dict(method=nx.AccMethod.EXACT, out_format=nx.get_format("int16")), ValueError, "AccMethod.INTEGER"),
    (dict(method="fused"), TypeError, "method must be an AccMethod"),
    (dict(FUSED, out_rounding="RZ"), TypeError, "out_rounding must be a RoundMode"),
    (dict(FUSED, out_format="fp32"), TypeError, "out_format must be a format or None"),
])
def test_accumulator_field_errors(kw, exc, msg):
    with pytest.raises(exc, match=msg):
        nx.Accumulator(**kw)


def test_every_preset_still_valid():
    for name in nx.accumulator_names():
        acc = nx.get_accumulator(name)
        assert nx.Accumulator(**{f: getattr(acc, f) for f in acc.__dataclass_fields__}) == acc


# -- fuzzing the public entry points -----------------------------------------------------------------------

FUZZ_FORMATS = ["e4m3", "e5m2", "e2m1", "e8m0", "ue4m3", "fp16", "bf16", "posit8", "posit16", "int4", "uint8",
                "nf4", "lns8"]
DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.int32, np.int8, np.uint16, np.bool_,
          np.complex64, object]
OK_DTYPES = {np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16), np.dtype(np.float32), np.dtype(np.float64)}


def _arrays(draw):
    dt = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    if dt is object:
        return np.array(draw(st.lists(st.one_of(st.floats(), st.integers(), st.none(), st.text(max_size=2)),
                                      max_size=4)), dtype=object)
    if np.dtype(dt) in OK_DTYPES:
        elems = st.floats(width=16 if dt in (np.float16, ml_dtypes.bfloat16) else 32 if dt == np.float32 else 64)
        arr = draw(hnp.arrays(np.float64 if dt is ml_dtypes.bfloat16 else dt, shape, elements=elems))
        return arr.astype(dt)
    return draw(hnp.arrays(dt, shape))


KEYWORDS = st.fixed_dictionaries({}, optional={
    "rounding": st.sampled_from(list(nx.RoundMode) + ["TIES_TO_EVEN", 0, None]),
    "saturate": st.sampled_from([True, False, 1, None]),
    "rng": st.sampled_from([None, 0, 7, -1, 1.5, "s"]),
    "sr_bits": st.sampled_from([None, 1, 8, 62, 0, 63, 2.0]),
    "nan_code": st.sampled_from([None, 0, 1, 255, 300, -1]),
})


@given(name=st.sampled_from(FUZZ_FORMATS), data=st.data(), kw=KEYWORDS)
def test_fuzz_encode_decode_quantize(name, data, kw):
    f = nx.get_format(name)
    x = _arrays(data.draw)
    try:
        codes = f.encode(x, **kw)
    except (TypeError, ValueError):
        return
    assert x.dtype in OK_DTYPES and codes.shape == x.shape and codes.dtype == f.code_dtype
    if codes.size:
        assert int(codes.max()) < (1 << f.bits)
    vals = f.decode(codes)
    assert vals.shape == x.shape and vals.dtype == np.float64
    det = kw.get("rounding") != SR or kw.get("rng") is not None
    if det:  # quantize is decode(encode) with the same keywords (a seeded stochastic draw repeats)
        assert np.array_equal(f.quantize(x, **kw), vals, equal_nan=True)
    if kw.get("nan_code") is None and kw.get("saturate", True):  # never NaN from finite input when saturating
        fin = np.isfinite(x.astype(np.float64))
        assert not np.isnan(vals[fin]).any()
    if kw.get("rounding", nx.RoundMode.TIES_TO_EVEN) == nx.RoundMode.TIES_TO_EVEN and kw.get("nan_code") is None:
        # representable inputs come back unchanged
        x64 = x.astype(np.float64)
        same = np.isfinite(x64) & (np.abs(x64) <= f.max) & np.isin(x64, f.values() if f.bits <= 16 else x64)
        assert np.array_equal(vals[same], x64[same])


@given(name=st.sampled_from(["e4m3", "e5m2", "e2m1", "ue4m3", "fp16", "posit8", "int8", "nf4"]), data=st.data(),
       op=st.sampled_from(["neg", "abs", "compare", "add", "mul", "div", "sqrt", "fma", "convert"]), kw=KEYWORDS)
def test_fuzz_ops(name, data, op, kw):
    f = nx.get_format(name)
    dt = data.draw(st.sampled_from([f.code_dtype, np.int64, np.float64, np.bool_]))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    hi = (1 << f.bits) + 2 if dt != np.bool_ else 1
    a = data.draw(hnp.arrays(dt, shape, elements=st.integers(-2, hi) if dt != np.bool_ else None)
                  if dt in (np.int64, np.float64) else hnp.arrays(dt, shape))
    b = np.flip(a) if a.ndim else a
    kw = {k: v for k, v in kw.items() if k != "nan_code"}
    calls = {"neg": lambda: ops.neg(a, f), "abs": lambda: ops.abs(a, f), "compare": lambda: ops.compare(a, b, f),
             "add": lambda: ops.add(a, b, f, **kw), "mul": lambda: ops.mul(a, b, f, **kw),
             "div": lambda: ops.div(a, b, f, **kw), "sqrt": lambda: ops.sqrt(a, f, **kw),
             "fma": lambda: ops.fma(a, b, a, f, **kw), "convert": lambda: ops.convert(a, f, "fp16", **kw)}
    try:
        out = calls[op]()
    except (TypeError, ValueError):
        return
    # only valid integer codes got this far, and the result is codes of the right format and shape
    assert a.dtype.kind in "iu" and (a.size == 0 or (a.min() >= 0 and a.max() < (1 << f.bits)))
    assert out.shape == a.shape
    if op == "compare":
        assert set(np.unique(out).tolist()) <= {-1, 0, 1, 2}
    else:
        target = nx.get_format("fp16") if op == "convert" else f
        assert out.dtype == target.code_dtype and (out.size == 0 or int(out.max()) < (1 << target.bits))


@given(data=st.data(), acc=st.sampled_from(["fp32", "exact", "nv_hopper", "fp32_pairwise", "int32", "quire",
                                             "amd_cdna3", "nv_blackwell_nvfp4", 3, "fp33"]),
       fmt=st.sampled_from([None, "e4m3", "int8", "posit8", "nf4", 3]))
def test_fuzz_matmul(data, acc, fmt):
    dt = data.draw(st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.bool_, np.complex64]))
    m, k, n = (data.draw(st.integers(0, 3)) for _ in range(3))
    k2 = data.draw(st.sampled_from([k, k + 1]))
    ndim_a, ndim_b = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    shape_a = ((m, k), (k,), (), (1, m, k))[[2, 1, 0, 3][ndim_a]]
    shape_b = ((k2, n), (k2,), (), (1, k2, n))[[2, 1, 0, 3][ndim_b]]
    small = st.integers(-3, 3) if dt != np.bool_ else st.booleans()
    if dt == np.complex64:
        small = st.just(1 + 0j)
    a = data.draw(hnp.arrays(dt, shape_a, elements=small))
    b = data.draw(hnp.arrays(dt, shape_b, elements=small))
    try:
        D = nx.matmul(a, b, acc, a_format=fmt, b_format=fmt)
    except (TypeError, ValueError):
        return
    A = a.reshape(1, -1) if a.ndim == 1 else a
    B = b.reshape(-1, 1) if b.ndim == 1 else b
    assert D.dtype == np.float64 and D.size == (A.shape[0] * B.shape[1])
    # small integer operands and short sums: every accumulator here is exact
    assert np.array_equal(D.reshape(A.shape[0], B.shape[1]), A.astype(np.float64) @ B.astype(np.float64))
