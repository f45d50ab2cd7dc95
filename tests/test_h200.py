"""lowbit's Hopper accumulators against a real NVIDIA H200, bit for bit (numerics/data/h200/, recorded by
scripts/h200_record.py): cuBLAS with fast accumulation is `nv_hopper_fp8`; without it, the wgmma partial
sums are promoted to FP32 every 128 K elements (`nv_hopper_fp8_promote128`); Triton's
`max_num_imprecise_acc=P` is `promote_every=P`; FP16 and BF16 wgmma chains are `nv_hopper`. Then the
`h200-like` preset's kernel-time predictions against the same chip (accel/data/h200/)."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from numerics.accumulate import get_accumulator, matmul

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "numerics" / "data" / "h200"
_DT = {"e4m3": ml_dtypes.float8_e4m3fn, "e5m2": ml_dtypes.float8_e5m2}


def _script():
    spec = importlib.util.spec_from_file_location("h200_record", ROOT / "scripts" / "h200_record.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


REC = _script()
GOLDEN = np.load(DATA / "golden.npz")
META = json.loads(str(GOLDEN["meta"]))
CASES = {c["name"]: c for c in REC.golden_inputs()}
HOPPER = get_accumulator("nv_hopper_fp8")


def _acc(mode: str):
    """The accumulator a recorded run should equal: cublas_fast / triton_none: no promotion;
    cublas_slow: promotion every 128; triton_P: every P."""
    if mode in ("cublas_fast", "triton_none"):
        return HOPPER
    every = 128 if mode == "cublas_slow" else int(mode.removeprefix("triton_"))
    return dataclasses.replace(HOPPER, promote_every=every)


def test_inputs_are_the_recorded_bytes():
    """The generator rebuilds the exact inputs the H200 multiplied (their SHA-256 was stored there)."""
    assert set(CASES) == set(META["sha256"])
    for name, c in CASES.items():
        assert META["sha256"][name] == [REC.sha(c["a"]), REC.sha(c["b"])], name
    assert META["facts"]["name"] == "NVIDIA H200" and META["facts"]["capability"] == [9, 0]
    assert not META["errors"]


@pytest.mark.parametrize("key", sorted(k for k in GOLDEN.files if k != "meta"))
def test_h200_fp8_bit_exact(key):
    name, mode = key.split("__")
    c = CASES[name]
    a = c["a"][:32].view(_DT[c["a_format"]]).astype(np.float64)
    b = c["b"][:, :32].view(_DT[c["b_format"]]).astype(np.float64)
    got = matmul(a, b, _acc(mode), a_format=c["a_format"], b_format=c["b_format"])
    want = GOLDEN[key].astype(np.float64)
    assert np.array_equal(got, want), f"{key}: {np.sum(got != want)} of {want.size} differ"


GOLDEN16 = np.load(DATA / "golden16.npz")
CASES16 = {c["name"]: c for c in REC.golden16_inputs()}


@pytest.mark.parametrize("name", sorted(CASES16))
def test_h200_fp16_bf16_bit_exact(name):
    """A Triton wgmma kernel (K step 64, the FP32 accumulator chained through every step) on FP16 / BF16:
    `nv_hopper` bit for bit, and not Ampere's or a plain FP32 accumulator (the case tells them apart)."""
    c = CASES16[name]
    assert json.loads(str(GOLDEN16["meta"]))["sha256"][name] == [REC.sha(c["a"]), REC.sha(c["b"])]
    dt = np.float16 if c["format"] == "fp16" else ml_dtypes.bfloat16
    a = c["a"][:32].view(dt).astype(np.float64)
    b = c["b"][:, :32].view(dt).astype(np.float64)
    want = GOLDEN16[f"{name}__triton"].astype(np.float64)
    got = matmul(a, b, "nv_hopper", a_format=c["format"], b_format=c["format"])
    assert np.array_equal(got, want), f"{name}: {np.sum(got != want)} differ"
    for other in ("nv_ampere", "fp32"):
        assert not np.array_equal(matmul(a, b, other, a_format=c["format"], b_format=c["format"]), want), other


def test_the_promotion_is_visible():
    """The recorded cases tell the modes apart: without promotion the results differ from the promoted
    ones on most elements of every long case, so the checks above cannot pass by accident."""
    for name, c in CASES.items():
        k = c["a"].shape[1]
        if k <= 128:
            continue
        fast, slow = GOLDEN[f"{name}__cublas_fast"], GOLDEN[f"{name}__cublas_slow"]
        assert np.mean(fast != slow) > 0.5, name


def test_study_a_errors_and_blocks():
    """Study A on the H200 (4096³, E4M3 N(0,1)-like operands): the top-left 64 x 64 block of each result is
    lowbit's bit for bit, and the measured normwise errors are what lowbit's split reports on that block."""
    z = np.load(DATA / "study_a.npz")
    meta = json.loads(str(z["meta"]))
    ca, cb = REC.study_block(64, 64)
    a = ca.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    b = cb.view(ml_dtypes.float8_e4m3fn).astype(np.float64)
    exact = a @ b
    for mode, acc in (("fast", "nv_hopper_fp8"), ("slow", "nv_hopper_fp8_promote128")):
        d = matmul(a, b, acc, a_format="e4m3", b_format="e4m3")
        assert np.array_equal(d, z[mode].astype(np.float64)), mode
        # the block's accumulation error is within 10 % of the whole product's measured one
        rel = np.linalg.norm(d - exact) / np.linalg.norm(exact)
        assert rel == pytest.approx(meta[mode]["accumulation"], rel=0.1), (mode, rel)
    assert 8 < meta["fast"]["accumulation"] / meta["slow"]["accumulation"] < 12


@pytest.mark.slow
def test_study_a_inputs_are_the_recorded_bytes():
    """The whole 4096 x 4096 operands hash to what the H200 multiplied, and study_block is their corner."""
    meta = json.loads(str(np.load(DATA / "study_a.npz")["meta"]))
    _, _, ca, cb = REC.study_inputs()
    assert meta["sha256"] == [REC.sha(ca), REC.sha(cb)]
    a, b = REC.study_block(64, 64)
    assert np.array_equal(a, ca[:64]) and np.array_equal(b, cb[:, :64])


# ------------------------------------------------------------------------------------ h200-like's kernel times

def test_h200_like_is_the_datasheet_and_the_recorded_device():
    import accel
    from accel import h200
    d = accel.get_design("h200-like")
    facts = h200.device_facts()
    assert d.peak_ops_per_s("fp16") == pytest.approx(989.4e12, rel=1e-3)  # H200 datasheet: 989 TFLOPS dense
    assert d.peak_ops_per_s("e4m3") == pytest.approx(1978.9e12, rel=1e-3)  # 1,979
    assert d.unit.sm_count == facts["sm_count"] == 132
    levels = {m.name: m for m in d.memories}
    assert levels["l2"].size_bytes == facts["l2_bytes"]
    assert levels["hbm"].bandwidth_bytes_per_s == pytest.approx(4.8e12)


def test_h200_rows_and_predictions():
    import accel
    from accel import h200
    d = accel.get_design("h200-like")
    fp16 = h200.gemm_predictions(d, "fp16")
    fast, slow = h200.gemm_predictions(d, "e4m3", True), h200.gemm_predictions(d, "e4m3", False)
    assert len(fp16) == len(fast) == len(slow) == 21
    assert all(r["measured_s"] > 0 and r["event_s"] > 0 and not r["fit"] for r in fp16 + fast + slow)
    # predictions, never fitted: the figures docs/validation.md reports (median |error| 15.0 %, 28.3 %, 30.6 %)
    assert h200.errors((r["model_s"], r["measured_s"]) for r in fp16)["median"] == pytest.approx(0.150, abs=0.005)
    assert h200.errors((r["model_s"], r["measured_s"]) for r in fast)["median"] == pytest.approx(0.283, abs=0.005)
    for kind, n in (("softmax", 22), ("layernorm", 22), ("gelu", 20)):
        assert len(h200.elementwise_predictions(d, kind)) == n
    sp = h200.sparse_predictions(d)
    assert len(sp) == 6 and all(r["backend"] == "cusparselt" for r in sp)
    assert max(r["measured_speedup"] for r in sp) < min(r["model_speedup"] for r in sp)  # the documented miss
    c = h200.sustained_clocks()
    assert set(c) == {"fp16", "e4m3"} and all(v["power_capped_share"] > 0.9 for v in c.values())


@pytest.mark.parametrize("call, match", [
    (lambda h: h.gemm_rows("bf16"), r"dtype must be 'fp16' or 'e4m3', got 'bf16'"),
    (lambda h: h.elementwise_rows("rmsnorm"), r"kind must be 'softmax', 'layernorm' or 'gelu', got 'rmsnorm'"),
])
def test_h200_bad_input(call, match):
    from accel import h200
    with pytest.raises(ValueError, match=match):
        call(h200)
