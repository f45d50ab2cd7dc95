"""Non-GEMM operators of a transformer layer (softmax, layer norm, RMS norm, GELU, SiLU, residual add) as
workload ops, and their timing: memory-bound kernels that read and write every element from the outermost
memory level at a fraction of its bandwidth, plus a launch floor.

    seconds = launch_s + max(floor_s, bytes / (bandwidth x bandwidth_fraction))

`bytes` counts what the kernel moves: each input element read once and each output written once (a pooling
op reads each window, rows x cols, and writes one value per row; an embedding gather reads the rows it
gathers, rows x cols, and writes them), and
for a row reduction whose row is longer than `row_buffer_bytes` the input read three times (the kernel no
longer holds a row on chip: one pass for the statistics, one to normalise, on top of the first). The
constants per kind live in the design (`Design.elementwise`, one `KernelCost` per kind) with the
measurement they were fitted to; a design without an entry for a kind gets the ideal roofline (no
launch floor, the full bandwidth).
"""

import math
from dataclasses import dataclass

from .design import format_info

# kind -> (input tensors read per output element, flops per element, is a row reduction)
# flops: softmax max, subtract, exp, sum, divide; layer norm mean, variance (2), normalise (2), scale and
# shift (2); RMS norm square, sum, scale (2); GELU (tanh form) 3 mults, 1 add, tanh, 1 add, 2 mults ~ 8;
# SiLU x sigmoid(x) ~ 4; ReLU a compare 1; residual add 1; inference batch norm a per-channel scale and shift 2;
# pooling one compare (max) or add (average) per window element; an embedding gather 0 (it only moves rows).
# They count energy; the kernels are bound by memory.
KINDS = {"softmax": (1, 5, True), "layernorm": (1, 8, True), "rmsnorm": (1, 4, True),
         "gelu": (1, 8, False), "silu": (1, 4, False), "relu": (1, 1, False),
         "add": (2, 1, False), "batchnorm": (1, 2, False), "pool": (1, 1, False), "gather": (1, 0, False)}
# kinds that write one value per row (a pooling window: rows = outputs, cols = the window) instead of one
# per element
ROW_OUTPUT = {"pool"}


def _check_kind(kind) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown op kind {kind!r}; the element-wise ops are {sorted(KINDS)}")


@dataclass(frozen=True)
class KernelCost:
    """How a design runs one kind of element-wise kernel: `launch_s` per kernel (dispatch and launch as a
    measured call sees it), `bandwidth_fraction` of the outermost memory level's bandwidth sustained
    while streaming, a minimum kernel time `floor_s` (latency of a tiny kernel), and for row reductions
    `row_buffer_bytes`: rows longer than this are read three times (math.inf: never)."""

    launch_s: float = 0.0
    bandwidth_fraction: float = 1.0
    floor_s: float = 0.0
    row_buffer_bytes: float = math.inf

    def __post_init__(self) -> None:
        for name in ("launch_s", "floor_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v < math.inf:
                raise ValueError(f"KernelCost.{name} must be a finite number of seconds >= 0, got {v!r}")
        f = self.bandwidth_fraction
        if isinstance(f, bool) or not isinstance(f, int | float) or not 0 < f <= 1:
            raise ValueError(f"KernelCost.bandwidth_fraction must be in (0, 1], got {f!r}")
        r = self.row_buffer_bytes
        if isinstance(r, bool) or not isinstance(r, int | float) or not r > 0:
            raise ValueError(f"KernelCost.row_buffer_bytes must be a positive number (math.inf: none), got {r!r}")


_IDEAL = KernelCost()


def check_elementwise_table(table) -> dict:
    """Design.elementwise as given ({kind: KernelCost or a dict of its fields}) -> {kind: KernelCost}."""
    if not isinstance(table, dict):
        raise ValueError(f"Design.elementwise must be a {{kind: KernelCost}} table, got {type(table).__name__}")
    out = {}
    for kind, cost in table.items():
        _check_kind(kind)
        if isinstance(cost, dict):
            try:
                cost = KernelCost(**cost)
            except TypeError as err:
                raise ValueError(f"Design.elementwise[{kind!r}]: {err}") from None
        if not isinstance(cost, KernelCost):
            raise ValueError(f"Design.elementwise[{kind!r}] must be a KernelCost, got {type(cost).__name__}")
        out[kind] = cost
    return out


@dataclass(frozen=True)
class Elementwise:
    """One element-wise kernel over a `rows` x `cols` tensor in `dtype` (reductions run along a row:
    softmax over the keys, norms over the hidden dimension), `count` separate kernels."""

    kind: str
    rows: int
    cols: int
    dtype: str = "fp16"
    count: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        for f in ("rows", "cols", "count"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"Elementwise.{f} must be a positive int, got {v!r}")
        format_info(self.dtype)
        if not self.name:
            object.__setattr__(self, "name", self.kind)

    @property
    def elements(self) -> int:
        return self.rows * self.cols

    @property
    def flops(self) -> int:
        return KINDS[self.kind][1] * self.elements * self.count

    def describe(self) -> dict:
        return {"workload": self.name, "kind": self.kind, "rows": self.rows, "cols": self.cols, "dtype": self.dtype,
                "count": self.count}


@dataclass(frozen=True)
class OpTiming:
    """Seconds, bound and action counts of one non-GEMM op (all its `count` kernels)."""

    seconds: float
    bound: str
    counts: dict


def elementwise_timing(design, op: Elementwise) -> OpTiming:
    """Time of `op` on `design`: memory-bound on the outermost level, plus the launch floor."""
    if not design.memories:
        raise ValueError(f"design {design.name!r} has no memory level: element-wise ops stream from the outermost")
    mem = design.memories[-1]
    cost = design.elementwise.get(op.kind, _IDEAL)
    reads, _, reduction = KINDS[op.kind]
    eb = format_info(op.dtype)[1] / 8
    row_bytes = op.cols * eb
    if reduction and row_bytes > cost.row_buffer_bytes:
        reads = 3 * reads
    outputs = op.rows if op.kind in ROW_OUTPUT else op.elements
    nbytes = (op.elements * reads + outputs) * eb
    stream = nbytes / (mem.total_bandwidth_bytes_per_s * cost.bandwidth_fraction)
    kernel = max(cost.floor_s, stream)
    seconds = (cost.launch_s + kernel) * op.count
    if stream >= cost.floor_s and stream >= cost.launch_s:
        bound = mem.name
    else:
        bound = "launch"
    return OpTiming(seconds=seconds, bound=bound,
                    counts={(mem.name, "byte"): nbytes * op.count, ("vector", "fp32_op"): op.flops})
