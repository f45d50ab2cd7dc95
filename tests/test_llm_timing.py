"""The timing model against measured silicon (LLMCompass's A100 tables) and the LLM-layer workload: GEMM
mechanisms, element-wise ops, batched GEMMs, ring all-reduce, transformer_layer and its per-op report,
with hand-derived configurations and the bad-input errors."""

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accel
from accel.llmcompass import (
    GEMM_FIT_ROWS,
    LAYER_OPS,
    allreduce_predictions,
    elementwise_predictions,
    errors,
    gemm_predictions,
    layer_rows,
)

ROOT = Path(__file__).resolve().parents[1]


def _errs(rows, fit=None):
    return errors([(r["model_s"], r["measured_s"]) for r in rows if fit is None or r["fit"] == fit])


# -- GEMMs: the target on LLMCompass's A100 table (today's single constant: 16 % / 91 %) --------
def test_a100_gemm_table():
    rows = gemm_predictions(accel.get_design("a100-like"))
    assert len(rows) == 20 and sum(r["fit"] for r in rows) == len(GEMM_FIT_ROWS)
    every, held_out = _errs(rows), _errs(rows, fit=False)
    assert every["median"] <= 0.10 and every["max"] <= 0.25  # model: 1.7 % / 4.4 %
    assert held_out["median"] <= 0.05 and held_out["max"] <= 0.10  # the 16 rows not fitted: 2.1 % / 4.4 %


def test_gemm_fit_reproduces_the_preset():
    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "scripts" / "calibrate_llmcompass.py")
    cal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cal)
    got = cal.fit_gemm(accel.get_design("a100-like"))
    u = accel.get_design("a100-like").unit
    assert got["launch_s"] == pytest.approx(u.launch_s, rel=0.01)
    assert got["kernel_efficiency"] == pytest.approx(u.kernel_efficiency, rel=0.01)
    assert got["tile_latency_s"] == pytest.approx(u.tile_latency_s, rel=0.03)


# per-table targets: every element-wise table median <= 10 %, max <= 15 %
@pytest.mark.parametrize("kind, median, worst", [("softmax", 0.10, 0.15), ("layernorm", 0.05, 0.10),
                                                 ("gelu", 0.02, 0.03)])
def test_a100_elementwise_tables(kind, median, worst):
    e = _errs(elementwise_predictions(accel.get_design("a100-like"), kind))
    assert e["median"] <= median and e["max"] <= worst


def test_a100_allreduce_table():
    rows = allreduce_predictions(accel.get_design("a100-like"))
    assert _errs(rows)["median"] <= 0.05  # 3.2 %
    held = _errs(rows, fit=False)
    assert held["median"] <= 0.10 and held["max"] <= 0.25  # the 26 sizes not fitted: 5.7 % / 24.8 %
    # NCCL's protocols in the order its tuner uses them as messages grow: LL, LL128, Simple
    order = [r["protocol"] for r in rows]
    assert order == sorted(order, key=["ll", "ll128", "simple"].index)
    assert order[0] == "ll" and order[-1] == "simple" and "ll128" in order


def test_allreduce_fit_reproduces_the_preset():
    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "scripts" / "calibrate_llmcompass.py")
    cal = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cal)
    ic = accel.get_design("a100-like").interconnect
    got = cal.fit_allreduce(ic.bandwidth_bytes_per_s)
    assert got.pop("simple") == pytest.approx((ic.latency_s, ic.bandwidth_fraction), rel=1e-3)
    assert got == {k: pytest.approx(v, rel=1e-3) for k, v in ic.protocols.items()}


# -- the GPT-3 175B layer on four A100s: never fitted on, checked here ----------------------------------
@pytest.mark.parametrize("phase, seq, kv, total_tol", [("prefill", 2048, None, 0.05), ("decode", 1, 3072, 0.05)])
def test_gpt3_layer_against_a100(phase, seq, kv, total_tol):
    layer = accel.transformer_layer(12288, 96, 8, seq, phase=phase, kv_len=kv, tp=4, dtype="fp16")
    r = accel.simulate(accel.get_design("a100-like"), layer, accuracy=False)
    meas = layer_rows(phase)
    assert [o["name"] for o in r.per_op] == list(LAYER_OPS)
    assert r.seconds == pytest.approx(sum(meas.values()), rel=total_tol)  # prefill -3.2 %, decode +1.7 %
    e = errors([(o["seconds"], meas[o["name"]]) for o in r.per_op])
    assert e["median"] <= 0.15  # prefill 7.2 %, decode 6.1 %


def test_per_op_report():
    d = accel.get_design("h100-like")
    r = accel.simulate(d, accel.transformer_layer(1024, 16, 2, 128, tp=2), accuracy=False)
    assert [o["name"] for o in r.per_op] == list(LAYER_OPS)
    assert r.seconds == pytest.approx(sum(o["seconds"] for o in r.per_op))
    assert r.energy_j == pytest.approx(sum(o["energy_j"] for o in r.per_op))
    kinds = {o["name"]: o["kind"] for o in r.per_op}
    assert kinds["qk"] == kinds["av"] == "batched_gemm" and kinds["qkv"] == "gemm" and kinds["gelu"] == "gelu"
    assert kinds["allreduce_ffn"] == "allreduce"
    assert all(o["seconds"] > 0 and o["energy_j"] > 0 and isinstance(o["bound"], str) for o in r.per_op)
    one = accel.simulate(d, accel.transformer_layer(1024, 16, 2, 128, tp=1), accuracy=False)
    assert [o["seconds"] for o in one.per_op if o["kind"] == "allreduce"] == [0.0, 0.0]


def test_layer_accuracy_per_gemm():
    d = accel.get_design("h100-like")
    small = {"d_model": 256, "heads": 4, "batch": 2, "seq": 16}
    r16 = accel.simulate(d, accel.transformer_layer(**small, dtype="fp16"))
    r8 = accel.simulate(d, accel.transformer_layer(**small, dtype="fp8"))
    for a, b in zip(r16.per_op, r8.per_op, strict=True):
        assert ("accuracy" in a) == (a["kind"] in ("gemm", "batched_gemm"))
        if a["name"] in ("qkv", "ffn1"):
            assert b["accuracy"]["rel_fro_err"] > a["accuracy"]["rel_fro_err"] > 0
    assert r8.accuracy["rel_fro_err"] == max(o["accuracy"]["rel_fro_err"] for o in r8.per_op if "accuracy" in o)
    b200 = accel.simulate(accel.get_design("b200-like"), accel.transformer_layer(**small, dtype="nvfp4"))
    assert 0 < b200.accuracy["rel_fro_err"] < 0.5


# -- hand-derived mechanisms --------------------------------------------------------------------------------
def _tc(sm=1, **kw):
    unit = accel.TensorCore(name="t", sm_count=sm, macs_per_cycle={"fp16": 16}, tile_m=4, tile_n=4, tile_k=4,
                            warp_m=2, warp_n=2, instruction=(2, 2, 2), **kw)
    return accel.Design(name="tc", clock_hz=1e9, unit=unit)


def test_batched_gemm_is_one_kernel():
    d = _tc(launch_s=1e-6)
    # two 4x4x4 GEMMs: 4 cycles each; batched: one kernel of 2 tiles (2 waves on 1 SM) and one launch
    batched = accel.gemm_timing(d, accel.Gemm(4, 4, 4, count=2, batched=True))
    apart = accel.gemm_timing(d, accel.Gemm(4, 4, 4, count=2))
    assert batched.compute_cycles == apart.compute_cycles == 8
    assert batched.seconds == pytest.approx(8e-9 + 1e-6) and apart.seconds == pytest.approx(8e-9 + 2e-6)
    assert batched.bound == "launch"
    # on 2 SMs the batch's two tiles share one wave
    assert accel.gemm_timing(_tc(sm=2), accel.Gemm(4, 4, 4, count=2, batched=True)).compute_cycles == 4


def test_tile_choice_and_latency():
    # one 4x4 output on 4 SMs: the 4x4 tile is one tile (K = 4: one step, no split) = 4 cycles; a 2x4 tile
    # gives two tiles on two SMs, 2 cycles each: the faster tile wins
    assert accel.gemm_timing(_tc(sm=4), accel.Gemm(4, 4, 4)).compute_cycles == 4
    assert accel.gemm_timing(_tc(sm=4, tile_shapes=((2, 4),)), accel.Gemm(4, 4, 4)).compute_cycles == 2
    # each tile's prologue waits tile_latency_s: 8 x 4 outputs on 1 SM = 2 waves of (4 + 3) cycles
    assert accel.gemm_timing(_tc(tile_latency_s=3e-9), accel.Gemm(8, 4, 4)).compute_cycles == 14


def test_elementwise_hand_derived():
    hbm = accel.MemoryLevel("hbm", 10**9, 1e9, 10.0)
    costs = {"softmax": accel.KernelCost(launch_s=1e-6, bandwidth_fraction=0.5),
             "layernorm": accel.KernelCost(row_buffer_bytes=100, floor_s=2e-6)}
    d = _tc().replace(memories=(hbm,), elementwise=costs)
    # softmax 10 x 100 fp16: read 2000 B + write 2000 B at 0.5 GB/s = 8 us, + 1 us launch
    t = accel.elementwise_timing(d, accel.Elementwise("softmax", 10, 100))
    assert t.seconds == pytest.approx(9e-6) and t.counts[("hbm", "byte")] == 4000 and t.bound == "hbm"
    # layer norm rows of 200 B > the 100 B buffer: read three times, written once: 8000 B at 1 GB/s
    assert accel.elementwise_timing(d, accel.Elementwise("layernorm", 10, 100)).seconds == pytest.approx(8e-6)
    # a tiny one sits on the floor; a residual add reads two tensors; kinds without an entry are ideal
    assert accel.elementwise_timing(d, accel.Elementwise("layernorm", 1, 10)).seconds == pytest.approx(2e-6)
    assert accel.elementwise_timing(d, accel.Elementwise("add", 10, 100)).seconds == pytest.approx(6e-6)


def test_ring_allreduce_hand_derived():
    ic = accel.Interconnect("link", links=2, bandwidth_per_link_bytes_per_s=1e9, latency_s=1e-6,
                            energy_pj_per_byte=1.0)
    d = _tc().replace(interconnect=ic)
    # p = 4: 6 steps of 1 us + 2 (3/4) 1000 B over 2 GB/s
    t = accel.allreduce_timing(d, 1000, 4)
    assert t.seconds == pytest.approx(6e-6 + 0.75e-6) and t.counts == {("link", "byte"): 1500}
    assert accel.allreduce_timing(d, 1000, 1).seconds == 0.0
    assert t.protocol == "simple"


def test_allreduce_takes_the_fastest_protocol():
    ic = accel.Interconnect("link", links=2, bandwidth_per_link_bytes_per_s=1e9, latency_s=1e-6,
                            energy_pj_per_byte=1.0, protocols={"ll": (0.1e-6, 0.1)})
    d = _tc().replace(interconnect=ic)
    # 1000 B: simple 6 x 1 us + 1500 B / 2 GB/s = 6.75 us; ll 6 x 0.1 us + 1500 B / 0.2 GB/s = 8.1 us
    t = accel.allreduce_timing(d, 1000, 4)
    assert (t.protocol, t.seconds) == ("simple", pytest.approx(6.75e-6))
    # 10 B: simple 6.0075 us; ll 0.6 + 0.075 us
    t = accel.allreduce_timing(d, 10, 4)
    assert (t.protocol, t.seconds, t.bound) == ("ll", pytest.approx(0.675e-6), "link_latency")
    assert t.counts == {("link", "byte"): 15}  # the payload is the same whatever the protocol


@pytest.mark.parametrize("protocols, match", [
    ({"simple": (1e-6, 0.5)}, "names must be non-empty str other than 'simple'"),
    ({"": (1e-6, 0.5)}, "names must be non-empty str"),
    ({"ll": (1e-6,)}, r"protocols\['ll'\] must be \(latency_s, bandwidth_fraction\)"),
    ({"ll": (-1e-6, 0.5)}, r"protocols\['ll'\] latency_s must be a finite number of seconds >= 0"),
    ({"ll": (1e-6, 0.0)}, r"protocols\['ll'\] bandwidth_fraction must be in \(0, 1\]"),
    ({"ll": (1e-6, 1.5)}, r"protocols\['ll'\] bandwidth_fraction must be in \(0, 1\]"),
    ({"ll": (True, 0.5)}, r"protocols\['ll'\] latency_s"),
])
def test_interconnect_protocols_bad_input(protocols, match):
    with pytest.raises(ValueError, match=match):
        accel.Interconnect("link", 2, 1e9, 1e-6, 1.0, protocols=protocols)
    with pytest.raises(TypeError, match="Interconnect.protocols must be a dict"):
        accel.Interconnect("link", 2, 1e9, 1e-6, 1.0, protocols=[("ll", 1e-6, 0.5)])


def test_interconnect_protocols_round_trip_toml(tmp_path):
    d = accel.get_design("a100-like")
    p = tmp_path / "a100.toml"
    p.write_text(d.to_toml())
    back = accel.load_design(p)
    assert back.interconnect.protocols == d.interconnect.protocols
    assert accel.allreduce_timing(back, 196608, 4) == accel.allreduce_timing(d, 196608, 4)


# -- DRAM traffic of long-K GEMMs and the HBM's sustained fraction ----------------------------------------
def test_long_k_gemm_is_not_hbm_bound():
    # one wave of tiles shares its operand panels in L2 K step by K step: FFN down (K = 49152) moves no
    # more DRAM traffic than FFN up with the same MACs (before: 45 ms HBM-bound against 21.6 ms)
    d = accel.get_design("h100-like")
    up = accel.gemm_timing(d, accel.Gemm(16384, 49152, 12288, a_format="fp16"))
    down = accel.gemm_timing(d, accel.Gemm(16384, 12288, 49152, a_format="fp16"))
    assert up.bound == down.bound == "compute"
    assert down.seconds == pytest.approx(up.seconds, rel=0.02)


def test_hbm_sustained_fraction_scales_memory_bound_time():
    d = accel.get_design("a100-like")
    w = accel.Gemm(64, 12288, 12288, a_format="fp16")
    t = accel.gemm_timing(d, w)
    assert t.bound == "hbm" and d.memories[-1].sustained_fraction == pytest.approx(0.89)
    full = accel.set_field(d, "memories.2.sustained_fraction", 1.0)
    t1 = accel.gemm_timing(full, w)
    assert t1.level_seconds["hbm"] == pytest.approx(t.level_seconds["hbm"] * 0.89)
    with pytest.raises(ValueError, match="MemoryLevel.sustained_fraction"):
        accel.MemoryLevel("hbm", 10, 1e9, 1.0, sustained_fraction=1.5)




def test_datasheet_links_and_amd_peaks():
    links = {n: accel.get_design(n).interconnect.bandwidth_bytes_per_s for n in ("a100-like", "h100-like",
                                                                              "b200-like", "mi300x-like")}
    assert links == pytest.approx({"a100-like": 300e9, "h100-like": 450e9, "b200-like": 900e9,
                                   "mi300x-like": 448e9})
    assert accel.get_design("mi210-like").peak_ops_per_s("fp16") == pytest.approx(181e12, rel=1e-3)
    assert accel.get_design("mi300x-like").peak_ops_per_s("fp16") == pytest.approx(1307.4e12, rel=1e-3)
    assert accel.get_design("mi300x-like").peak_ops_per_s("e4m3", sparse=True) == pytest.approx(5229.8e12, rel=1e-3)


def test_toml_round_trip_keeps_mechanisms():
    for name in ("a100-like", "mi300x-like"):
        d = accel.get_design(name)
        back = accel.Design.from_toml(d.to_toml())
        assert back == d and back.elementwise == d.elementwise and back.interconnect == d.interconnect
        assert back.unit.tile_shapes == d.unit.tile_shapes


# -- bad input ----------------------------------------------------------------------------------------------
BAD_LAYERS = [
    ({"d_model": -8}, ValueError, "d_model must be a positive int"),
    ({"batch": 0}, ValueError, "batch must be a positive int"),
    ({"seq": 2.0}, ValueError, "seq must be a positive int"),
    ({"tp": 5}, ValueError, r"tp \(5\) must divide heads \(8\)"),
    ({"heads": 3}, ValueError, r"d_model \(64\) must be a multiple of heads \(3\)"),
    ({"phase": "train"}, ValueError, "phase must be one of"),
    ({"kv_len": 2}, ValueError, r"kv_len \(2\) must be at least seq \(4\)"),
    ({"dtype": "fp7"}, ValueError, "unknown format 'fp7'"),
    ({"dtype": 16}, TypeError, "dtype must be a format name"),
    ({"fuse_qkv": 1}, TypeError, "fuse_qkv must be a bool"),
]


@pytest.mark.parametrize("change, exc, match", BAD_LAYERS)
def test_bad_layer_arguments(change, exc, match):
    args = {"d_model": 64, "heads": 8, "batch": 1, "seq": 4, **change}
    with pytest.raises(exc, match=match):
        accel.transformer_layer(**args)


BAD_OPS = [
    (lambda: accel.Elementwise("dropout", 4, 4), ValueError, "unknown op kind 'dropout'"),
    (lambda: accel.Elementwise("softmax", -1, 4), ValueError, "Elementwise.rows must be a positive int"),
    (lambda: accel.Layer("x", ("softmax",)), ValueError, "unknown op 'softmax'"),
    (lambda: accel.AllReduce(0, 4), ValueError, "AllReduce.nbytes must be a positive int"),
    (lambda: accel.AllReduce(8, 4, algorithm="tree"), ValueError, "algorithm must be one of"),
    (lambda: accel.KernelCost(bandwidth_fraction=0.0), ValueError, "bandwidth_fraction must be in"),
    (lambda: accel.KernelCost(launch_s=-1e-6), ValueError, "launch_s must be a finite number"),
    (lambda: accel.Interconnect("l", 0, 1e9, 0.0, 1.0), ValueError, "links must be a positive int"),
    (lambda: accel.Interconnect("l", 1, 1e9, math.inf, 1.0), ValueError, "latency_s must be a finite"),
    (lambda: accel.Gemm(4, 4, 4, batched="yes"), TypeError, "Gemm.batched must be a bool"),
    (lambda: _tc(launch_s=-1.0), ValueError, "launch_s must be a finite number of seconds"),
    (lambda: _tc(tile_shapes=((0, 4),)), ValueError, "tile_shapes must be a tuple of"),
    (lambda: _tc().replace(elementwise={"dropout": accel.KernelCost()}), ValueError, "unknown op kind"),
    (lambda: _tc().replace(interconnect="nvlink"), ValueError, "Design.interconnect must be an Interconnect"),
]


@pytest.mark.parametrize("make, exc, match", BAD_OPS)
def test_bad_ops_and_fields(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_layer_needs_a_digital_unit():
    with pytest.raises(ValueError, match="needs a digital unit .* accel.simulate_model"):
        accel.simulate(accel.get_design("hermes-like"), accel.transformer_layer(64, 8, 1, 4), accuracy=False)
    layer = accel.transformer_layer(64, 8, 1, 4, dtype="int8", act_dtype="int8")
    r = accel.simulate(accel.get_design("tpu-v1-like"), layer, accuracy=False)
    assert r.seconds > 0 and len(r.per_op) == 12


def test_tp_without_interconnect():
    d = accel.get_design("a100-like").replace(interconnect=None)
    layer = accel.transformer_layer(64, 8, 1, 4, tp=2)
    with pytest.raises(ValueError, match="has no interconnect; an all-reduce over 2 devices"):
        accel.simulate(d, layer, accuracy=False)
    assert accel.simulate(d, accel.transformer_layer(64, 8, 1, 4, tp=1), accuracy=False).seconds > 0


@settings(max_examples=40)
@given(st.integers(-2, 4096), st.sampled_from([1, 2, 3, 8, 12]), st.integers(-1, 16), st.integers(-1, 512),
       st.sampled_from([None, 1, 600]), st.sampled_from([1, 2, 4, 8]),
       st.sampled_from(["fp16", "fp8", "bf16", "e4m3", "nvfp4", "int8", "q"]))
def test_layer_fuzz(d, heads, batch, seq, kv, tp, dtype):
    design = accel.get_design("h100-like")
    try:
        layer = accel.transformer_layer(d, heads, batch, seq, phase="decode", kv_len=kv, tp=tp, dtype=dtype)
        r = accel.simulate(design, layer, accuracy=False)
    except ValueError:
        return
    assert math.isfinite(r.seconds) and r.seconds > 0 and len(r.per_op) == 12


def test_validation_page_is_current():
    spec = importlib.util.spec_from_file_location("validation_tables", ROOT / "scripts" / "validation_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    import contextlib
    import io
    import sys
    buf = io.StringIO()
    argv, sys.argv = sys.argv, ["validation_tables.py", "--stdout"]
    try:
        with contextlib.redirect_stdout(buf):
            mod.main()
    finally:
        sys.argv = argv
    assert buf.getvalue() == (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")


# -- layers in sweeps ---------------------------------------------------------------------------------------
def test_sweep_over_layer_arguments_and_design(tmp_path):
    layer = accel.transformer_layer(4096, 32, 8, 1, phase="decode", kv_len=1024, tp=2)
    grid = {"workload.tp": [1, 4], "workload.dtype": ["fp16", "fp8"], "design.interconnect.links": [6, 18]}
    out = tmp_path / "layers.jsonl"
    rows = accel.sweep(accel.get_design("h100-like"), grid, [layer], out=out, progress=False)
    assert len(rows) == 8 and not any("error" in r for r in rows)
    for r in rows:  # every row is the layer transformer_layer builds with the point's arguments
        d = accel.set_field(accel.get_design("h100-like"), "interconnect.links", r["design.interconnect.links"])
        want = accel.simulate(d, layer.with_args(tp=r["workload.tp"], dtype=r["workload.dtype"]), accuracy=False)
        assert r["seconds"] == want.seconds and r["tp"] == r["workload.tp"]
    assert len({r["hash"] for r in rows}) == 8
    again = accel.sweep(accel.get_design("h100-like"), grid, [layer], out=out, progress=False)  # resumed
    assert [r["seconds"] for r in again] == [r["seconds"] for r in rows]
    # the links matter only with tp > 1; fp8 is faster than fp16
    by = {(r["workload.tp"], r["workload.dtype"], r["design.interconnect.links"]): r["seconds"] for r in rows}
    assert by[(1, "fp16", 6)] == by[(1, "fp16", 18)] and by[(4, "fp16", 6)] > by[(4, "fp16", 18)]
    assert by[(4, "fp8", 18)] < by[(4, "fp16", 18)]
    # an op's field by index
    r = accel.sweep(accel.get_design("h100-like"), {"workload.ops.0.a_format": ["e4m3"]}, [layer], progress=False)
    assert "error" not in r[0]


def test_sweep_layer_bad_keys():
    layer = accel.transformer_layer(4096, 32, 8, 1, phase="decode", kv_len=1024, tp=2)
    with pytest.raises(ValueError, match=r"'tpp' is neither an argument of transformer_layer \[.*'tp'"):
        accel.sweep(accel.get_design("h100-like"), {"workload.tpp": [1]}, [layer], progress=False)
    rows = accel.sweep(accel.get_design("h100-like"), {"workload.tp": [5]}, [layer], progress=False)
    assert rows[0]["error"] == "transformer_layer: tp (5) must divide heads (32)"
    with pytest.raises(ValueError, match="has no argument 'tpp'"):
        layer.with_args(tpp=2)
