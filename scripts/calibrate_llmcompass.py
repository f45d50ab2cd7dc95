"""Fit a100-like's timing constants on LLMCompass's A100 measurements (accel/data/llmcompass) and print
them with the errors of every table. Run: `python scripts/calibrate_llmcompass.py`. The preset
(accel/presets.py) holds the printed values rounded; tests/test_llm_timing.py checks that this fit still
gives them.

What fits what (every other row, the MI210 tables and the GPT-3 layer are predictions):
- GEMM: on the four rows accel.llmcompass.GEMM_FIT_ROWS: 8192x64x64 fixes the launch floor (its measured
  time less the model's kernel), the two largest the main-loop efficiency (the ideal kernel time over the
  measured time less the floor), 8192x256x256 the per-tile latency (bisection); three rounds.
- element-wise kernels (softmax, layer norm, GELU): per kind, the launch floor, the bandwidth fraction and
  the kernel floor minimising the largest |log(model / measured)| over that kind's A100 table; layer norm
  also its row buffer (the longest row measured on the fast path, 16 KB: rows of 32 KB and 64 KB take
  twice as long).
- all-reduce: the per-step latency from the two smallest sizes (8 B, 1 KiB: 2(p-1) = 6 steps), the
  bandwidth fraction from the two largest (1 GiB, 16 GiB) with NVLink 3's datasheet 12 x 25 GB/s.
"""

import math

import numpy as np

import accel
from accel.llmcompass import ALLREDUCE_FIT_BYTES, GEMM_FIT_ROWS, allreduce_rows, elementwise_rows, matmul_rows
from accel.timing import gemm_timing


def fit_gemm(base):
    d = accel.set_field(base, "unit.tile_latency_s", 0.0)
    d = accel.set_field(d, "unit.launch_s", 0.0)
    meas = {(m, n, k): t for m, n, k, t in matmul_rows()}

    def secs(design, shape):
        return gemm_timing(design, accel.Gemm(*shape, a_format="fp16", out_format="fp16")).seconds

    small, lat_row, big = GEMM_FIT_ROWS[0], GEMM_FIT_ROWS[1], GEMM_FIT_ROWS[2:]
    for _ in range(3):
        launch = meas[small] - (secs(d, small) - d.unit.launch_s)
        d = accel.set_field(d, "unit.launch_s", launch)
        ideal = accel.set_field(d, "unit.kernel_efficiency", 1.0)
        eff = float(np.mean([(secs(ideal, s) - launch) / (meas[s] - launch) for s in big]))
        d = accel.set_field(d, "unit.kernel_efficiency", min(1.0, eff))
        lo, hi = 0.0, 5e-6
        for _ in range(40):
            mid = (lo + hi) / 2
            if secs(accel.set_field(d, "unit.tile_latency_s", mid), lat_row) < meas[lat_row]:
                lo = mid
            else:
                hi = mid
        d = accel.set_field(d, "unit.tile_latency_s", lo)
    return {"launch_s": d.unit.launch_s, "kernel_efficiency": d.unit.kernel_efficiency,
            "tile_latency_s": d.unit.tile_latency_s}


def fit_elementwise(kind: str, hbm_bw: float) -> dict:
    rows = elementwise_rows(kind)
    el = np.array([r * c for r, c, _ in rows], float)
    cols = np.array([c for _, c, _ in rows], float)
    t = np.array([x[2] for x in rows])
    buffers = [16 * 1024] if kind == "layernorm" else [math.inf]
    best = None
    for buf in buffers:
        factor = np.where(cols * 2 > buf, 2.0, 1.0)  # rows past the buffer: 3 reads + 1 write, not 1 + 1
        nbytes = el * 4 * factor
        for floor in np.arange(0.0, 10.01e-6, 0.5e-6):
            for frac in np.arange(0.30, 1.0001, 0.005):
                stream = np.maximum(floor, nbytes / (hbm_bw * frac))
                for launch in np.arange(0.0, 60.01e-6, 0.1e-6):
                    e = np.max(np.abs(np.log((launch + stream) / t)))
                    if best is None or e < best[0]:
                        best = (e, launch, frac, floor, buf)
    _, launch, frac, floor, buf = best
    return {"launch_s": round(launch, 8), "bandwidth_fraction": round(frac, 3), "floor_s": round(floor, 7),
            "row_buffer_bytes": buf}


def fit_allreduce(link_bw: float, p: int = 4) -> dict:
    """Each protocol's (latency per step, bandwidth fraction) through two measured sizes: the two ends of
    the range where NCCL uses it (ALLREDUCE_FIT_BYTES)."""
    rows = dict(allreduce_rows())
    steps = 2 * (p - 1)
    out = {}
    for name, (b1, b2) in ALLREDUCE_FIT_BYTES.items():
        s1, s2 = 2 * (p - 1) / p * b1, 2 * (p - 1) / p * b2
        per_byte = (rows[b2] - rows[b1]) / (s2 - s1)
        out[name] = ((rows[b1] - s1 * per_byte) / steps, 1 / (per_byte * link_bw))
    return out


def main() -> None:
    d = accel.get_design("a100-like")
    print("GEMM:", fit_gemm(d))
    hbm = d.memories[-1].total_bandwidth_bytes_per_s
    for kind in ("softmax", "layernorm", "gelu"):
        print(f"{kind}:", fit_elementwise(kind, hbm))
    print("all-reduce:", fit_allreduce(d.interconnect.bandwidth_bytes_per_s if d.interconnect else 12 * 25e9))


if __name__ == "__main__":
    main()
