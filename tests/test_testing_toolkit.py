"""numerics.testing: the strategies produce what they promise, and assert_codes_equal reports clearly."""

import numpy as np
import pytest
from hypothesis import given, settings

import numerics as nx
from numerics import testing as nt


@given(nt.codes("e4m3"))
def test_codes_strategy(c):
    assert 0 <= int(c) < 256 and isinstance(c, np.uint8)


@pytest.mark.slow
@given(nt.values("e5m2"))
def test_values_are_representable(v):
    f = nx.get_format("e5m2")
    assert f.decode(f.encode(np.array([v])))[0] == v


@pytest.mark.slow
@settings(max_examples=300)
@given(nt.boundary_values("e4m3", source=np.float32))
def test_boundary_values_round_like_ml_dtypes(x):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    f = nx.get_format("e4m3")
    x32 = np.array([x], np.float32)
    if np.isnan(x32[0]) or np.abs(x32[0]) > 464:  # ml_dtypes does not saturate: clip first (STYLE.md)
        return
    want = np.clip(x32, -448, 448).astype(ml_dtypes.float8_e4m3fn).view(np.uint8)
    nt.assert_codes_equal(f.encode(x32), want, f, inputs=x32)


def test_boundary_values_cover_midpoints_and_ulps():
    vals = set(nt._boundaries(nx.get_format("e2m1"), np.float32))
    for mid in (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0):  # every midpoint of E2M1
        assert mid in vals
        assert float(np.nextafter(np.float32(mid), np.float32(1e9))) in vals
    assert 7.0 in vals and np.inf in vals and any(np.isnan(v) for v in vals)


@pytest.mark.slow
@given(nt.arrays("e2m1", (3, 4)))
def test_arrays(a):
    f = nx.get_format("e2m1")
    assert a.shape == (3, 4) and np.array_equal(f.quantize(a), a)


@settings(max_examples=20)
@given(nt.block_tensors("mxfp4", (2, 64)))
def test_block_tensors(bt):
    assert bt.shape == (2, 64) and bt.scales.shape == (2, 2)


def test_assert_codes_equal_reports():
    f = nx.get_format("e4m3")
    nt.assert_codes_equal(np.array([0x7F, 0x01], np.uint8), np.array([0xFF, 0x01], np.uint8), f)  # NaN class
    with pytest.raises(AssertionError) as err:
        nt.assert_codes_equal(np.array([0x00, 0x38, 0x39], np.uint8), np.array([0x80, 0x38, 0x38], np.uint8), f,
                              inputs=np.array([-1e-9, 1.0, 1.0625]))
    msg = str(err.value)
    assert "2 of 3 codes of e4m3 differ" in msg and "actual 0x00 (0.0) != expected 0x80 (-0.0)" in msg
    assert "signed zeros differ" in msg and "actual 0x39 (1.125) != expected 0x38 (1.0)" in msg and "1.0625" in msg
    with pytest.raises(AssertionError, match="shapes differ"):
        nt.assert_codes_equal(np.zeros(2, np.uint8), np.zeros(3, np.uint8), f)
