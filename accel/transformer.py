"""One decoder layer of a Megatron-style tensor-parallel transformer as a workload of ops (GEMMs, batched
attention GEMMs, element-wise kernels, all-reduces), and its simulation op by op.

Per device, with p = tp devices (Shoeybi et al., "Megatron-LM", arXiv 1909.08053, §3): the attention heads
and the FFN's hidden columns are split p ways; the output projection and the second FFN GEMM produce
partial sums of the full hidden width that an all-reduce adds. The ops and their names, in the order of
`Report.per_op`: `qkv` (the Q, K and V projections: three kernels, as LLMCompass measures them, or one
fused kernel with `fuse_qkv=True`), `qk` (Q K^T per head, one batched kernel), `av` (attention times V per
head, one batched kernel), `wo`, `ffn1`, `ffn2`, `softmax`, `layernorm_attn`, `layernorm_ffn`, `gelu`,
`allreduce_attn`, `allreduce_ffn` (0 s on one device).
"""

import math
from dataclasses import dataclass, field

from .design import format_info
from .interconnect import AllReduce, allreduce_timing
from .ops import Elementwise, elementwise_timing
from .workloads import Gemm, mma_formats

PHASES = ("prefill", "decode")
# names the issue and common usage give formats, mapped to lowbit's registered names
_ALIASES = {"fp8": "e4m3", "fp4": "e2m1"}
LAYER_OP_NAMES = ("qkv", "qk", "av", "wo", "ffn1", "ffn2", "softmax", "layernorm_attn", "layernorm_ffn", "gelu",
                  "allreduce_attn", "allreduce_ffn")


@dataclass(frozen=True)
class Layer:
    """A workload of named ops run one after another: Gemm, accel.ops.Elementwise and
    accel.interconnect.AllReduce."""

    name: str
    ops: tuple = field(compare=False)
    info: dict = field(default_factory=dict, compare=False)
    args: dict = field(default_factory=dict, compare=False)  # transformer_layer's arguments, as given

    def with_args(self, **changes) -> "Layer":
        """The layer transformer_layer builds from this one's arguments with `changes` (a sweep's
        "workload.tp" axis); only for layers made by transformer_layer."""
        if not self.args:
            raise ValueError(f"layer {self.name!r} was not made by transformer_layer: it has no arguments to change")
        unknown = sorted(set(changes) - set(self.args))
        if unknown:
            raise ValueError(f"transformer_layer has no argument {unknown[0]!r}; it has {sorted(self.args)}")
        return transformer_layer(**{**self.args, **changes})

    def __post_init__(self) -> None:
        if not isinstance(self.ops, tuple) or not self.ops:
            raise ValueError("Layer.ops must be a non-empty tuple of ops")
        for op in self.ops:
            if not isinstance(op, Gemm | Elementwise | AllReduce):
                raise ValueError(f"unknown op {op!r}: a Layer holds Gemm, Elementwise and AllReduce ops")
        names = [op.name for op in self.ops]
        if len(set(names)) != len(names):
            raise ValueError(f"Layer op names must be unique, got {names}")

    def gemms(self) -> list[Gemm]:
        return [op for op in self.ops if isinstance(op, Gemm)]

    def describe(self) -> dict:
        return {"workload": self.name, **self.info}


def _positive(name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"transformer_layer: {name} must be a positive int, got {v!r}")
    return v


def _format(name: str, v: str) -> str:
    if not isinstance(v, str):
        raise TypeError(f"transformer_layer: {name} must be a format name (str), got {type(v).__name__}")
    v = _ALIASES.get(v, v)
    format_info(v)  # unknown names raise, naming the valid ones
    return v


def transformer_layer(d_model: int, heads: int, batch: int, seq: int, phase: str = "prefill",
                      kv_len: int | None = None, tp: int = 1, dtype: str = "fp16", ffn_mult: int = 4,
                      act_dtype: str | None = None, fuse_qkv: bool = False, seed: int = 0) -> Layer:
    """One Megatron-style tensor-parallel decoder layer, per device. `seq`: query tokens per sequence in
    this step (the prompt length in prefill, 1 in decode); `kv_len`: keys attended to (default `seq`; the
    decode of token 1025 after a 2048-token prompt is seq=1, kv_len=3072). `dtype`: the format of the
    projection and FFN GEMMs' operands (any scalar or block format name; "fp8" means e4m3, "fp4" e2m1);
    `act_dtype`: the format of the attention GEMMs, the element-wise ops, the all-reduces and every
    GEMM's output (default: `dtype` when it has 16 bits or more, else fp16)."""
    args = {"d_model": d_model, "heads": heads, "batch": batch, "seq": seq, "phase": phase, "kv_len": kv_len,
            "tp": tp, "dtype": dtype, "ffn_mult": ffn_mult, "act_dtype": act_dtype, "fuse_qkv": fuse_qkv,
            "seed": seed}
    for name, v in (("d_model", d_model), ("heads", heads), ("batch", batch), ("seq", seq), ("tp", tp),
                    ("ffn_mult", ffn_mult)):
        _positive(name, v)
    if phase not in PHASES:
        raise ValueError(f"transformer_layer: phase must be one of {PHASES}, got {phase!r}")
    kv = seq if kv_len is None else _positive("kv_len", kv_len)
    if kv < seq:
        raise ValueError(f"transformer_layer: kv_len ({kv}) must be at least seq ({seq}): the keys include the "
                         "queries' own")
    if d_model % heads:
        raise ValueError(f"transformer_layer: d_model ({d_model}) must be a multiple of heads ({heads})")
    if heads % tp:
        raise ValueError(f"transformer_layer: tp ({tp}) must divide heads ({heads})")
    if not isinstance(fuse_qkv, bool):
        raise TypeError(f"transformer_layer: fuse_qkv must be a bool, got {fuse_qkv!r}")
    dtype = _format("dtype", dtype)
    if act_dtype is None:
        act_dtype = dtype if format_info(dtype)[1] >= 16 else "fp16"
    act_dtype = _format("act_dtype", act_dtype)
    t, dh, h_tp, d_tp, f_tp = batch * seq, d_model // heads, heads // tp, d_model // tp, ffn_mult * d_model // tp
    w = {"a_format": dtype, "out_format": act_dtype}
    att = {"a_format": act_dtype, "out_format": act_dtype, "count": batch * h_tp, "batched": True,
           "b_weight": False}  # K and V are activations
    qkv = (Gemm(t, 3 * d_tp, d_model, name="qkv", seed=seed, **w) if fuse_qkv
           else Gemm(t, d_tp, d_model, count=3, name="qkv", seed=seed, **w))
    act_bytes = format_info(act_dtype)[1] / 8
    ar_bytes = math.ceil(t * d_model * act_bytes)
    ops = (qkv,
           Gemm(seq, kv, dh, name="qk", seed=seed + 1, **att),
           Gemm(seq, dh, kv, name="av", seed=seed + 2, **att),
           Gemm(t, d_model, d_tp, name="wo", seed=seed + 3, **w),
           Gemm(t, f_tp, d_model, name="ffn1", seed=seed + 4, **w),
           Gemm(t, d_model, f_tp, name="ffn2", seed=seed + 5, **w),
           Elementwise("softmax", batch * h_tp * seq, kv, act_dtype, name="softmax"),
           Elementwise("layernorm", t, d_model, act_dtype, name="layernorm_attn"),
           Elementwise("layernorm", t, d_model, act_dtype, name="layernorm_ffn"),
           Elementwise("gelu", t, f_tp, act_dtype, name="gelu"),
           AllReduce(ar_bytes, tp, name="allreduce_attn"),
           AllReduce(ar_bytes, tp, name="allreduce_ffn"))
    info = {"d_model": d_model, "heads": heads, "batch": batch, "seq": seq, "kv_len": kv, "phase": phase, "tp": tp,
            "dtype": dtype, "act_dtype": act_dtype, "ffn_mult": ffn_mult}
    return Layer(f"transformer-{phase}-d{d_model}-tp{tp}", ops, info, args)


def simulate_layer(design, layer: Layer, accuracy: bool = True, max_rows: int = 32, max_cols: int = 32):
    """A Report for `layer` on `design` with `per_op`: one dict per op (name, kind, seconds, bound,
    energy_j; GEMMs also their shape and, with accuracy=True, the error of the numbers the unit's
    accumulator produces on a seeded sample of max_rows x max_cols outputs)."""
    from .accuracy import gemm_accuracy
    from .design import SystolicArray, TensorCore
    from .simulate import Report, energy_pj
    from .timing import gemm_timing

    if not isinstance(design.unit, TensorCore | SystolicArray):
        raise ValueError(f"design {design.name!r} has a {type(design.unit).__name__} unit: a Layer (a transformer "
                         f"layer or an imported model) needs a digital unit (TensorCore, SparseTensorCore or "
                         f"SystolicArray); on a crossbar, accel.simulate_model(layer, design) runs its GEMMs")
    per_op, counts, energy = [], {}, {}
    seconds = comp = 0.0
    ideal = 0.0
    bound_time: dict = {}
    worst = None
    for op in layer.ops:
        entry = {"name": op.name}
        if isinstance(op, Gemm):
            t = gemm_timing(design, op)
            comp += t.compute_cycles
            ideal += op.macs / min(design.unit.macs_per_clock(f, op.sparsity is not None)
                                   for f in mma_formats(op.a_format, op.b_fmt)[:2])
            entry.update(kind="batched_gemm" if op.batched else "gemm", m=op.m, n=op.n, k=op.k, count=op.count)
        elif isinstance(op, Elementwise):
            t = elementwise_timing(design, op)
            entry["kind"] = op.kind
        else:
            t = allreduce_timing(design, op.nbytes, op.devices, op.algorithm)
            entry["kind"] = "allreduce"
        e = {k: v * 1e-12 for k, v in energy_pj(design, t.counts).items()}
        entry.update(seconds=t.seconds, bound=t.bound, energy_j=sum(e.values()))
        if accuracy and isinstance(op, Gemm):
            acc = gemm_accuracy(op, design.unit.accumulator_for(mma_formats(op.a_format, op.b_fmt)[0]), max_rows,
                                max_cols)
            entry["accuracy"] = acc
            if worst is None or acc["rel_fro_err"] > worst["rel_fro_err"]:
                worst = acc
        per_op.append(entry)
        seconds += t.seconds
        bound_time[t.bound] = bound_time.get(t.bound, 0.0) + t.seconds
        for key, v in t.counts.items():
            counts[key] = counts.get(key, 0) + v
        for key, v in e.items():
            energy[key] = energy.get(key, 0.0) + v
    total_e = sum(energy.values())
    ops = 2 * sum(g.macs for g in layer.gemms()) + sum(op.flops for op in layer.ops if isinstance(op, Elementwise))
    cycles = seconds * design.clock_hz
    return Report(design=design.name, workload=layer.describe(), cycles=cycles, seconds=seconds,
                  compute_cycles=int(comp), energy_j=total_e, energy_breakdown_j=energy, ops=ops,
                  ops_per_s=ops / seconds, ops_per_j=ops / total_e if total_e else math.inf,
                  bound=max(bound_time, key=bound_time.get), utilisation=ideal / cycles if cycles else 0.0,
                  counts=counts, accuracy=worst, per_op=per_op)
