"""Accelerator-model speed: timing + energy evaluations per second of GEMM design points (no accuracy),
one core, as a sweep uses them; and, where SCALE-Sim is installed, the same 512^3 OS/WS points in
SCALE-Sim (compute cycles compared, wall time ratio).

Usage: python benchmarks/bench_accel.py [--points 20000] [--scalesim-python PATH]
(SCALE-Sim needs numpy < 2.4, so it may live in its own virtual environment:
 python -m venv /tmp/ss && /tmp/ss/bin/pip install "numpy<2.4" scalesim
 python benchmarks/bench_accel.py --scalesim-python /tmp/ss/bin/python)
Target (issue #6): >= 5,000 evaluations/s on one core (SCALE-Sim takes ~60 s and ZigZag ~1 s for one
512^3 point).
"""

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time

import accel


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20000)
    ap.add_argument("--scalesim-python", help="python of an environment with scalesim installed")
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
    py = args.scalesim_python or sys.executable
    if subprocess.run([py, "-c", "import scalesim"], capture_output=True).returncode != 0:
        print("SCALE-Sim not installed (pip install scalesim; needs numpy < 2.4; or pass --scalesim-python): "
              "its 512^3 points not timed here")
        return
    d = accel.get_design("scalesim-32x32")
    for df in ("os", "ws"):
        ours_s = _time_ours(accel.set_field(d, "unit.dataflow", df))
        cycles, wall = _run_scalesim(py, df)
        ours = accel.simulate(accel.set_field(d, "unit.dataflow", df), accel.Gemm(512, 512, 512, "int8"),
                              accuracy=False).compute_cycles - 1
        same = "equal" if ours == cycles else "DIFFER"
        print(f"512^3 on 32x32 {df.upper()}: SCALE-Sim {cycles:,} compute cycles in {wall:.1f} s; lowbit {ours:,} "
              f"in {ours_s * 1e6:.0f} us ({wall / ours_s:,.0f}x faster; cycles {same})")


def _time_ours(design) -> float:
    g = accel.Gemm(512, 512, 512, "int8")
    t0 = time.perf_counter()
    for _ in range(1000):
        accel.simulate(design, g, accuracy=False)
    return (time.perf_counter() - t0) / 1000


_CFG = """[general]
run_name = lowbit_{df}
[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
[architecture_presets]
ArrayHeight = 32
ArrayWidth = 32
ifmapsramszkB = 6144
filtersramszkB = 6144
ofmapsramszkB = 2048
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {df}
Bandwidth = 10
ReadRequestBuffer = 32
WriteRequestBuffer = 32
[layout]
IfmapCustomLayout = False
FilterCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2
[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40
"""


def _run_scalesim(py: str, df: str) -> tuple[int, float]:
    """SCALE-Sim's compute cycles and wall time for 512^3 on 32 x 32 (its CLI, GEMM input, no traces)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg, topo, layout = (os.path.join(tmp, f) for f in ("s.cfg", "gemm.csv", "layout.csv"))
        with open(cfg, "w") as fh:
            fh.write(_CFG.format(df=df))
        with open(topo, "w") as fh:
            fh.write("Layer, M, N, K,\ngemm512, 512, 512, 512,\n")
        with open(layout, "w") as fh:
            fh.write("Layer,\n")
        t0 = time.perf_counter()
        r = subprocess.run([py, "-m", "scalesim.scale", "-c", cfg, "-t", topo, "-l", layout, "-i", "gemm", "-p",
                            os.path.join(tmp, "out"), "-s", "N"], capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - t0
    m = re.search(r"Compute cycles: (\d+)", r.stdout)
    if m is None:
        raise RuntimeError(f"SCALE-Sim did not report compute cycles:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return int(m.group(1)), wall


if __name__ == "__main__":
    main()
