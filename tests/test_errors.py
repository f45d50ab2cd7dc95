"""Bad input gets a clear error naming the argument and what was expected."""

import numpy as np
import pytest

import numerics as nx


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown format 'e4m3fn'; close matches: e4m3fnuz, e4m3"):
        nx.get_format("e4m3fn")


def test_unknown_name_messages():
    with pytest.raises(ValueError, match="close matches: e4m3"):
        nx.get_format("e4m3x")
    with pytest.raises(ValueError, match="unknown format 'floaty'"):
        nx.get_format("floaty")
    with pytest.raises(ValueError, match="1 <= X <= 8"):
        nx.get_format("e9m2")
    with pytest.raises(TypeError, match="format name must be a str"):
        nx.get_format(8)


def test_eXmY_any_width():
    f = nx.get_format("e3m5")
    assert (f.bits, f.bias, f.has_inf, f.nan) == (9, 3, True, nx.NanPolicy.IEEE)
    assert f.code_dtype == np.uint16
    assert nx.get_format("e5m10") == nx.get_format("fp16") and nx.get_format("e5m10").name == "fp16"
    assert not nx.get_format("e4m0").has_nan  # Y = 0 leaves no NaN pattern: finite-only
    assert nx.get_format("e8m23").name == "fp32"


def test_wrong_input_dtypes():
    f = nx.get_format("e4m3")
    with pytest.raises(TypeError, match="float16, bfloat16, float32 or float64 array, got dtype int64"):
        f.encode(np.arange(3))
    with pytest.raises(TypeError, match="got dtype complex128"):
        f.encode(np.ones(2, complex))
    with pytest.raises(TypeError, match="floating-point numbers"):
        f.encode("abc")
    assert f.encode([1, 2]).tolist() == [0x38, 0x40]  # Python numbers are accepted as float64


def test_wrong_codes():
    f = nx.get_format("e2m1")
    with pytest.raises(ValueError, match=r"codes must lie in 0\.\.15 for e2m1 \(4 bits\), got 16"):
        f.decode(np.array([1, 16]))
    with pytest.raises(ValueError, match="got -1"):
        f.decode(np.array([-1]))
    with pytest.raises(TypeError, match="codes must be an integer array, got dtype float64"):
        f.decode(np.array([1.0]))


def test_wrong_keywords():
    f = nx.get_format("e4m3")
    x = np.ones(3)
    with pytest.raises(TypeError, match="rounding must be a numerics.RoundMode"):
        f.encode(x, rounding="nearest")
    with pytest.raises(TypeError, match="saturate must be a bool"):
        f.encode(x, saturate="yes")
    with pytest.raises(ValueError, match="sr_bits is only used with"):
        f.encode(x, sr_bits=4)
    with pytest.raises(ValueError, match="sr_bits must be in 1..62"):
        f.encode(x, rounding=nx.RoundMode.STOCHASTIC, sr_bits=0)
    with pytest.raises(TypeError, match="rng must be"):
        f.encode(x, rounding=nx.RoundMode.STOCHASTIC, rng="seed")
    with pytest.raises(ValueError, match="nan_code must lie in 0..255"):
        f.encode(x, nan_code=256)


@pytest.mark.parametrize("name", ["e2m1", "e2m3", "e3m2", "int8", "uint4"])
def test_nan_into_nanless_formats(name):
    f = nx.get_format(name)
    with pytest.raises(ValueError, match=f"{name} cannot represent 1 input.*nan at flat index 1.*nan_code"):
        f.encode(np.array([1.0, np.nan, 2.0]))
    assert f.encode(np.array([1.0, np.nan]), nan_code=3)[1] == 3


def test_inf_and_overflow_into_finite_only_formats():
    f = nx.get_format("e2m1")
    with pytest.raises(ValueError, match="inf"):
        f.encode(np.array([np.inf]))  # even when saturating: DESIGN.md, no silent clamp of inf
    with pytest.raises(ValueError, match="saturate=False"):
        f.encode(np.array([7.0]), saturate=False)
    assert f.encode(np.array([7.0])).tolist() == [7]  # saturating: 6.0


def test_unsigned_formats_reject_negatives():
    for name in ("ue4m3", "e8m0"):
        with pytest.raises(ValueError, match=f"{name} cannot represent"):
            nx.get_format(name).encode(np.array([-1.0]))
    assert nx.get_format("ue4m3").encode(np.array([-0.0])).tolist() == [0]


def test_invalid_dataclass_fields():
    with pytest.raises(ValueError, match="exp_bits must be in 1..8"):
        nx.FloatFormat(exp_bits=0, man_bits=3, bias=7)
    with pytest.raises(ValueError, match="man_bits must be in 0..23"):
        nx.FloatFormat(exp_bits=4, man_bits=24, bias=7)
    with pytest.raises(ValueError, match="inf=True goes with nan=NanPolicy.IEEE"):
        nx.FloatFormat(exp_bits=4, man_bits=3, bias=7, nan=nx.NanPolicy.FN)
    with pytest.raises(ValueError, match="FNUZ needs a sign bit"):
        nx.FloatFormat(exp_bits=4, man_bits=3, bias=7, signed=False, inf=False, nan=nx.NanPolicy.FNUZ)
    with pytest.raises(ValueError, match="zero=False"):
        nx.FloatFormat(exp_bits=8, man_bits=0, bias=127, inf=False, nan=nx.NanPolicy.FN, zero=False)
    with pytest.raises(TypeError, match="nan must be a NanPolicy"):
        nx.FloatFormat(exp_bits=4, man_bits=3, bias=7, nan="ieee")
    with pytest.raises(TypeError, match="exp_bits must be an int"):
        nx.FloatFormat(exp_bits=4.0, man_bits=3, bias=7)
    # positional construction follows DESIGN.md's field order
    assert nx.FloatFormat(4, 3, 7, True, False, nx.NanPolicy.FN, True) == nx.get_format("e4m3")
    assert nx.IntFormat(8, True, True) == nx.IntFormat(bits=8, narrow=True)
    assert nx.BlockFormat(nx.get_format("e2m1"), nx.get_format("e8m0"), 32, nx.ScaleRule.FLOOR, False) == \
        nx.get_block_format("mxfp4")
    with pytest.raises(ValueError, match="bits must be in 2..32"):
        nx.IntFormat(bits=33)
    with pytest.raises(ValueError, match="values\\(\\) lists formats of at most 16 bits"):
        nx.get_format("fp32").values()


def test_formats_are_frozen_and_hashable():
    f = nx.get_format("e4m3")
    with pytest.raises(AttributeError):
        f.bias = 8
    import dataclasses
    g = dataclasses.replace(f, subnormals=False)
    assert g != f and g.name == "e4m3_fn_ftz" and f.subnormals
    assert {f: 1}[nx.get_format("e4m3")] == 1


def test_register_format():
    with pytest.raises(ValueError, match="already registered"):
        nx.register_format("e4m3", nx.get_format("e4m3"))
