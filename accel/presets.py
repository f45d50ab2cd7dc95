"""Named design points. Unit parameters are chosen from the vendors' published architecture facts so
that `peak_ops_per_s` reproduces the datasheet peaks listed in DESIGN.md (tests check it)."""

from .design import Design, MemoryLevel, SystolicArray, TensorCore
from .systolic import Dataflow

_GB = 1e9
_DESIGNS: dict[str, Design] = {}


def _register(d: Design) -> None:
    _DESIGNS[d.name] = d


def design_names() -> list[str]:
    return list(_DESIGNS)


def get_design(name: str) -> Design:
    """A preset by name (design_names() lists them)."""
    if not isinstance(name, str):
        raise TypeError(f"design name must be a str, got {type(name).__name__}")
    d = _DESIGNS.get(name)
    if d is None:
        import difflib
        close = difflib.get_close_matches(name, _DESIGNS, n=5, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown design {name!r}{hint} (design_names() lists all)")
    return d


# NVIDIA A100 SXM (A100 Tensor Core GPU Architecture whitepaper, 2020): 108 SMs at 1410 MHz boost, 4
# tensor cores per SM, each 256 FP16 FMA/clock dense (1024 per SM; INT8 twice that, TF32 half);
# HBM2e 80 GB at 2,039 GB/s (A100 80GB SXM datasheet). Peaks: FP16 312 / 624 TFLOPS, INT8 624 / 1,248
# TOPS, TF32 156 / 312. On-chip levels come with the memory model (issue #6).
_register(Design(
    name="a100-like", clock_hz=1.41e9,
    unit=TensorCore(name="a100-tc", sm_count=108, accumulator="nv_ampere",
                    macs_per_cycle={"fp16": 1024, "bf16": 1024, "tf32": 512, "int8": 2048}),
    memories=(MemoryLevel("hbm", 80 * 1024**3, 2039 * _GB),)))

# NVIDIA H100 SXM5 (H100 Tensor Core GPU Architecture whitepaper, 2022): 132 SMs, 4 tensor cores per
# SM each 512 FP16 FMA/clock dense (2048 per SM; FP8 and INT8 twice that); the datasheet peaks
# (FP16 989 / 1,979, FP8 1,979 / 3,958 TFLOPS) correspond to a 1.83 GHz clock: 2 x 132 x 2048 x
# 1.83e9 = 989.4e12. HBM3 80 GB at 3,350 GB/s (H100 SXM datasheet).
_register(Design(
    name="h100-like", clock_hz=1.83e9,
    unit=TensorCore(name="h100-tc", sm_count=132, accumulator="nv_hopper",
                    macs_per_cycle={"fp16": 2048, "bf16": 2048, "tf32": 1024, "e4m3": 4096, "e5m2": 4096,
                                    "int8": 4096}),
    memories=(MemoryLevel("hbm", 80 * 1024**3, 3350 * _GB),)))

# Google TPU v1 (Jouppi et al., ISCA 2017): 256 x 256 INT8 MACs at 700 MHz = 92 TOPS, weight
# stationary; 8 GiB of DDR3 at 34 GB/s.
_register(Design(
    name="tpu-v1-like", clock_hz=700e6,
    unit=SystolicArray(name="tpu-v1-mxu", rows=256, cols=256, dataflow=Dataflow.WS, formats=("int8",)),
    memories=(MemoryLevel("ddr3", 8 * 1024**3, 34 * _GB),)))

# A 32 x 32 output-stationary array for comparison with SCALE-Sim's compute cycles (DESIGN.md's
# reference numbers); compute only (no memory levels); the 1 GHz clock only converts cycles to seconds.
_register(Design(
    name="scalesim-32x32", clock_hz=1e9,
    unit=SystolicArray(name="scalesim-32x32", rows=32, cols=32, dataflow=Dataflow.OS, formats=("int8",)),
    memories=()))
