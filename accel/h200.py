"""Kernel times recorded on a real NVIDIA H200 (accel/data/h200/, scripts/h200_record.py) read into rows,
and the `h200-like` preset's prediction and error for each. Nothing here is fitted: every row is a
prediction of a preset built from the datasheet with A100's fitted mechanisms (accel/presets.py).

Times are the median host wall-clock of one PyTorch call and its synchronize (LLMCompass's convention,
which the launch floors were fitted in); `event_s` is the GPU's own time per call (CUDA events around
back-to-back calls), given beside it.
"""

import json
from importlib import resources

from .llmcompass import errors  # noqa: F401 - one error summary for every measured table


def _load(name: str) -> dict:
    with (resources.files("accel") / "data" / "h200" / name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


def device_facts() -> dict:
    """The recorded device properties (name, SMs, L2 bytes, memory, capability, software versions)."""
    return _load("times.json")["facts"]


def gemm_rows(dtype: str, fast_accum: bool = True) -> list[dict]:
    """{m, n, k, measured_s, event_s} of the recorded GEMMs: dtype "fp16" (torch.matmul, FP16 out) or "e4m3"
    (torch._scaled_mm with unit scales and FP32 out; fast_accum: the use_fast_accum flag)."""
    if dtype not in ("fp16", "e4m3"):
        raise ValueError(f"dtype must be 'fp16' or 'e4m3', got {dtype!r}")
    return [{"m": r["m"], "n": r["n"], "k": r["k"], "measured_s": r["wall_median_s"], "event_s": r["event_mean_s"]}
            for r in _load("times.json")["rows"] if r["op"] == "gemm" and r["dtype"] == dtype
            and (dtype == "fp16" or r["fast_accum"] == fast_accum)]


def elementwise_rows(kind: str) -> list[dict]:
    """{rows, cols, measured_s, event_s} of the recorded softmax / layernorm / gelu kernels (FP16, eager)."""
    if kind not in ("softmax", "layernorm", "gelu"):
        raise ValueError(f"kind must be 'softmax', 'layernorm' or 'gelu', got {kind!r}")
    return [{"rows": r["rows"], "cols": r["cols"], "measured_s": r["wall_median_s"], "event_s": r["event_mean_s"]}
            for r in _load("times.json")["rows"] if r["op"] == kind]


def gemm_predictions(design, dtype: str, fast_accum: bool = True) -> list[dict]:
    """Each recorded GEMM with the design's time and the error (model / measured - 1)."""
    from .timing import gemm_timing
    from .workloads import Gemm
    out = []
    for r in gemm_rows(dtype, fast_accum):
        g = Gemm(r["m"], r["n"], r["k"], a_format=dtype, out_format="fp16" if dtype == "fp16" else "fp32")
        s = gemm_timing(design, g).seconds
        out.append({**r, "model_s": s, "error": s / r["measured_s"] - 1, "fit": False})
    return out


def elementwise_predictions(design, kind: str) -> list[dict]:
    from .ops import Elementwise, elementwise_timing
    out = []
    for r in elementwise_rows(kind):
        s = elementwise_timing(design, Elementwise(kind, r["rows"], r["cols"], dtype="fp16")).seconds
        out.append({**r, "model_s": s, "error": s / r["measured_s"] - 1, "fit": False})
    return out


def sustained_clocks() -> dict:
    """{gemm dtype: {flops_per_s, clock_mhz_median, power_w_median, power_limit_w, power_capped_share}} of
    6 s of back-to-back 8192³ GEMMs (accel/data/h200/clocks.json, sampled by nvidia-smi every 100 ms)."""
    import statistics
    out = {}
    for name, r in _load("clocks.json").items():
        cols = r["query"].split(",")
        s = [dict(zip(cols, row, strict=True)) for row in r["samples"]]
        out[name] = {"flops_per_s": r["flops_per_s"],
                     "clock_mhz_median": statistics.median(float(x["clocks.sm"]) for x in s),
                     "power_w_median": statistics.median(float(x["power.draw"]) for x in s),
                     "power_limit_w": float(s[0]["power.limit"]),
                     # nvidia-smi's clocks_throttle_reasons bit 0x4: software power cap
                     "power_capped_share": sum(int(x["clocks_throttle_reasons.active"], 16) & 0x4 != 0
                                               for x in s) / len(s)}
    return out


def sparse_predictions(design) -> list[dict]:
    """2:4-sparse FP16 GEMMs (PyTorch's semi-structured sparsity through cuSPARSELt; A (m x k) sparse along
    K) against dense ones, both recorded on the H200 (accel/data/h200/sparse.json): measured and modelled
    seconds of each and the speed-ups sparse / dense."""
    from .timing import gemm_timing
    from .workloads import Gemm
    out = []
    for r in _load("sparse.json")["rows"]:
        if "error" in r or r["dtype"] != "float16":
            continue
        g = Gemm(r["m"], r["n"], r["k"], a_format="fp16", out_format="fp16")
        dense = gemm_timing(design, g).seconds
        sparse = gemm_timing(design, g.replace(sparsity="2:4")).seconds
        md, ms = r["dense"]["wall_median_s"], r["sparse"]["wall_median_s"]
        out.append({"m": r["m"], "n": r["n"], "k": r["k"], "backend": r["backend"], "measured_dense_s": md,
                    "measured_sparse_s": ms, "model_dense_s": dense, "model_sparse_s": sparse,
                    "measured_speedup": md / ms, "model_speedup": dense / sparse})
    return out
