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
         "tf32": torch.float32}
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
