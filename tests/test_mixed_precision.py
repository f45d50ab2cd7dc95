"""Issue #17 item 4: mixed precision everywhere; timing, energy and accuracy accept the same pairs."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel import get_design, simulate
from accel.accuracy import quantized_matmul
from accel.workloads import Gemm, mma_formats

FORMATS = ["fp16", "e4m3", "e2m1", "int8", "mxfp4", "nvfp4", "int4_g128"]
DESIGNS = ["h100-like", "b200-like"]


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("b", FORMATS)
@pytest.mark.parametrize("a", ["fp16", "int8", "mxfp8_e4m3"])
def test_timing_energy_accuracy_agree(design, a, b):
    """Either the Gemm is refused at construction (no kernel), or the unit refuses the MMA formats in
    both the timing-only and the accuracy run with the same message, or both runs succeed with the same
    timing and energy and finite split metrics."""
    try:
        g = Gemm(32, 32, 128, a, b, seed=2)
    except ValueError as err:
        assert "share the block size" in str(err)
        return
    d = get_design(design)
    outcomes = []
    for acc in (False, True):
        try:
            outcomes.append(simulate(d, g, accuracy=acc))
        except ValueError as err:
            outcomes.append(str(err))
    fast, full = outcomes
    if isinstance(fast, str):
        assert fast == full and ("computes" in fast or "rate" in fast)
        return
    assert not isinstance(full, str), full
    assert (fast.seconds, fast.energy_j) == (full.seconds, full.energy_j)
    assert math.isfinite(fast.energy_j) and fast.energy_j > 0
    for k in ("rel_err_total", "rel_err_accumulation", "rel_err_quantization"):
        assert math.isfinite(full.accuracy[k]), (k, full.accuracy)


@pytest.mark.parametrize("a, b, expect", [
    ("e4m3", "e2m1", ("e4m3", "e2m1", None)),
    ("int8", "int4", ("int8", "int4", None)),
    ("mxfp8_e4m3", "mxfp4", ("mxfp8_e4m3", "mxfp4", None)),
    ("int8", "int4_g128", ("int8", "int8", "b")),
    ("fp16", "int4_g128", ("fp16", "fp16", "b")),
    ("e4m3", "mxfp4", ("e4m3", "e4m3", "b")),
    ("nvfp4", "fp16", ("fp16", "fp16", "a")),
    ("fp16", "int8", ("fp16", "fp16", "b")),
    ("int8", "bf16", ("bf16", "bf16", "a")),
    ("int8", "e2m1", ("int8", "int8", "b")),
    ("int8", "e4m3", ("e4m3", "e4m3", "a")),
])
def test_mma_formats_table(a, b, expect):
    assert mma_formats(a, b) == expect


@pytest.mark.parametrize("a, b", [("nvfp4", "mxfp8_e4m3"), ("mxfp4", "int4_g128")])
def test_mismatched_block_sizes_refused(a, b):
    with pytest.raises(ValueError, match="must share the block size"):
        Gemm(8, 8, 128, a, b)


def test_weight_only_is_dequantise_then_gemm():
    """fp16 x int4_g128: the weights' int4 group values, rounded into fp16, then an fp16 GEMM."""
    import numerics as nx
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 256)), rng.standard_normal((256, 8))
    got = quantized_matmul(a, b, "fp16", "int4_g128", "fp32")
    fp16 = nx.get_format("fp16")
    bw = fp16.quantize(nx.get_block_format("int4_g128").encode(b.astype(np.float32), axis=0).decode())
    want = nx.matmul(fp16.quantize(a), bw, "fp32", a_format=fp16, b_format=fp16)
    assert got.tolist() == want.tolist()


def test_w4a8_accuracy_on():
    """W4A8 (int8 activations, int4 group weights) runs with accuracy on, and its quantisation error
    exceeds int8 x int8's."""
    d = get_design("h100-like")
    w4 = simulate(d, Gemm(64, 64, 512, "int8", "int4_g128", seed=4)).accuracy
    w8 = simulate(d, Gemm(64, 64, 512, "int8", "int8", seed=4)).accuracy
    assert w4["rel_err_quantization"] > w8["rel_err_quantization"] > 0
    assert w4["rel_err_accumulation"] == 0.0


ALL = ["fp16", "bf16", "e4m3", "e5m2", "e2m1", "int8", "int4", "mxfp8_e4m3", "mxfp4", "nvfp4", "int4_g128", "int8_g128"]


@given(a_fmt=st.sampled_from(ALL), b_fmt=st.sampled_from(ALL), k=st.integers(1, 70), seed=st.integers(0, 2**32 - 1),
       sparsity=st.sampled_from([None, "2:4"]), scaling=st.sampled_from(["auto", "tensor", "channel", "none"]))
@settings(max_examples=40)
def test_fuzz_mixed_pairs(a_fmt, b_fmt, k, seed, sparsity, scaling):
    """Any pair of formats: a ValueError naming the block sizes, or finite results whose exact part is the
    float64 product of the operands the MMA consumed."""
    from accel.accuracy import exact_product, quantize_operands
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((3, k)), rng.standard_normal((k, 2))
    try:
        d, dq = quantized_matmul(a, b, a_fmt, b_fmt, "fp32", scaling, sparsity, exact=True)
    except ValueError as err:
        assert "block size" in str(err) or "N:M" in str(err) or "sparse" in str(err), str(err)
        return
    assert d.shape == dq.shape == (3, 2) and np.isfinite(dq).all()
    _, scales, _, vals = quantize_operands(a, b, a_fmt, b_fmt, scaling, sparsity)
    assert dq.tolist() == exact_product(vals, scales).tolist()


def test_w4a8_on_a_unit_without_int4_names_the_dequantised_route():
    # B200 has no INT4 MMA (datasheet; tcgen05.mma has no 4-bit integer kind): the error says how W4A8 runs
    d = get_design("b200-like")
    with pytest.raises(ValueError, match=r"without 'int4' MMA runs such a GEMM with the 'int4' operand dequantised "
                                         r"to 'int8'.*int4_g128_e4m3"):
        simulate(d, Gemm(64, 64, 256, a_format="int8", b_format="int4"), accuracy=False)
    # the route it names works
    r = simulate(d, Gemm(64, 64, 256, a_format="int8", b_format="int4_g128_e4m3"), accuracy=False)
    assert r.seconds > 0


def test_w4a8_sweep_with_accuracy_on(tmp_path):
    """Issue #17's "A W4A8 sweep runs with accuracy on", as a user writes it: a sweep over the weight format
    with INT8 activations, accuracy on, logged (so the accuracy cache sits beside the log). Every weight
    format runs; INT8 accumulation is exact, so all the error is the weights' quantisation, larger at 4 bits.
    Plain INT4 (no group scale) is refused on H100 (no INT4 MMA) with an error row naming the route."""
    import accel
    out = tmp_path / "w4a8.jsonl"
    rows = accel.sweep(get_design("h100-like"), {"workload.b_format": ["int8", "int4_g128", "nvfp4", "int4"]},
                       [Gemm(64, 64, 512, "int8", seed=3)], accuracy=True, progress=False, out=out)
    by = {r["workload.b_format"]: r for r in rows}
    assert "dequantised to 'int8'" in by["int4"]["error"]
    ok = [by[f] for f in ("int8", "int4_g128", "nvfp4")]
    assert all("error" not in r and r["rel_err_accumulation"] == 0.0 for r in ok)
    assert by["int8"]["rel_err_quantization"] < by["nvfp4"]["rel_err_quantization"]
    assert by["int8"]["rel_err_quantization"] < by["int4_g128"]["rel_err_quantization"]
    assert all(r["rel_err_total"] == r["rel_err_quantization"] for r in ok)
    assert (tmp_path / "w4a8.jsonl.accuracy.jsonl").exists()
