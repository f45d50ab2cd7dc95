"""The timing/energy/accuracy model: tiny hand-derived configurations with exact answers, invariants
with hypothesis, the 2:4 realism check against torchao's A100 measurement, networks and reports."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accel
from accel.network import linear_training

OS = accel.Dataflow.OS


def _systolic(memories=()):
    unit = accel.SystolicArray(name="t", rows=2, cols=2, dataflow=OS, formats_per_pe={"int8": 1})
    return accel.Design(name="tiny", clock_hz=1e9, unit=unit, memories=memories, mac_pj={"int8": 1.0})


def test_hand_derived_systolic_compute_only():
    # OS 2x2, M=3 N=2 K=4: 2 folds of K + R + C - 2 = 6 cycles -> 12 cycles; 24 MACs of 1 pJ
    r = accel.simulate(_systolic(), accel.Gemm(3, 2, 4, a_format="int8"), accuracy=False)
    assert r.cycles == 12 and r.compute_cycles == 12 and r.seconds == pytest.approx(12e-9)
    assert r.bound == "compute" and r.counts == {("mac", "int8"): 24}
    # dynamic energy 24 pJ; leakage (#17) is the node's density x the MAC area x the run's time
    assert r.energy_j - r.leakage_j == pytest.approx(24e-12) and r.ops == 48
    from accel.memory_model import leakage_w_per_mm2
    assert r.leakage_j == pytest.approx(leakage_w_per_mm2(45.0) * r.area_mm2 * r.seconds) and r.leakage_j > 0
    assert r.utilisation == pytest.approx(24 / (4 * 12))


def test_hand_derived_systolic_with_buffer():
    # OS reads A once per column fold (3*4 B * 1), B once per row fold (4*2 B * 2), writes the int32
    # output once (3*2*4 B): 12 + 16 + 24 = 52 B at 1 GB/s = 52 ns > 12 ns of compute
    buf = accel.MemoryLevel("buf", 1024, 1e9, 2.0)
    r = accel.simulate(_systolic((buf,)), accel.Gemm(3, 2, 4, a_format="int8"), accuracy=False)
    assert r.counts[("buf", "byte")] == 52
    assert r.bound == "buf" and r.seconds == pytest.approx(52e-9) and r.cycles == pytest.approx(52)
    assert _dynamic(r) == pytest.approx({"mac": 24e-12, "buf": 104e-12})


def _dynamic(r) -> dict:
    """The dynamic energies (every component but the leakage, which depends on the area and time)."""
    return {k: v for k, v in r.energy_breakdown_j.items() if k != "leakage"}


def _tensor_core(memories=(), sparse=False):
    cls = accel.SparseTensorCore if sparse else accel.TensorCore
    unit = cls(name="t", sm_count=1, macs_per_cycle={"fp16": 16}, accumulator="fp32", tile_m=4, tile_n=4, tile_k=4,
               warp_m=2, warp_n=2, instruction=(2, 2, 2))
    return accel.Design(name="tc", clock_hz=1e9, unit=unit, memories=memories, mac_pj={"fp16": 1.0})


def test_hand_derived_tensor_core_partial_tiles_and_waves():
    tc = _tensor_core()
    tc2 = tc.replace(unit=accel.TensorCore(name="t", sm_count=2, macs_per_cycle={"fp16": 16}, tile_m=4, tile_n=4,
                                           tile_k=4, warp_m=2, warp_n=2, instruction=(2, 2, 2)))
    # 8 x 4 outputs = 2 tiles on 2 SMs: one wave; K = 6 padded to 8: 4*4*8/16 = 8 cycles
    assert accel.gemm_timing(tc2, accel.Gemm(8, 4, 6)).compute_cycles == 8
    # one SM: two waves
    assert accel.gemm_timing(tc, accel.Gemm(8, 4, 6)).compute_cycles == 16
    # a partial tile costs a whole one
    assert accel.gemm_timing(tc, accel.Gemm(5, 4, 8)).compute_cycles == 16
    # 2:4 sparse: twice the rate on the compressed K
    assert accel.gemm_timing(_tensor_core(sparse=True), accel.Gemm(8, 4, 6, sparsity="2:4")).compute_cycles == 8
    # split-K: one 4x4 output tile, K = 16 in 4 steps, 4 SMs: each SM takes one K step (4 cycles, not 16)
    tc4 = tc.replace(unit=accel.TensorCore(name="t", sm_count=4, macs_per_cycle={"fp16": 16}, tile_m=4, tile_n=4,
                                           tile_k=4, warp_m=2, warp_n=2, instruction=(2, 2, 2)))
    assert accel.gemm_timing(tc4, accel.Gemm(4, 4, 16)).compute_cycles == 4


def test_hand_derived_tensor_core_memory_levels():
    smem = accel.MemoryLevel("smem", 1024, 32e9, 1.0)
    hbm = accel.MemoryLevel("hbm", 10**9, 8e9, 10.0)
    d = _tensor_core((smem, hbm))
    t = accel.gemm_timing(d, accel.Gemm(4, 4, 4, a_format="fp16", out_format="fp16"))
    # compute: 4*4*4/16 = 4 cycles + fill/drain ((4*2 + 4*2)*4 + 4*4*2 = 96 B at 32 B/clk = 3): 7
    assert t.compute_cycles == 7
    # smem: reads by 2x2 warp tiles (32 B of A x 2 + 32 B of B x 2) + fills 64 + output in and out 2*32
    assert t.counts[("smem", "byte")] == 128 + 64 + 64
    # hbm: reads by the 4x4 tile (32 + 32) + output once
    assert t.counts[("hbm", "byte")] == 96
    assert t.counts[("mma", "instruction")] == 8  # (4/2) x (4/2) x (4/2) instructions of 2x2x2
    assert t.level_seconds == pytest.approx({"smem": 8e-9, "hbm": 12e-9})
    assert t.bound == "hbm" and t.seconds == pytest.approx(12e-9)
    r = accel.simulate(d, accel.Gemm(4, 4, 4, a_format="fp16", out_format="fp16"), accuracy=False)
    assert _dynamic(r) == pytest.approx({"mac": 64e-12, "smem": 256e-12, "hbm": 960e-12})


def test_capacity_rule_reuse():
    # operands that fit in the level inside are read once from the level outside
    d = accel.get_design("a100-like")
    t = accel.gemm_timing(d, accel.Gemm(1024, 1024, 1024, a_format="fp16", out_format="fp16"))
    assert t.counts[("hbm", "byte")] == 3 * 1024 * 1024 * 2


def test_sparse_metadata_traffic():
    d = accel.get_design("a100-like")
    g = accel.Gemm(1024, 1024, 1024, a_format="fp16", out_format="fp16")
    dense = accel.gemm_timing(d, g).counts[("hbm", "byte")]
    sparse = accel.gemm_timing(d, g.replace(sparsity="2:4")).counts[("hbm", "byte")]
    # B: half its values (2 B each) plus 2 bits of index per kept value
    assert dense - sparse == 1024 * 1024 * 2 - 1024 * 1024 // 2 * (2 + 2 / 8)


_GEMMS = st.tuples(st.integers(1, 3000), st.integers(1, 3000), st.integers(1, 3000))
_CASES = st.sampled_from([("a100-like", "fp16"), ("a100-like", "int8"), ("h100-like", "e4m3"),
                          ("b200-like", "nvfp4"), ("b200-like", "e4m3"), ("tpu-v1-like", "int8"),
                          ("edge-npu", "int4"), ("scalesim-32x32", "int8")])


@pytest.mark.slow
@settings(max_examples=150)
@given(_GEMMS, _CASES)
def test_invariants(shape, case):
    name, fmt = case
    d = accel.get_design(name)
    g = accel.Gemm(*shape, a_format=fmt)
    r = accel.simulate(d, g, accuracy=False)
    # throughput never exceeds the datasheet peak, utilisation in (0, 1]
    assert r.ops_per_s <= d.peak_ops_per_s(fmt) * (1 + 1e-12)
    assert 0 < r.utilisation <= 1 + 1e-12
    # energy and time are linear in repeats
    r2 = accel.simulate(d, g.replace(count=2), accuracy=False)
    assert r2.energy_j == pytest.approx(2 * r.energy_j) and r2.seconds == pytest.approx(2 * r.seconds)
    # energy is the counts times the table: doubling every entry doubles it
    dd = d.replace(mac_pj={k: 2 * v for k, v in d.energy_table.items()},
                   memories=tuple(m.__class__(m.name, m.size_bytes, m.bandwidth_bytes_per_s, 2 * m.energy_pj_per_byte,
                                              m.instances) for m in d.memories))
    rd = accel.simulate(dd, g, accuracy=False)
    assert rd.energy_j - rd.leakage_j == pytest.approx(2 * (r.energy_j - r.leakage_j))
    # more bandwidth at any level is never slower
    for i, m in enumerate(d.memories):
        faster = accel.set_field(d, f"memories.{i}.bandwidth_bytes_per_s", m.bandwidth_bytes_per_s * 4)
        assert accel.simulate(faster, g, accuracy=False).seconds <= r.seconds * (1 + 1e-12)
    # 2:4 sparsity never lowers throughput where the unit has it
    if isinstance(d.unit, accel.SparseTensorCore) and shape[2] % 4 == 0:
        rs = accel.simulate(d, g.replace(sparsity="2:4"), accuracy=False)
        assert rs.seconds <= r.seconds * (1 + 1e-12)
        assert rs.ops_per_s <= d.peak_ops_per_s(fmt, sparse=True) * (1 + 1e-12)


def test_scalesim_compute_cycles_through_simulate():
    # DESIGN.md: SCALE-Sim prints 146,943 (OS) / 155,135 (WS) for 512^3 on 32 x 32
    d = accel.get_design("scalesim-32x32")
    assert accel.simulate(d, accel.Gemm(512, 512, 512, "int8"), accuracy=False).cycles - 1 == 146_943
    ws = accel.set_field(d, "unit.dataflow", "ws")
    assert accel.simulate(ws, accel.Gemm(512, 512, 512, "int8"), accuracy=False).cycles - 1 == 155_135


# a100-like's dense GEMM mechanisms are fitted on LLMCompass's A100 matmul table (tests/test_llm_timing.py);
# its 2:4-sparse efficiency on the dense/sparse ratio of PyTorch's 2:4 tutorial (a 3072 x 10240 x 3072 FP16
# linear layer, 0.870 ms dense, 0.630 ms sparse on an A100 80GB: 1.381x). That tutorial's absolute times
# are 18 % slower than the mechanisms predict: the two A100 measurement sets disagree (docs/validation.md).
def test_a100_kernel_efficiency_calibration():
    d = accel.get_design("a100-like")
    g = accel.Gemm(3072, 3072, 10240, a_format="fp16", out_format="fp16")
    dense = accel.simulate(d, g, accuracy=False)
    sparse = accel.simulate(d, g.replace(sparsity="2:4"), accuracy=False)
    assert (dense.bound, sparse.bound) == ("compute", "l2")  # the sparse kernel is L2-bound (see the preset)
    assert dense.seconds / sparse.seconds == pytest.approx(0.870 / 0.630, rel=2e-3)  # 1.379x
    assert dense.seconds == pytest.approx(0.716e-3, rel=2e-3)  # the tutorial measured 0.870 ms: -18 %
    # the peaks stay the datasheet's
    assert d.peak_ops_per_s("fp16") == pytest.approx(312e12, rel=1e-3)


# ... and checked on another: torchao's semi-structured training benchmark on the ViT-L MLP shapes
# (m, k, n) on an A100 times the linear layer's training step (forward + both backward GEMMs, runtime
# 2:4 weights for the forward and input-gradient GEMMs): dense 1.661 / 1.643 ms, sparse 1.342 / 1.294 ms
# (1.24x / 1.27x; the sparse times include 0.085 / 0.301 ms of runtime pruning the model does not have).
# The model: dense 1.314 ms (-21 % / -20 %, the same disagreement as above), sparse 1.058 ms, 1.24x.
VIT_L = [((13008, 1024, 4096), 1.660793e-3, 1.341983e-3), ((13008, 4096, 1024), 1.642992e-3, 1.294284e-3)]


@pytest.mark.parametrize("mkn, dense_s, sparse_s", VIT_L)
def test_sparse_realism_a100(mkn, dense_s, sparse_s):
    m, k, n = mkn
    d = accel.get_design("a100-like")
    dense = accel.simulate(d, linear_training(m, k, n), accuracy=False).seconds
    sparse = accel.simulate(d, linear_training(m, k, n, sparsity="2:4"), accuracy=False).seconds
    assert 1.1 <= dense / sparse <= 1.4  # the measured band, not the ideal 2x
    assert dense == pytest.approx(dense_s, rel=0.25)
    assert sparse == pytest.approx(sparse_s, rel=0.25)
    # a lone forward GEMM: 1.41x / 1.43x (the ideal unit would give 1.95x / 1.99x)
    g = accel.Gemm(m, n, k, a_format="fp16", out_format="fp16")
    fwd = accel.simulate(d, g, accuracy=False).seconds / accel.simulate(d, g.replace(sparsity="2:4"),
                                                                       accuracy=False).seconds
    assert 1.1 <= fwd <= 1.45
    ideal = accel.set_field(accel.set_field(d, "unit.kernel_efficiency", 1.0), "unit.sparse_kernel_efficiency", 1.0)
    ideal = accel.set_field(accel.set_field(ideal, "unit.launch_s", 0.0), "unit.tile_latency_s", 0.0)
    ideal = accel.set_field(ideal, "unit.tile_shapes", ())  # one tile: the plain roofline
    fwd_ideal = accel.simulate(ideal, g, accuracy=False).seconds / accel.simulate(
        ideal, g.replace(sparsity="2:4"), accuracy=False).seconds
    assert 1.9 < fwd_ideal <= 2.0


@pytest.mark.slow
def test_accuracy_report_and_sampling():
    d = accel.get_design("h100-like")
    r = accel.simulate(d, accel.Gemm(300, 200, 256, a_format="e4m3", seed=1))
    assert r.accuracy["outputs_computed"] == 128 * 128
    assert 0 < r.accuracy["rel_fro_err"] < 0.1 and 20 < r.accuracy["sqnr_db"] < 40
    assert r.accuracy == accel.simulate(d, accel.Gemm(300, 200, 256, a_format="e4m3", seed=1)).accuracy  # seeded
    fp16 = accel.simulate(d, accel.Gemm(64, 64, 256, a_format="fp16", seed=1)).accuracy
    assert fp16["outputs_computed"] == 64 * 64 and fp16["sqnr_db"] > 60
    # given operands are used, and exact inputs on the exact accumulator give zero error
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = np.ones((4, 2))
    ex = accel.Design(name="x", clock_hz=1e9, unit=accel.SystolicArray(name="s", rows=2, cols=2,
                      formats_per_pe={"fp16": 1}, accumulator="exact"))
    res = accel.simulate(ex, accel.Gemm(3, 2, 4, a_format="fp16", a=a, b=b)).accuracy
    assert res["rel_fro_err"] == 0 and math.isinf(res["sqnr_db"]) and res["max_abs_err"] == 0


def test_quantized_matmul_matches_numerics():
    import numerics as nx
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((16, 64)), rng.standard_normal((64, 8))
    e4 = nx.get_format("e4m3")
    got = accel.quantized_matmul(a, b, "e4m3", "e4m3", "nv_hopper_fp8", scaling="none")
    want = nx.matmul(e4.quantize(a), e4.quantize(b), "nv_hopper_fp8", a_format=e4, b_format=e4)
    assert np.array_equal(got, want)
    mx = nx.get_block_format("mxfp8_e4m3")
    got = accel.quantized_matmul(a, b, "mxfp8_e4m3", "mxfp8_e4m3", "nv_blackwell_mx")
    assert np.array_equal(got, nx.matmul(mx.encode(a.astype(np.float32), axis=1),
                                         mx.encode(b.astype(np.float32), axis=0), "nv_blackwell_mx"))


@pytest.mark.slow
def test_digits_mlp_accuracy_and_retraining():
    from accel.digits import float_predict, load_mlp, split, train_mlp
    w = load_mlp()
    retrained = train_mlp()
    for key in w:  # the vendored weights are what the script regenerates
        np.testing.assert_allclose(retrained[key], w[key], rtol=0, atol=1e-5)
    _, _, xte, yte = split()
    assert (float_predict(w, xte).argmax(1) == yte).mean() > 0.97
    d = accel.get_design("edge-npu")
    r8 = accel.simulate(d, accel.digits_mlp("int8")).accuracy
    assert r8["top1_float"] > 0.97 and abs(r8["top1"] - r8["top1_float"]) <= 0.01 and r8["agreement"] > 0.99
    r4 = accel.simulate(d, accel.digits_mlp("int4")).accuracy
    assert r4["rel_fro_err"] > r8["rel_fro_err"]


@pytest.mark.slow
def test_transformer_block_uses_real_weights():
    net = accel.transformer_block()
    g = {x.name: x for x in net.gemms()}
    assert g["q_proj"].b.shape == (384, 384) and g["ffn2"].b.shape == (1536, 384)
    sp = {x.name: x.sparsity for x in net.replace(sparsity="2:4").gemms()}
    assert sp["scores"] is None and sp["ffn1"] == "2:4"
    r = accel.simulate(accel.get_design("h100-like"), net.replace(a_format="e4m3"))
    assert r.ops == 2 * sum(x.macs for x in net.gemms()) and 0 < r.accuracy["rel_fro_err"] < 0.1


def test_errors():
    d = accel.get_design("a100-like")
    with pytest.raises(ValueError, match="has no 'e4m3' rate"):
        accel.simulate(d, accel.Gemm(8, 8, 8, a_format="e4m3"))
    with pytest.raises(ValueError, match="no 2:4 sparse mode"):
        accel.simulate(accel.get_design("tpu-v1-like"), accel.Gemm(8, 8, 8, "int8", sparsity="2:4"))
    with pytest.raises(ValueError, match="supports 2:4 sparsity, not '1:4'"):
        accel.simulate(d, accel.Gemm(8, 8, 8, sparsity="1:4"))
    with pytest.raises(ValueError, match="Gemm.m must be a positive int"):
        accel.Gemm(0, 1, 1)
    with pytest.raises(ValueError, match="Gemm.a must have shape"):
        accel.Gemm(2, 2, 2, a=np.ones((3, 2)))
    with pytest.raises(ValueError, match="sparsity must be None or 'n:m'"):
        accel.Gemm(2, 2, 2, sparsity="50%")
    with pytest.raises(ValueError, match="unknown format 'fp7'"):
        accel.Gemm(2, 2, 2, a_format="fp7")
    with pytest.raises(TypeError, match="workload must be a Gemm, Network or transformer Layer"):
        accel.simulate(d, "gemm")
    with pytest.raises(ValueError, match="dist must be one of"):
        accel.Gemm(2, 2, 2, dist="cauchy")
