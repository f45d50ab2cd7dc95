"""Issue #17 item 1: accuracy split by cause (accumulator and epilogue alone, operand quantisation alone)."""

import dataclasses

import numpy as np
import pytest

from accel import get_design, simulate
from accel.accuracy import error_metrics, gemm_accuracy, quantized_matmul, split_metrics
from accel.network import digits_mlp
from accel.workloads import Gemm

SPLIT = ("rel_err_total", "rel_err_accumulation", "rel_err_quantization")


def _with_acc(design, fmt, acc):
    return design.replace(unit=dataclasses.replace(design.unit, accumulator={**design.unit.accumulator, fmt: acc}))


@pytest.mark.parametrize("fmt", ["e4m3", "int8", "mxfp8_e4m3", "fp16"])
def test_split_definitions(fmt):
    """Each metric is its definition recomputed independently on the same sample."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((16, 64)), rng.standard_normal((64, 12))
    d, dq = quantized_matmul(a, b, fmt, fmt, "fp32", exact=True)
    ref = a @ b
    res = split_metrics(d, dq, ref)
    fro = np.linalg.norm
    assert res["rel_err_total"] == pytest.approx(fro(d - ref) / fro(ref), rel=1e-12)
    assert res["rel_err_accumulation"] == pytest.approx(fro(d - dq) / fro(dq), rel=1e-12)
    assert res["rel_err_quantization"] == pytest.approx(fro(dq - ref) / fro(ref), rel=1e-12)
    assert res["rel_err_total"] == res["rel_fro_err"]
    assert quantized_matmul(a, b, fmt, fmt, "fp32").tolist() == d.tolist()


def test_exact_accumulator_has_no_accumulation_error_for_integers():
    g = Gemm(32, 32, 256, "int8", seed=3)
    r = gemm_accuracy(g, "int32")
    assert r["rel_err_accumulation"] == 0.0
    assert r["rel_err_quantization"] == r["rel_err_total"] > 0


def test_hopper_fp8_accumulator_error_is_visible():
    """Study A's question: the report shows the accumulator's own error; the quantisation part does not
    depend on the accumulator, and the FP32 accumulator's part is orders below the Hopper FP8 one's."""
    h = get_design("h100-like")
    g = Gemm(128, 128, 4096, "e4m3", sparsity="2:4", seed=1)
    res = {acc: simulate(_with_acc(h, "e4m3", acc), g).accuracy
           for acc in ("nv_hopper_fp8", "nv_hopper_fp8_promote128")}
    hop, pro = res["nv_hopper_fp8"], res["nv_hopper_fp8_promote128"]
    assert hop["rel_err_quantization"] == pro["rel_err_quantization"]
    assert hop["rel_err_accumulation"] > 5 * pro["rel_err_accumulation"] > 0
    for r in res.values():
        assert set(SPLIT) <= set(r) and r["k_sampled"] == 4096 and r["outputs_computed"] == 128 * 128


def test_split_in_to_dict_and_chain():
    r = simulate(get_design("edge-npu"), digits_mlp("int8"))
    assert set(SPLIT) <= set(r.accuracy) and set(SPLIT) <= set(r.to_dict())
    assert r.accuracy["rel_err_accumulation"] == 0.0  # int32 accumulation of int8 products is exact


def test_nonfinite_hardware_output():
    d = np.array([[np.inf, 1.0]])
    ref = np.array([[1.0, 1.0]])
    r = split_metrics(d, ref, ref)
    assert r["rel_err_total"] == r["rel_err_accumulation"] == float("inf") and r["rel_err_quantization"] == 0.0
    assert r == {**error_metrics(d, ref), **{k: r[k] for k in SPLIT}}


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_exact_flag_type(bad):
    with pytest.raises(TypeError, match="exact must be True or False"):
        quantized_matmul(np.ones((2, 2)), np.ones((2, 2)), "fp16", "fp16", "fp32", exact=bad)
