"""K that is not a whole number of a grouped accumulator's fused steps (Blackwell NVFP4 sums 64 terms per
step): accel.simulate's accuracy path zero-pads K as the hardware pads a partial K tile, for a Gemm and for
a Layer, and the padding changes no quantised value."""

import numpy as np
import pytest

import accel
import numerics as nx
from accel.accuracy import gemm_accuracy, pad_k, quantized_matmul


@pytest.fixture(scope="module")
def operands():
    rng = np.random.default_rng(3)
    return rng.standard_normal((24, 72)), rng.standard_normal((72, 16))  # K = 72: a 3x3 conv on 8 channels


def test_simulate_gemm_and_layer_with_nvfp4_k_not_multiple_of_64(operands):
    a, b = operands
    d = accel.get_design("b200-like")
    g = accel.Gemm(24, 16, 72, a_format="nvfp4", a=a, b=b, name="conv")
    r = accel.simulate(d, g, accuracy=True)
    assert r.accuracy["k_sampled"] == 72
    layer = accel.Layer("one", (g,), {})
    per_op = accel.simulate(d, layer, accuracy=True).per_op[0]["accuracy"]
    # the same GEMM with K padded by hand to 128: the same numbers
    ap, bp = np.pad(a, ((0, 0), (0, 56))), np.pad(b, ((0, 56), (0, 0)))
    padded = gemm_accuracy(g.replace(k=128, a=ap, b=bp), "nv_blackwell_nvfp4")
    got = gemm_accuracy(g, "nv_blackwell_nvfp4")
    assert {k: v for k, v in got.items() if k != "k_sampled"} == {k: v for k, v in padded.items() if k != "k_sampled"}
    assert r.accuracy["rel_fro_err"] == pytest.approx(got["rel_fro_err"], rel=0, abs=0)
    assert per_op["rel_fro_err"] == pytest.approx(got["rel_fro_err"], rel=0, abs=0)


def test_padding_changes_no_quantised_value(operands):
    """Independent of the accumulator: the padded grouped GEMM equals the float64 product of the NVFP4-quantised
    unpadded operands (blocks along K, the last one partial) up to its FP32 output rounding."""
    a, b = operands
    bf = nx.get_block_format("nvfp4")
    want = bf.quantize(a, axis=1) @ bf.quantize(b, axis=0)
    ap, bp = pad_k(a, b, "nv_blackwell_nvfp4")
    assert ap.shape == (24, 128) and bp.shape == (128, 16)
    got, _ = quantized_matmul(ap, bp, "nvfp4", "nvfp4", "nv_blackwell_nvfp4", exact=True)
    assert np.all(np.abs(got - want) <= 2.0**-22 * np.abs(want) + 1e-300)


@pytest.mark.parametrize("acc", ["fp32", "nv_hopper_fp8", "exact"])
def test_no_padding_for_other_accumulators(operands, acc):
    a, b = operands
    ap, bp = pad_k(a, b, acc)
    assert ap is a and bp is b
