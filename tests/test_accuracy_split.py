"""Issue #17 item 1: accuracy split by cause (accumulator and epilogue alone, operand quantisation alone)."""

import dataclasses
import math

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


# -- accuracy cache (issue #17 item 3) ------------------------------------------------------------------

def test_cache_shared_across_array_sizes(tmp_path):
    from accel.accuracy import AccuracyCache
    cache = AccuracyCache(tmp_path / "acc.jsonl")
    d = get_design("edge-npu")
    g = Gemm(64, 64, 256, "int8", seed=9)
    plain = simulate(d, g).accuracy
    r1 = simulate(d, g, accuracy_cache=cache)
    bigger = d.replace(unit=dataclasses.replace(d.unit, rows=128))
    r2 = simulate(bigger, g, accuracy_cache=cache)
    assert (cache.misses, cache.hits) == (1, 1)
    assert r1.accuracy == r2.accuracy == plain
    assert r2.seconds != r1.seconds  # the timing was recomputed
    # another process (a sweep worker) opening the same file sees the entry
    other = AccuracyCache(tmp_path / "acc.jsonl")
    assert len(other) == 1 and simulate(d, g, accuracy_cache=other).accuracy == plain and other.hits == 1


def test_cache_key_separates_what_matters(tmp_path):
    import numpy as np

    from accel.accuracy import accuracy_key
    g = Gemm(16, 16, 64, "e4m3", seed=1)
    keys = {accuracy_key(g, "fp32"), accuracy_key(g, "nv_hopper_fp8"), accuracy_key(g.replace(seed=2), "fp32"),
            accuracy_key(g.replace(b_format="e2m1"), "fp32"), accuracy_key(g.replace(scaling="channel"), "fp32"),
            accuracy_key(g.replace(k=128), "fp32"), accuracy_key(g, "fp32", max_k=32)}
    assert len(keys) == 7
    assert accuracy_key(g.replace(name="other", count=4), "fp32") == accuracy_key(g, "fp32")
    a = np.ones((16, 64))
    assert accuracy_key(g.replace(a=a), "fp32") != accuracy_key(g.replace(a=2 * a), "fp32")


def test_cache_file_errors(tmp_path):
    from accel.accuracy import AccuracyCache
    p = tmp_path / "bad.jsonl"
    p.write_text('{"key": "k", "metrics": {}}\nnot json\n')
    with pytest.raises(ValueError, match="bad.jsonl: a line of the accuracy cache is not a cache entry"):
        AccuracyCache(p)
    p.write_text('{"key": "k", "metrics": {"rel_fro_err": 1.0}}\n{"key": "half')  # a write under way
    assert AccuracyCache(p).get("k") == {"rel_fro_err": 1.0}
    with pytest.raises(OSError, match="cannot open the accuracy cache"):
        AccuracyCache(tmp_path / "missing" / "acc.jsonl")
    with pytest.raises(TypeError, match="path must be None, a str or os.PathLike"):
        AccuracyCache(3)
    with pytest.raises(TypeError, match="accuracy_cache must be None or an accel.accuracy.AccuracyCache"):
        simulate(get_design("edge-npu"), Gemm(8, 8, 8, "int8"), accuracy_cache={})


def test_cache_round_trips_inf(tmp_path):
    from accel.accuracy import AccuracyCache
    c = AccuracyCache(tmp_path / "c.jsonl")
    c.put("k", {"rel_fro_err": float("inf"), "nonfinite_outputs": 3})
    assert AccuracyCache(tmp_path / "c.jsonl").get("k") == {"rel_fro_err": float("inf"), "nonfinite_outputs": 3}


def test_cache_serves_dense_chains(tmp_path):
    from accel.accuracy import AccuracyCache
    cache = AccuracyCache(tmp_path / "acc.jsonl")
    d = get_design("edge-npu")
    plain = simulate(d, digits_mlp("int8")).accuracy
    first = simulate(d, digits_mlp("int8"), accuracy_cache=cache).accuracy
    again = simulate(d.replace(clock_hz=2e9), digits_mlp("int8"), accuracy_cache=cache).accuracy
    other = simulate(d, digits_mlp("int8", "int4_g128"), accuracy_cache=cache).accuracy
    assert first == again == plain and other != plain
    assert (cache.hits, cache.misses) == (1, 2)


@pytest.mark.parametrize("scale", [1.0, 2.0 ** -1000, 1e-200, 1e160, 2.0 ** 1000])
def test_error_metrics_at_the_ends_of_the_float_range(scale):
    """The relative error and SQNR do not depend on the outputs' scale: at 1e-200 the squares underflowed to a false
    0 error, at 1e160 they overflowed to nan (audit s32 F1). Checked against exact fractions of the same data."""
    from fractions import Fraction

    from accel.accuracy import error_metrics
    rng = np.random.default_rng(2)
    ref = rng.standard_normal((5, 7))
    d = ref + 1e-3 * rng.standard_normal((5, 7))
    e2 = sum((Fraction(x) - Fraction(y)) ** 2 for x, y in zip(d.ravel(), ref.ravel()))
    r2 = sum(Fraction(y) ** 2 for y in ref.ravel())
    want = math.sqrt(e2 / r2)
    got = error_metrics(d * scale, ref * scale)
    assert got["rel_fro_err"] == pytest.approx(want, rel=1e-12)
    assert got["sqnr_db"] == pytest.approx(-20 * math.log10(want), rel=1e-12)


def test_analog_exact_accumulator_at_tiny_and_huge_operands():
    """A crossbar with the exact accumulator gives the same error whatever the operands' scale (the abs-max mapping
    is scale-free): not 0.0 at 1e-200 nor nan at 1e160."""
    import dataclasses

    import accel
    d = accel.get_design("wang-c2c-like")
    d = d.replace(unit=dataclasses.replace(d.unit, accumulator="exact"))
    a = np.random.default_rng(0).standard_normal((8, 16))
    b = np.random.default_rng(1).standard_normal((16, 16))
    errs = [accel.simulate(d, accel.Gemm(8, 16, 16, a=a * s, b=b)).accuracy["rel_fro_err"] for s in (1, 1e-200, 1e160)]
    assert errs[0] > 0.001
    assert errs[1] == pytest.approx(errs[0], rel=1e-9) and errs[2] == pytest.approx(errs[0], rel=1e-9)
