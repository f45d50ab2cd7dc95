"""Laws every scalar format obeys, checked with hypothesis on formats of every size (fp32 and tf32
included, where exhaustive checks are impossible)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import numerics as nx

NAMES = ["e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m4", "e2m3", "e3m2", "e2m1", "e8m0", "ue4m3",
         "fp16", "bf16", "tf32", "fp32", "e6m9", "int4", "uint8", "int16", "int32",
         "posit8", "posit16", "posit32", "posit8_0", "lns8", "pot4", "nf4", "apot4"]
DET = [m for m in nx.RoundMode if m != nx.RoundMode.STOCHASTIC]
names = st.sampled_from(NAMES)
modes = st.sampled_from(DET)
f64 = st.floats(allow_nan=False, allow_infinity=False, width=64)
f32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


def q(f, x, mode=nx.RoundMode.TIES_TO_EVEN, **kw):
    return f.quantize(np.array(x, dtype=np.float64), rounding=mode, **kw)


def in_domain(f, x):
    if isinstance(f, nx.LookupFormat):
        return f.levels[0] <= x
    return getattr(f, "signed", True) or x >= 0


@pytest.mark.slow
@given(names, modes, f64, f64)
def test_monotone(name, mode, x, y):
    f = nx.get_format(name)
    assume(in_domain(f, x) and in_domain(f, y))
    x, y = min(x, y), max(x, y)
    qx, qy = q(f, [x, y], mode)
    assert qx <= qy


@pytest.mark.slow
@given(names, f64)
def test_sign_symmetry(name, x):
    f = nx.get_format(name)
    assume(getattr(f, "signed", True) and not isinstance(f, nx.IntFormat | nx.LookupFormat))
    for mode, mirror in [(nx.RoundMode.TIES_TO_EVEN, nx.RoundMode.TIES_TO_EVEN),
                         (nx.RoundMode.TOWARD_POSITIVE, nx.RoundMode.TOWARD_NEGATIVE),
                         (nx.RoundMode.TO_ODD, nx.RoundMode.TO_ODD)]:
        assert q(f, [-x], mode)[0] == -q(f, [x], mirror)[0]


@pytest.mark.slow
@given(names, modes, f64)
def test_idempotent(name, mode, x):
    f = nx.get_format(name)
    assume(in_domain(f, x))
    c = f.encode(np.array([x]), rounding=mode)
    v = f.decode(c)
    assert np.array_equal(f.encode(v, rounding=nx.RoundMode.TOWARD_ZERO), c) or v[0] == 0


@pytest.mark.slow
@given(names, f64)
def test_nearest_is_optimal(name, x):
    """No representable value is closer than the RNE result (checked against its two neighbours).
    Posits round on the bit string and LNS in the log domain, so they are not nearest in value."""
    f = nx.get_format(name)
    assume(not isinstance(f, nx.PositFormat | nx.LogFormat))
    assume(in_domain(f, x) and abs(x) <= f.max)
    assume(getattr(f, "zero", True) or x >= f.min_normal)  # E8M0: nothing below 2^-127 but 2^-127
    r = q(f, [x])[0]
    lo = q(f, [x], nx.RoundMode.TOWARD_NEGATIVE)[0]
    hi = q(f, [x], nx.RoundMode.TOWARD_POSITIVE)[0]
    assert lo <= x <= hi
    assert r in (lo, hi)
    assert abs(r - x) <= min(abs(lo - x), abs(hi - x))


@pytest.mark.slow
@given(names, modes, f64)
def test_saturation_bounds(name, mode, x):
    f = nx.get_format(name)
    assume(in_domain(f, x))
    v = q(f, [x], mode, saturate=True)[0]
    assert getattr(f, "lowest", -f.max) <= v <= f.max


@pytest.mark.slow
@given(st.sampled_from(["fp32", "tf32", "bf16", "fp16"]), f32)
def test_float32_source_rne_matches_ml_dtypes_and_numpy(name, x):
    import ml_dtypes
    f = nx.get_format(name)
    x32 = np.float32(x)
    got = f.quantize(np.array([x32]), saturate=False)[0]
    if name == "fp32":
        want = float(x32)
    elif name == "bf16":
        want = float(np.array(x32).astype(ml_dtypes.bfloat16))
    elif name == "fp16":
        want = float(np.array(x32).astype(np.float16))
    else:  # TF32: RNE onto the grid 2^(max(floor(log2|x|), -126) - 10); Python's round() ties to even
        import math
        xf = float(x32)
        if xf == 0:
            want = xf
        else:
            quantum = 2.0 ** (max(math.frexp(xf)[1] - 1, -126) - 10)
            want = math.copysign(round(abs(xf) / quantum) * quantum, xf)
            want = want if abs(want) <= f.max else math.copysign(math.inf, want)
    assert got == want or (np.isnan(got) and np.isnan(want))


@pytest.mark.slow
@given(f64)
def test_float64_to_fp32_matches_numpy(x):
    got = nx.get_format("fp32").encode(np.array([x]), saturate=False)[0]
    with np.errstate(over="ignore"):
        want = np.array([x]).astype(np.float32).view(np.uint32)[0]
    assert got == want
