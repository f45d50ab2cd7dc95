"""Tensor-core presets against MMA-Sim (Xie et al. 2025, arXiv 2511.10909), bit for bit, on 10^4
random and adversarial dot products each. Needs torch and mmasim (.ci/run installs them)."""

import numpy as np
import pytest

import numerics as nx

torch = pytest.importorskip("torch")
sim = pytest.importorskip("mmasim.nv_ptx.sim")
amd = pytest.importorskip("mmasim.amd.sim")

pytestmark = pytest.mark.crosscheck

N = 10_000
TORCH = {"fp16": torch.float16, "bf16": torch.bfloat16, "e4m3": torch.float8_e4m3fn, "e5m2": torch.float8_e5m2,
         "tf32": torch.float32, "e4m3fnuz": torch.float8_e4m3fnuz, "e5m2fnuz": torch.float8_e5m2fnuz}
CASES = [  # preset, MMA-Sim instruction, operand format, K (several steps of the preset)
    ("nv_volta", lambda: sim.MMA("Volta", "m8n8k4.f32.f16.f16.f32"), "fp16", 12),
    ("nv_turing", lambda: sim.MMA("Turing", "m16n8k8.f32.f16.f16.f32"), "fp16", 24),
    ("nv_ampere", lambda: sim.MMA("Ampere", "m16n8k16.f32.f16.f16.f32"), "fp16", 32),
    ("nv_ampere", lambda: sim.MMA("Ampere", "m16n8k16.f32.bf16.bf16.f32"), "bf16", 32),
    ("nv_ampere", lambda: sim.MMA("Ampere", "m16n8k8.f32.tf32.tf32.f32"), "tf32", 16),
    ("nv_ada", lambda: sim.MMA("Ada Lovelace", "m16n8k16.f32.f16.f16.f32"), "fp16", 32),
    ("nv_ada_fp8", lambda: sim.MMA("Ada Lovelace", "m16n8k32.f32.e4m3.e4m3.f32"), "e4m3", 64),
    ("nv_hopper", lambda: sim.WGMMA("Hopper", "m64n8k16.f32.f16.f16"), "fp16", 48),
    ("nv_hopper", lambda: sim.WGMMA("Hopper", "m64n8k16.f32.bf16.bf16"), "bf16", 48),
    ("nv_hopper_fp8", lambda: sim.WGMMA("Hopper", "m64n8k32.f32.e4m3.e4m3"), "e4m3", 96),
    ("nv_hopper_fp8", lambda: sim.WGMMA("Hopper", "m64n8k32.f32.e5m2.e5m2"), "e5m2", 96),
    ("nv_blackwell", lambda: sim.TCGen05MMA("Blackwell", "m64n8k16.kind::f16.f32.f16.f16"), "fp16", 48),
    ("amd_cdna3", lambda: amd.MFMA("CDNA3", "f32_32x32x8_f16"), "fp16", 24),
    ("amd_cdna3", lambda: amd.MFMA("CDNA3", "f32_32x32x8_bf16"), "bf16", 24),
    ("amd_cdna3_fp8", lambda: amd.MFMA("CDNA3", "f32_32x32x16_fp8_fp8"), "e4m3fnuz", 48),
    ("amd_cdna3_fp8", lambda: amd.MFMA("CDNA3", "f32_32x32x16_bf8_bf8"), "e5m2fnuz", 48),
]


def operands(fmt: str, K: int, seed: int):
    """Random values over the format's range plus adversarial rows: cancellation, subnormals,
    near-overflow products, zeros, and accumulators far above and below the products."""
    f = nx.get_format(fmt)
    rng = np.random.default_rng(seed)
    emax, emin = f.emax, f.emin
    spread = min(emax, 20)
    A = rng.standard_normal((N, K)) * 2.0 ** rng.integers(-spread, spread // 2 + 1, (N, K))
    B = rng.standard_normal((N, K)) * 2.0 ** rng.integers(-spread, spread // 2 + 1, (N, K))
    A[rng.random((N, K)) < 0.1] = 0
    q = N // 5
    A[:q, 1::2] = -A[:q, 0::2][:, : K // 2]  # pairwise cancellation with B equal
    B[:q, 1::2] = B[:q, 0::2][:, : K // 2]
    A[q:2 * q] = rng.integers(1, 8, (q, K)) * 2.0 ** (emin - f.man_bits) * rng.choice([-1, 1], (q, K))  # subnormal
    B[2 * q:3 * q] = f.max * rng.uniform(0.5, 1, (q, K)) * rng.choice([-1, 1], (q, K))  # huge products
    A, B = f.quantize(A, saturate=True), f.quantize(B, saturate=True)
    c = rng.standard_normal(N) * 2.0 ** rng.integers(-40, 40, N)
    c[::7] = 0
    c = nx.get_format("fp32").quantize(c)
    return A, B, c


@pytest.mark.slow
@pytest.mark.parametrize("preset,make,fmt,K", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_preset_matches_mmasim(preset, make, fmt, K):
    A, B, c = operands(fmt, K, hash((preset, fmt)) % 2**31)
    ta = torch.from_numpy(A.astype(np.float32)).to(TORCH[fmt])
    tb = torch.from_numpy(B.astype(np.float32)).to(TORCH[fmt])
    want = make().dpa(ta, tb, torch.from_numpy(c.astype(np.float32))).double().numpy()
    got = np.empty(N)
    step = 100
    for i in range(0, N, step):
        C = np.repeat(c[i:i + step, None], step, axis=1)
        D = nx.matmul(A[i:i + step], B[i:i + step].T, preset, c=C, a_format=fmt, b_format=fmt)
        got[i:i + step] = np.diagonal(D)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), f"{(~same).sum()} of {N} differ, e.g. lowbit {got[~same][:3]} vs MMA-Sim {want[~same][:3]}"


BLOCK_CASES = [  # preset, MMA-Sim tcgen05.mma block-scale instruction, element, scale, block, K, torch element dtype
    ("nv_blackwell_mx", "m128n8k32.kind::mxf8f6f4.block32.f32.e4m3.e4m3.ue8m0", "e4m3", "e8m0", 32, 32,
     torch.float8_e4m3fn),
    ("nv_blackwell_mx", "m128n8k32.kind::mxf8f6f4.block32.f32.e5m2.e5m2.ue8m0", "e5m2", "e8m0", 32, 32,
     torch.float8_e5m2),
    ("nv_blackwell_nvfp4", "m128n8k64.kind::mxf4nvf4.block16.f32.e2m1.e2m1.ue4m3", "e2m1", "ue4m3", 16, 64,
     torch.float16),
    ("nv_blackwell_nvfp4", "m128n8k64.kind::mxf4.block32.f32.e2m1.e2m1.ue8m0", "e2m1", "e8m0", 32, 64,
     torch.float16),
]


@pytest.mark.slow
@pytest.mark.parametrize("preset,instr,elem,scale,bs,K,tdt", BLOCK_CASES, ids=[c[1].split(".")[1] + "-" + c[2]
                                                                             for c in BLOCK_CASES])
def test_block_scaled_presets_match_mmasim(preset, instr, elem, scale, bs, K, tdt):
    fe, fs = nx.get_format(elem), nx.get_format(scale)
    bf = nx.BlockFormat(element=fe, scale=fs, block_size=bs,
                        scale_rule=nx.ScaleRule.FLOOR if scale == "e8m0" else nx.ScaleRule.AMAX)
    rng = np.random.default_rng(K + bs)
    finite = np.flatnonzero(np.isfinite(fe.decode(np.arange(1 << fe.bits))))
    ca = rng.choice(finite, (N, K)).astype(fe.code_dtype)
    cb = rng.choice(finite, (N, K)).astype(fe.code_dtype)
    ca[rng.random((N, K)) < 0.1] = 0
    lo, hi = (112, 142) if scale == "e8m0" else (0, 127)
    sa = rng.integers(lo, hi, (N, K // bs)).astype(np.uint8)
    sb = rng.integers(lo, hi, (N, K // bs)).astype(np.uint8)
    c = nx.get_format("fp32").quantize(rng.standard_normal(N) * 2.0 ** rng.integers(-20, 20, N))
    va, vb = fe.decode(ca), fe.decode(cb)

    def to_t(v):
        return torch.from_numpy(v.astype(np.float32)).to(tdt)

    if scale == "e8m0":
        alpha = torch.from_numpy(sa).view(torch.float8_e8m0fnu)
        beta = torch.from_numpy(sb).view(torch.float8_e8m0fnu)
    else:
        alpha = torch.from_numpy(sa).view(torch.float8_e4m3fn)
        beta = torch.from_numpy(sb).view(torch.float8_e4m3fn)
    op = sim.TCGen05MMABlockScale("Blackwell", instr)
    want = op.dpa(to_t(va), to_t(vb), torch.from_numpy(c.astype(np.float32)), alpha, beta).double().numpy()
    got = np.empty(N)
    step = 100
    for i in range(0, N, step):
        A = nx.BlockTensor(format=bf, codes=ca[i:i + step], scales=sa[i:i + step], tensor_scale=None,
                           zero_points=None, axis=1, shape=(step, K))
        B = nx.BlockTensor(format=bf, codes=np.ascontiguousarray(cb[i:i + step].T), scales=np.ascontiguousarray(
            sb[i:i + step].T), tensor_scale=None, zero_points=None, axis=0, shape=(K, step))
        C = np.repeat(c[i:i + step, None], step, axis=1)
        got[i:i + step] = np.diagonal(nx.matmul(A, B, preset, c=C))
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    assert same.all(), f"{(~same).sum()} of {N} differ, e.g. lowbit {got[~same][:3]} vs MMA-Sim {want[~same][:3]}"


def test_overflow_to_inf_matches_mmasim():
    """Sums beyond the FP32 range: MMA-Sim (and lowbit) give ±inf, also from finite products."""
    tf = nx.get_format("tf32")
    rng = np.random.default_rng(11)
    n = 2000
    a = tf.quantize(rng.standard_normal((n, 16)) * 2.0 ** rng.integers(90, 127, (n, 16)))
    b = tf.quantize(rng.standard_normal((n, 16)) * 2.0 ** rng.integers(-10, 30, (n, 16)))
    c = np.zeros(n)
    op = sim.MMA("Ampere", "m16n8k8.f32.tf32.tf32.f32")
    want = op.dpa(torch.from_numpy(a.astype(np.float32)), torch.from_numpy(b.astype(np.float32)),
                  torch.from_numpy(c.astype(np.float32))).double().numpy()
    got = np.empty(n)
    for i in range(0, n, 100):
        got[i:i + 100] = np.diagonal(nx.matmul(a[i:i + 100], b[i:i + 100].T, "nv_ampere", a_format="tf32",
                                               b_format="tf32"))
    assert np.isinf(want).sum() > n // 4
    assert np.array_equal(got, want)
