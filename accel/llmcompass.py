"""LLMCompass's measurements of real A100 and MI210 GPUs (vendored in accel/data/llmcompass, README there)
read into rows, and the model's prediction and error for each: what the calibration script
(scripts/calibrate_llmcompass.py), the tests and docs/validation.md share.

Every measured time is the median host wall-clock time of one call (`time.time()` around the PyTorch call
and `torch.cuda.synchronize()`), so it includes the host-side dispatch and launch; the GEMMs are
`torch.bmm`/`matmul` in FP16, softmax `torch.softmax` in FP16, layer norm and GELU (tanh) `torch.compile`d
FP16 functions, the all-reduce NCCL on four NVLink-connected A100s.
"""

import csv
import statistics
from importlib import resources

# The rows each constant is fitted on (scripts/calibrate_llmcompass.py); every other row is a prediction.
GEMM_FIT_ROWS = ((8192, 64, 64), (8192, 256, 256), (16384, 12288, 12288), (8192, 16384, 16384))
# The element-wise constants are fitted on each whole A100 table (softmax, layer norm, GELU): their checks
# are the MI210 tables and the GPT-3 layer's element-wise ops.
# Each protocol's constants go through two sizes, the ends of the range where it is the fastest
# (scripts/calibrate_llmcompass.py): NCCL's LL for small messages, LL128 for mid sizes, Simple (the bulk
# protocol) for large ones. Every other size is a prediction.
ALLREDUCE_FIT_BYTES = {"ll": (8, 2**15), "ll128": (2**18, 2**22), "simple": (2**26, 2**34)}


def _lines(name: str) -> list[list[str]]:
    with (resources.files("accel") / "data" / "llmcompass" / name).open("r", encoding="utf-8") as fh:
        return [[c.strip() for c in row] for row in csv.reader(fh) if row]


def matmul_rows(chip: str = "A100") -> list[tuple[int, int, int, float]]:
    """(M, N, K, seconds) of `matmul_<chip>.csv`: A (M x K) times B (K x N), FP16 (the file's columns are
    M, N, K with N = K, then the time in ms and the TFLOPS)."""
    return [(int(r[0]), int(r[1]), int(r[2]), float(r[3].removesuffix("ms")) * 1e-3)
            for r in _lines(f"matmul_{chip}.csv")]


def elementwise_rows(kind: str, chip: str = "A100") -> list[tuple[int, int, float]]:
    """(rows, cols, seconds) of softmax/layernorm over rows of `cols` (files: M, N, G elements per s) or
    (elements, 1, seconds) of GELU (file: elements, G elements per s)."""
    out = []
    for r in _lines(f"{kind}_{chip}.csv"):
        if kind == "gelu":
            e = int(r[0])
            out.append((e, 1, e / (float(r[1]) * 1e9)))
        else:
            m, n = int(r[0]), int(r[1])
            out.append((m, n, m * n / (float(r[2]) * 1e9)))
    return out


def allreduce_rows() -> list[tuple[int, float]]:
    """(bytes, seconds) of an FP16 all-reduce over four A100s (NVLink 3), from LLMCompass's
    ae/figure5/h/test_allreduce.py (there in microseconds)."""
    return [(int(r[0]), float(r[1]) * 1e-6) for r in _lines("allreduce_A100.csv")]


# the order of LLMCompass's layer breakdowns (ae/figure5/ijkl/plot_transformer.py) in lowbit's op names
LAYER_OPS = ("qkv", "qk", "av", "wo", "ffn1", "ffn2", "softmax", "layernorm_attn", "layernorm_ffn", "gelu",
             "allreduce_attn", "allreduce_ffn")


def layer_rows(phase: str) -> dict:
    """{op name: seconds} of one GPT-3 175B layer on four A100s (d 12288, 96 heads, batch 8, FP16): prefill
    of 2048 tokens (transformer_A100.csv) or the decode step with 3072 keys (transformerAR_A100.csv).
    Never fitted on: the independent check."""
    name = {"prefill": "transformer_A100.csv", "decode": "transformerAR_A100.csv"}[phase]
    return dict(zip(LAYER_OPS, (float(r[0]) for r in _lines(name)), strict=True))


def errors(pairs) -> dict:
    """{"median": , "max": } of |model / measured - 1| over (model, measured) pairs."""
    e = [abs(a / b - 1) for a, b in pairs]
    return {"median": statistics.median(e), "max": max(e), "n": len(e)}


def gemm_predictions(design, chip: str = "A100") -> list[dict]:
    """One dict per matmul row: shape, measured and model seconds, error, fitted or predicted."""
    from .timing import gemm_timing
    from .workloads import Gemm
    out = []
    for m, n, k, t in matmul_rows(chip):
        s = gemm_timing(design, Gemm(m, n, k, a_format="fp16", out_format="fp16")).seconds
        out.append({"m": m, "n": n, "k": k, "measured_s": t, "model_s": s, "error": s / t - 1,
                    "fit": chip == "A100" and (m, n, k) in GEMM_FIT_ROWS})
    return out


def elementwise_predictions(design, kind: str, chip: str = "A100") -> list[dict]:
    from .ops import Elementwise, elementwise_timing
    out = []
    for r, c, t in elementwise_rows(kind, chip):
        s = elementwise_timing(design, Elementwise(kind, r, c, dtype="fp16")).seconds
        out.append({"rows": r, "cols": c, "measured_s": t, "model_s": s, "error": s / t - 1,
                    "fit": chip == "A100"})
    return out


def allreduce_predictions(design) -> list[dict]:
    from .interconnect import allreduce_timing
    out = []
    fit = {b for pair in ALLREDUCE_FIT_BYTES.values() for b in pair}
    for b, t in allreduce_rows():
        c = allreduce_timing(design, b, 4)
        out.append({"bytes": b, "measured_s": t, "model_s": c.seconds, "error": c.seconds / t - 1, "fit": b in fit,
                    "protocol": c.protocol})
    return out
