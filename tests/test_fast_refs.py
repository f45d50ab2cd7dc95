"""Fast reference accumulators (#17 item 2): numerics.fastref and kernels.fast_gemm against the reference
kernels of kernels.gemm, bit for bit (float64 bit patterns compared, so -0 and +0 differ), on random and
adversarial operands (cancellation, signed zeros, subnormals, overflow, wide exponent spans) of small
shapes; and nx.matmul with the fast routes on and off."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import numerics as nx
from kernels import gemm as ref
from numerics import accumulate, fastref

SHAPES = [(1, 1, 1), (3, 1, 2), (5, 7, 9), (16, 33, 70), (8, 200, 65), (2, 1025, 3), (65, 3, 1)]
KINDS = ["randn", "wide", "huge", "subnormal", "cancel", "zeros", "overflow"]


def _vals(rng, shape, kind):
    if kind == "randn":
        x = rng.standard_normal(shape)
    elif kind == "wide":  # spans of 2^80: the exact route needs several slices or falls back
        x = rng.standard_normal(shape) * 2.0 ** rng.integers(-40, 40, shape)
    elif kind == "huge":
        x = rng.standard_normal(shape) * 2.0 ** rng.integers(-140, 120, shape)
    elif kind == "subnormal":  # binary32 subnormal operands and results
        x = rng.standard_normal(shape) * 2.0 ** -130
    elif kind == "cancel":
        x = rng.choice([1.0, -1.0, 2.0 ** -24, 3.0, 2.0 ** 60, -2.0 ** 60, 0.0, -0.0], shape)
    elif kind == "zeros":
        x = rng.choice([0.0, -0.0], shape)
    else:  # products and sums past binary32's max: inf in FP32 accumulators
        x = rng.choice([2.0 ** 100, -(2.0 ** 100), 3.0 * 2.0 ** 90, 1.0], shape)
    return x.astype(np.float32).astype(np.float64)


def _same(x, y):
    assert x.shape == y.shape
    assert np.array_equal(np.asarray(x, np.float64).view(np.int64), np.asarray(y, np.float64).view(np.int64))


def _operands(kind, shape, seed):
    rng = np.random.default_rng(seed)
    m, k, n = shape
    return _vals(rng, (m, k), kind), _vals(rng, (n, k), kind), _vals(rng, (m, n), kind)


TARGETS = {"fp32": (23, -126, 127), "fp16": (10, -14, 15), "bf16": (7, -126, 127), "e5m2": (2, -14, 15)}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", list(TARGETS))
def test_fma_routes_are_the_reference(kind, shape, target):
    A, Bt, C = _operands(kind, shape, 1)
    t = TARGETS[target]
    C = nx.get_format(target).quantize(C, saturate=True)
    with np.errstate(all="ignore"):
        _same(fastref.fast_fma(A, Bt, C, *t), ref.gemm_fma(A, Bt, C, *t))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_pairwise_route_is_the_reference(kind, shape):
    A, Bt, C = _operands(kind, shape, 2)
    with np.errstate(all="ignore"):
        _same(fastref.fast_pairwise(A, Bt, C, 23, -126, 127), ref.gemm_pairwise(A, Bt, C, 23, -126, 127))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_exact_route_is_the_reference(kind, shape):
    A, Bt, C = _operands(kind, shape, 3)
    fast = fastref.fast_exact_odd(A, Bt, C)
    if fast is None:  # more slices than MAX_SLICES, or scaled slices out of float64's normal range
        assert kind in ("wide", "huge", "cancel", "overflow")
        return
    _same(fast, ref.gemm_exact_odd(A, Bt, C))


def test_exact_route_covers_typical_operands():
    A, Bt, C = _operands("randn", (16, 1000, 16), 4)
    assert fastref.fast_exact_odd(A, Bt, C) is not None
    e4 = nx.get_format("e4m3")
    rng = np.random.default_rng(5)
    A8, B8 = e4.quantize(rng.standard_normal((8, 4096))), e4.quantize(rng.standard_normal((8, 4096)))
    assert fastref.fast_exact_odd(A8, B8, np.zeros((8, 8))) is not None


def test_routes_decline_what_they_do_not_cover():
    A = np.array([[1.0 + 2.0 ** -30]])  # not a binary32 value
    assert fastref.fast_pairwise(A, A, np.zeros((1, 1)), 23, -126, 127) is None
    assert fastref.fast_pairwise(np.ones((1, 1)), np.ones((1, 1)), np.zeros((1, 1)), 10, -14, 15) is None
    assert fastref.fast_exact_odd(np.ones((2, 0)), np.ones((3, 0)), np.zeros((2, 3))) is None


def _both_routes(monkeypatch, *args, **kw):
    monkeypatch.setattr(accumulate, "FAST_REFERENCES", False)
    slow = nx.matmul(*args, **kw)
    monkeypatch.setattr(accumulate, "FAST_REFERENCES", True)
    fast = nx.matmul(*args, **kw)
    return slow, fast


FORMATS = ["e4m3", "e5m2", "fp16", "bf16", "fp32", "int8", "posit16", "e2m1"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("preset", ["exact", "fp32", "fp32_pairwise", "fp16"])
def test_matmul_fast_and_reference_agree(monkeypatch, preset, fmt):
    f = nx.get_format(fmt)
    rng = np.random.default_rng(6)
    a = f.quantize(rng.standard_normal((7, 40)) * 3, saturate=True)
    b = f.quantize(rng.standard_normal((40, 5)) * 3, saturate=True)
    acc_fmt = nx.get_accumulator(preset).out_format
    c = acc_fmt.quantize(rng.standard_normal((7, 5)), saturate=True)
    c[0, 0] = -0.0
    with np.errstate(all="ignore"):
        slow, fast = _both_routes(monkeypatch, a, b, preset, c=c, a_format=fmt, b_format=fmt)
    _same(slow, fast)


@pytest.mark.parametrize("preset", ["exact", "fp32", "fp32_pairwise", "fp16"])
def test_matmul_specials_and_signed_zeros(monkeypatch, preset):
    a = np.array([[0.0, -0.0, 1.0], [np.inf, 1.0, 0.0], [-0.0, -0.0, -0.0]], np.float32)
    b = np.array([[-1.0, 0.0], [1.0, np.nan], [-0.0, 2.0]], np.float32)
    c = np.array([[-0.0, -0.0], [0.0, -0.0], [-0.0, 0.0]])
    with np.errstate(all="ignore"):
        slow, fast = _both_routes(monkeypatch, a, b, preset, c=c)
    assert np.array_equal(np.isnan(slow), np.isnan(fast))
    _same(np.where(np.isnan(slow), 0.0, slow), np.where(np.isnan(fast), 0.0, fast))


_f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@given(st.integers(1, 5), st.integers(0, 12), st.integers(1, 5), st.data(),
       st.sampled_from(["exact", "fp32", "fp32_pairwise", "fp16"]))
def test_matmul_routes_agree_fuzz(m, k, n, data, preset):
    a = np.array(data.draw(st.lists(_f32, min_size=m * k, max_size=m * k)), np.float32).reshape(m, k)
    b = np.array(data.draw(st.lists(_f32, min_size=k * n, max_size=k * n)), np.float32).reshape(k, n)
    with np.errstate(all="ignore"):
        accumulate.FAST_REFERENCES = False
        try:
            slow = nx.matmul(a, b, preset)
        finally:
            accumulate.FAST_REFERENCES = True
        fast = nx.matmul(a, b, preset)
    _same(slow, fast)


@pytest.mark.parametrize("preset", ["exact", "fp32", "fp32_pairwise", "fp16", "nv_hopper", "amd_cdna3"])
def test_matmul_by_row_chunks_under_a_bar_changes_nothing(monkeypatch, capsys, preset):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((70, 24)).astype(np.float16)
    b = rng.standard_normal((24, 9)).astype(np.float16)
    whole = nx.matmul(a, b, preset)
    monkeypatch.setattr(accumulate, "PROGRESS_WORK", 1)
    monkeypatch.setattr(accumulate, "PROGRESS_DELAY_S", 0.0)
    chunked = nx.matmul(a, b, preset)
    assert f"matmul {preset}" in capsys.readouterr().err
    _same(whole, chunked)
