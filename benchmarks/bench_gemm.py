"""GEMM engine speed, in one run:
(a) nv_hopper_fp8 and nv_ampere 512x512x512 against MMA-Sim on the same inputs (bits compared);
(b) exact INT8 GEMM 1024^3 (int32 accumulator) against numpy float64 matmul;
(c) bit-exact FP8 tensor-core GEMM 1024^3 (nv_hopper_fp8) against numpy float32 matmul;
(d) the reference accumulators exact, fp32, fp32_pairwise and fp16 on FP32 operands (M x K x N, --ref-shape),
    the fast routes (numerics.fastref) against the reference kernels (accumulate.FAST_REFERENCES = False)
    in the same process, results compared bit for bit, and against numpy float32 BLAS.

Usage: python benchmarks/bench_gemm.py [--n 512] [--n-big 1024] [--skip-mmasim] [--ref-shape 256 2048 256]
       [--only-refs]
(nx.ops on small operands: benchmarks/bench_ops.py.)
Targets (issue #5): (a) >= 100x MMA-Sim with identical bits, (b) <= 2x numpy float64, (c) report the
ratio, aim <= 50x numpy float32.
"""

import argparse
import time

import numpy as np
from _timing import SMOKE, best

import numerics as nx


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--n-big", type=int, default=1024)
    ap.add_argument("--skip-mmasim", action="store_true")
    ap.add_argument("--ref-shape", type=int, nargs=3, default=(256, 2048, 256), metavar=("M", "K", "N"))
    ap.add_argument("--only-refs", action="store_true", help="run only (d)")
    args = ap.parse_args()
    if SMOKE:  # tests/test_docs.py: the command runs, on small shapes (benchmarks/_timing.py)
        args.n, args.n_big = min(args.n, 64), min(args.n_big, 128)
        args.ref_shape = tuple(min(v, c) for v, c in zip(args.ref_shape, (32, 256, 32), strict=True))
    if args.only_refs:
        return references(*args.ref_shape)
    rng = np.random.default_rng(0)
    n = args.n
    e4 = nx.get_format("e4m3")
    a8, b8 = e4.quantize(rng.standard_normal((n, n))), e4.quantize(rng.standard_normal((n, n)))
    cases = [("nv_hopper_fp8", "e4m3", a8, b8),
             ("nv_ampere", "fp16", rng.standard_normal((n, n)).astype(np.float16).astype(np.float64),
              rng.standard_normal((n, n)).astype(np.float16).astype(np.float64))]
    print(f"(a) {n}x{n}x{n} against MMA-Sim")
    # lowbit is timed for every case before torch is imported: torch's OpenMP worker threads keep
    # spinning after MMA-Sim runs and would steal the cores numba's threads use
    timed = []
    for preset, fmt, A, B in cases:
        t_lb = best(lambda p=preset, f=fmt, A=A, B=B: nx.matmul(A, B, p, a_format=f, b_format=f), 3)
        timed.append((preset, fmt, A, B, t_lb, nx.matmul(A, B, preset, a_format=fmt, b_format=fmt)))
    for preset, fmt, A, B, t_lb, D in timed:
        if args.skip_mmasim:
            print(f"  {preset:14} lowbit {t_lb:7.3f} s")
            continue
        import torch
        from mmasim.nv_ptx.sim import MMA, WGMMA
        op = (WGMMA("Hopper", "m64n8k32.f32.e4m3.e4m3") if fmt == "e4m3"
              else MMA("Ampere", "m16n8k16.f32.f16.f16.f32"))
        tdt = torch.float8_e4m3fn if fmt == "e4m3" else torch.float16
        tA = torch.from_numpy(A.astype(np.float32)).to(tdt)
        tB = torch.from_numpy(B.astype(np.float32)).to(tdt)
        t0 = time.perf_counter()
        ref = op(tA, tB, torch.zeros(n, n)).double().numpy()
        t_mm = time.perf_counter() - t0
        same = np.array_equal(D, ref)
        print(f"  {preset:14} lowbit {t_lb:7.3f} s, MMA-Sim {t_mm:7.2f} s: {t_mm / t_lb:6.1f}x, identical bits: {same}")
    N = args.n_big
    A8 = rng.integers(-128, 128, (N, N)).astype(np.float64)
    B8 = rng.integers(-128, 128, (N, N)).astype(np.float64)
    t_np = best(lambda: A8 @ B8, 3)
    t_int = best(lambda: nx.matmul(A8, B8, "int32", a_format="int8", b_format="int8"), 3)
    print(f"(b) INT8 {N}^3, int32 accumulator: lowbit {t_int:.3f} s, numpy float64 {t_np:.3f} s: "
          f"{t_int / t_np:.2f}x its time")
    Af = e4.quantize(rng.standard_normal((N, N)))
    Bf = e4.quantize(rng.standard_normal((N, N)))
    A32, B32 = Af.astype(np.float32), Bf.astype(np.float32)
    t_f32 = best(lambda: A32 @ B32, 3)
    t_fp8 = best(lambda: nx.matmul(Af, Bf, "nv_hopper_fp8", a_format="e4m3", b_format="e4m3"), 1)
    print(f"(c) FP8 {N}^3 nv_hopper_fp8: lowbit {t_fp8:.2f} s, numpy float32 {t_f32 * 1e3:.1f} ms: "
          f"{t_fp8 / t_f32:.0f}x its time")


def references(m: int, k: int, n: int) -> None:
    """(d): fast route vs reference kernel for each reference accumulator, one run each (the reference
    kernels take minutes at the issue's 512 x 4096 x 512), best of 3 for the fast routes and numpy."""
    from numerics import accumulate
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, k)).astype(np.float32)
    B = rng.standard_normal((k, n)).astype(np.float32)
    t_np = best(lambda: A @ B, 3)
    print(f"(d) {m}x{k}x{n} FP32 operands; numpy float32 BLAS {t_np * 1e3:.1f} ms")
    for preset in ("exact", "fp32", "fp32_pairwise", "fp16"):
        nx.matmul(A[:2, :8], B[:8, :2], preset)  # compile both routes
        accumulate.FAST_REFERENCES = False
        nx.matmul(A[:2, :8], B[:8, :2], preset)
        try:
            t0 = time.perf_counter()
            slow = nx.matmul(A, B, preset)
            t_slow = time.perf_counter() - t0
        finally:
            accumulate.FAST_REFERENCES = True
        t_fast = best(lambda p=preset: nx.matmul(A, B, p), 3)
        same = np.array_equal(slow.view(np.int64), nx.matmul(A, B, preset).view(np.int64))
        print(f"  {preset:14} reference {t_slow:8.2f} s, fast {t_fast:7.3f} s: {t_slow / t_fast:6.1f}x faster, "
              f"{t_fast / t_np:6.1f}x numpy float32; identical bits: {same}")


if __name__ == "__main__":
    main()
