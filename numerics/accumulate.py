"""How a dot-product unit sums products, bit for bit (Accumulator), its presets, and matmul."""

import dataclasses
from dataclasses import dataclass
from enum import Enum

import numpy as np

import kernels

from . import fastref
from .blocks import BlockTensor
from .formats import FloatFormat, IntFormat, PositFormat, ScalarFormat, get_format
from .formats.base import bool_fields, int_fields
from .naming import Registry
from .rounding import RoundMode
from .sparse import SparseTensor

FAST_REFERENCES = True  # False: the reference kernels only (tests and benchmarks compare the two routes)
PROGRESS_WORK = 1 << 28  # products from which a float matmul runs by row chunks under a tqdm bar
PROGRESS_DELAY_S = 1.0  # the bar appears once the call has run this long


class AccMethod(Enum):
    """How the products of a dot product are summed."""

    EXACT = "exact"  # exact products and sum, one rounding into out_format (the posit quire)
    FMA = "fma"  # sequential IEEE fused multiply-adds in out_format, k ascending
    PAIRWISE = "pairwise"  # products rounded to out_format, balanced tree of rounded additions
    FUSED = "fused"  # tensor-core steps: align to the largest exponent, truncate to F bits, sum
    TWO_LEVEL = "two_level"  # AMD CDNA3: products fused first, then added to the accumulator (F, F2)
    GROUPED = "grouped"  # Blackwell NVFP4: exact group sums times block scales, then fused steps
    INTEGER = "integer"  # exact integer products in a two's complement register of int_bits


# integer fields: (name, lowest, highest) -- kept by name for the checks in Accumulator.__post_init__
_INT_FIELDS = {f: (f, lo, hi) for f, lo, hi in (
    ("block_bytes", 0, 1 << 16), ("align_bits", 0, 40), ("zero_exp_offset", 0, 64), ("promote_every", 0, 1 << 30),
    ("int_bits", 2, 63), ("sum_bits", 0, 50), ("group_size", 0, 1 << 16), ("interleave", 1, 64),
    ("carry_bits", 0, 20))}
_USES = {
    AccMethod.EXACT: set(), AccMethod.FMA: set(), AccMethod.PAIRWISE: set(),
    AccMethod.FUSED: {"block_bytes", "align_bits", "zero_exp_offset", "promote_every", "carry_bits"},
    AccMethod.TWO_LEVEL: {"block_bytes", "align_bits", "sum_bits", "interleave"},
    AccMethod.GROUPED: {"block_bytes", "group_size", "align_bits", "zero_exp_offset"},
    AccMethod.INTEGER: {"int_bits", "int_saturate"},
}


@dataclass(frozen=True, kw_only=True)
class Accumulator:
    """The arithmetic of a dot-product unit.

    Args:
        method: an `AccMethod`.
        out_format: the accumulator's format (FP32 for tensor cores; E8M13 for Hopper FP8; None with
            EXACT: the operands' format, as the posit quire rounds into the posit format).
        out_rounding: rounding into out_format (TOWARD_ZERO or TIES_TO_EVEN for FUSED; EXACT: any).
        block_bytes: FUSED: operand bytes one fused step consumes; terms per step = block_bytes / the
            operand's byte width (MMA-Sim's L_max: 8 bytes Volta, 16 Turing-Ada, 32 Hopper/Blackwell).
        align_bits: FUSED: F, the fraction bits each aligned term keeps (truncation toward zero).
        zero_exp_offset: FUSED: zero terms take exponent out_format.emin - zero_exp_offset in the
            alignment (MMA-Sim's e_zero).
        promote_every: FUSED: add the partial sum into an FP32 accumulator every this many elements
            of K (DeepSeek-V3 §3.3.2 uses 128); 0 never.
        int_bits, int_saturate: INTEGER register width and overflow behaviour (wrap otherwise).
        sum_bits: TWO_LEVEL: F2, the bits kept of the products' sum and of the normalised result.
        group_size: GROUPED: elements summed exactly before their block scales multiply them.
        interleave: TWO_LEVEL: interleaved product groups per step, each fused before the groups are
            combined (MMA-Sim's GTR-FDPA for AMD CDNA3 FP8: 2); 1 is TR-FDPA.
        carry_bits: FUSED: carry-out bits of the step's adder above the largest aligned term (whose
            magnitude is below 2^(F+2)); a sum that needs more wraps as in a fixed-width two's-complement
            adder. 0: unbounded (every preset: the step sums are exact, as MMA-Sim and Fasi et al. find).
    """

    method: AccMethod
    out_format: ScalarFormat | None = None
    out_rounding: RoundMode = RoundMode.TIES_TO_EVEN
    block_bytes: int = 0
    align_bits: int = 0
    zero_exp_offset: int = 0
    promote_every: int = 0
    int_bits: int = 32
    int_saturate: bool = False
    sum_bits: int = 0
    group_size: int = 0
    interleave: int = 1
    carry_bits: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.method, AccMethod):
            raise TypeError(f"method must be an AccMethod, got {self.method!r}")
        int_fields(self, *_INT_FIELDS)
        bool_fields(self, "int_saturate")
        for f, lo, hi in _INT_FIELDS.values():
            v = getattr(self, f)
            if not lo <= v <= hi:
                raise ValueError(f"{f} must be in {lo}..{hi}, got {v}")
        # a field the method does not use would be silently ignored: it must keep its default
        for f in _INT_FIELDS | {"int_saturate": None}:
            if f not in _USES[self.method] and getattr(self, f) != _DEFAULTS[f]:
                users = [m.name for m, used in _USES.items() if f in used]
                raise ValueError(f"{f}={getattr(self, f)!r} does not apply to method AccMethod.{self.method.name} "
                                 f"(only to {', '.join(users)}); leave it at {_DEFAULTS[f]!r}")
        if self.method == AccMethod.EXACT and self.out_format is not None \
                and not isinstance(self.out_format, FloatFormat | PositFormat):
            # the exact sum is rounded to odd in float64 first: one more rounding is correct only onto a
            # binary grid of <= 51 bits (Boldo & Melquiond 2008), not onto arbitrary levels or integers
            raise ValueError(f"EXACT rounds into a float or posit out_format, got {type(self.out_format).__name__}; "
                             "use method=AccMethod.INTEGER for integer accumulators")
        if not isinstance(self.out_rounding, RoundMode):
            raise TypeError(f"out_rounding must be a RoundMode, got {self.out_rounding!r}")
        if self.out_format is not None and not isinstance(self.out_format, ScalarFormat):
            raise TypeError(f"out_format must be a format or None, got {self.out_format!r}")
        if self.method == AccMethod.TWO_LEVEL:
            if self.block_bytes < 1 or not 1 <= self.align_bits <= 40 or not 1 <= self.sum_bits <= 50:
                raise ValueError("TWO_LEVEL needs block_bytes >= 1, 1 <= align_bits <= 40, 1 <= sum_bits <= 50")
            if self.out_format != get_format("fp32") or self.out_rounding != RoundMode.TIES_TO_EVEN:
                raise ValueError("TWO_LEVEL rounds to FP32, to nearest even")
            if self.interleave < 1 or self.block_bytes % self.interleave:
                raise ValueError("TWO_LEVEL needs interleave >= 1 dividing the step")
        if self.method == AccMethod.GROUPED and (self.group_size < 1 or self.block_bytes % self.group_size
                                                  or not 1 <= self.align_bits <= 40):
            raise ValueError("GROUPED needs group_size >= 1 dividing block_bytes and 1 <= align_bits <= 40")
        if self.method in (AccMethod.FMA, AccMethod.PAIRWISE, AccMethod.FUSED):
            if not isinstance(self.out_format, FloatFormat):
                raise ValueError(f"{self.method.value} accumulation needs a float out_format")
            if self.out_format.man_bits > 23 or not self.out_format.signed:
                raise ValueError("the accumulator format must be signed with at most 23 fraction bits")
        if self.method == AccMethod.FUSED:
            if self.block_bytes < 1 or not 1 <= self.align_bits <= 40:
                raise ValueError("FUSED needs block_bytes >= 1 and 1 <= align_bits <= 40")
            if self.out_rounding not in (RoundMode.TOWARD_ZERO, RoundMode.TIES_TO_EVEN):
                raise ValueError("FUSED rounds its result toward zero or to nearest even")
        if self.method in (AccMethod.FMA, AccMethod.PAIRWISE) and self.out_rounding != RoundMode.TIES_TO_EVEN:
            raise ValueError("FMA and PAIRWISE accumulators round to nearest even (IEEE 754)")
        if self.method == AccMethod.INTEGER and not 2 <= self.int_bits <= 63:
            raise ValueError(f"int_bits must be in 2..63, got {self.int_bits}")
        if self.promote_every < 0:
            raise ValueError("promote_every must be >= 0")
        if not 0 <= self.carry_bits <= 20:
            raise ValueError(f"carry_bits must be in 0..20 (0: unbounded), got {self.carry_bits}")

    @property
    def name(self) -> str:
        return _ACCS.name_of(self) or f"{self.method.value}-accumulator"


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Accumulator)}


_ACCS = Registry("accumulator", Accumulator)


def register_accumulator(name: str, acc: Accumulator) -> None:
    _ACCS.register(name, acc)


def accumulator_names() -> list[str]:
    return _ACCS.names()


def get_accumulator(name: str) -> Accumulator:
    """A preset by name (accumulator_names() lists them)."""
    acc = _ACCS.get(name)
    if acc is None:
        raise _ACCS.unknown(name, "accumulator_names() lists all")
    return acc


def _presets() -> None:
    fp32, fp16 = get_format("fp32"), get_format("fp16")
    e8m13 = FloatFormat(exp_bits=8, man_bits=13, bias=127)
    register_accumulator("exact", Accumulator(method=AccMethod.EXACT, out_format=fp32))
    register_accumulator("fp32", Accumulator(method=AccMethod.FMA, out_format=fp32))
    register_accumulator("fp32_pairwise", Accumulator(method=AccMethod.PAIRWISE, out_format=fp32))
    register_accumulator("fp16", Accumulator(method=AccMethod.FMA, out_format=fp16))
    register_accumulator("int32", Accumulator(method=AccMethod.INTEGER, int_bits=32))
    register_accumulator("quire", Accumulator(method=AccMethod.EXACT, out_format=None))
    # Tensor cores: MMA-Sim (Xie et al. 2025, arXiv 2511.10909, nv_ptx/sim.py) parameters, consistent
    # with Fasi, Higham, Mikaitis, Pranesh (PeerJ CS 2021): F, bytes per step, zero exponent offset
    tc = dict(method=AccMethod.FUSED, out_format=fp32, out_rounding=RoundMode.TOWARD_ZERO)
    register_accumulator("nv_volta", Accumulator(block_bytes=8, align_bits=23, zero_exp_offset=5, **tc))
    register_accumulator("nv_turing", Accumulator(block_bytes=16, align_bits=24, zero_exp_offset=6, **tc))
    register_accumulator("nv_ampere", Accumulator(block_bytes=16, align_bits=24, zero_exp_offset=6, **tc))
    register_accumulator("nv_ada", Accumulator(block_bytes=16, align_bits=24, zero_exp_offset=6, **tc))
    register_accumulator("nv_hopper", Accumulator(block_bytes=32, align_bits=25, zero_exp_offset=7, **tc))
    register_accumulator("nv_blackwell", Accumulator(block_bytes=32, align_bits=25, zero_exp_offset=7, **tc))
    # Hopper FP8 (wgmma e4m3/e5m2): F = 13 and the result truncated to E8M13 (DeepSeek-V3's ~14 bits)
    register_accumulator("nv_hopper_fp8", Accumulator(
        method=AccMethod.FUSED, out_format=e8m13, out_rounding=RoundMode.TOWARD_ZERO, block_bytes=32,
        align_bits=13, zero_exp_offset=7))
    register_accumulator("nv_ada_fp8", Accumulator(
        method=AccMethod.FUSED, out_format=e8m13, out_rounding=RoundMode.TOWARD_ZERO, block_bytes=16,
        align_bits=13, zero_exp_offset=6))
    # DeepSeek-V3 §3.3.2: FP8 WGMMA partial sums promoted to FP32 CUDA-core accumulators every 128
    register_accumulator("nv_hopper_fp8_promote128", dataclasses.replace(
        get_accumulator("nv_hopper_fp8"), promote_every=128))
    # Blackwell block-scaled MMA (tcgen05.mma): kind::mxf8f6f4 (MX, block 32, E8M0) folds the scales
    # into the exponents of a 32-element fused step (MMA-Sim ST-FDPA, F = 25); kind::mxf4nvf4 (k = 64)
    # sums groups of 16 exactly, scales them and fuses 4 groups per step with F = 35 (GST-FDPA)
    register_accumulator("nv_blackwell_mx", Accumulator(block_bytes=32, align_bits=25, zero_exp_offset=7, **tc))
    register_accumulator("nv_blackwell_nvfp4", Accumulator(
        method=AccMethod.GROUPED, out_format=fp32, out_rounding=RoundMode.TOWARD_ZERO, block_bytes=64,
        group_size=16, align_bits=35, zero_exp_offset=13))
    # AMD CDNA3 (MI300) FP16/BF16 MFMA: MMA-Sim amd/sim.py, TR-FDPA with F = 24, F2 = 31, RNE to FP32,
    # 8 FP16/BF16 (16 bytes) per step
    register_accumulator("amd_cdna3", Accumulator(method=AccMethod.TWO_LEVEL, out_format=fp32, block_bytes=16,
                                                  align_bits=24, sum_bits=31))
    # AMD CDNA3 FP8/BF8 (E4M3FNUZ/E5M2FNUZ) MFMA: MMA-Sim amd/sim.py, GTR-FDPA with F = 24, F2 = 31, RNE to
    # FP32, 16 operands per step in two interleaved groups of 8
    register_accumulator("amd_cdna3_fp8", Accumulator(method=AccMethod.TWO_LEVEL, out_format=fp32, block_bytes=16,
                                                      align_bits=24, sum_bits=31, interleave=2))


_presets()


def _format_arg(fmt, which: str) -> ScalarFormat:
    """A format given by name or object, checked to be one matmul can multiply exactly."""
    if isinstance(fmt, str):
        fmt = get_format(fmt)
    if not isinstance(fmt, ScalarFormat):
        raise TypeError(f"{which} must be a format name or a ScalarFormat, got {type(fmt).__name__}")
    return fmt


def _operand_format(x: np.ndarray, fmt, which: str) -> ScalarFormat:
    if fmt is not None:
        f = _format_arg(fmt, f"{which}_format")
        if not isinstance(f, FloatFormat | IntFormat | PositFormat):
            raise ValueError(f"{which}_format must be a float, integer or posit format (products must be exact "
                             f"binary numbers), got {f.name}")
        return f
    name = {np.dtype(np.float16): "fp16", np.dtype(np.float32): "fp32"}.get(x.dtype)
    if x.dtype.name == "bfloat16":
        name = "bf16"
    if name is None:
        raise ValueError(f"{which}_format is needed for a {x.dtype} array: name the format its values are in")
    return get_format(name)


def _operand_array(x, which: str) -> np.ndarray:
    """x as an array of a dtype whose values convert to float64 exactly (checked), else TypeError/ValueError."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{which} must be a numeric array: {err}") from None
    kind = arr.dtype.kind
    if kind == "f" or arr.dtype.name == "bfloat16":
        if arr.dtype.itemsize > 8:
            raise TypeError(f"{which} must be a float16, bfloat16, float32 or float64 array (float64 holds each value "
                            f"exactly), got dtype {arr.dtype}")
    elif kind in "iu":
        if arr.dtype.itemsize == 8 and arr.size and (arr.max() > (1 << 53) or (kind == "i" and arr.min() < -(1 << 53))):
            raise ValueError(f"{which} holds integers beyond 2^53, which float64 does not hold exactly")
    else:
        raise TypeError(f"{which} must be a numeric array, got dtype {arr.dtype}")
    return arr


def _c_array(c, shape: tuple[int, int]) -> np.ndarray:
    arr = _operand_array(c, "c")
    try:
        return np.broadcast_to(arr.astype(np.float64, copy=False), shape)
    except ValueError:
        raise ValueError(f"c must broadcast to the result's shape {shape}, got shape {arr.shape}") from None


def _as_values(x, fmt: ScalarFormat, which: str) -> np.ndarray:
    """x as float64, checked to hold values of fmt exactly."""
    x64 = np.asarray(x, dtype=np.float64)
    if isinstance(fmt, IntFormat) and fmt.frac_bits == 0:  # cheap: integers within the range
        ok = (x64 >= fmt.lowest) & (x64 <= fmt.highest) & (x64 == np.rint(x64))
        if not ok.all():
            raise ValueError(f"{which} holds {x64[~ok].ravel()[0]!r}, which is not a {fmt.name} value")
        return x64
    fin = np.isfinite(x64)
    if fin.any():
        q = fmt.quantize(np.where(fin, x64, 0.0), saturate=True)
        if not np.array_equal(q[fin], x64[fin]):
            bad = x64[fin][q[fin] != x64[fin]][0]
            raise ValueError(f"{which} holds {bad!r}, which is not a {fmt.name} value; quantize it first")
    return x64


def _significant_bits(fmt: ScalarFormat) -> int:
    if isinstance(fmt, FloatFormat):
        return fmt.man_bits + 1
    if isinstance(fmt, IntFormat):
        return fmt.bits
    if isinstance(fmt, PositFormat):
        return max(fmt.bits - 3 - fmt.es, 1) + 1
    return 53


def matmul(a, b, accumulator: Accumulator | str = "fp32", c=None, out_format: ScalarFormat | str | None = None,
           a_format: ScalarFormat | str | None = None, b_format: ScalarFormat | str | None = None) -> np.ndarray:
    """D = A B + C computed as `accumulator` does it, bit for bit.

    a: (m, k) or (k,), b: (k, n) or (k,): float arrays holding values of a_format / b_format (inferred
    for float16/bfloat16/float32 arrays; required for float64 arrays, which may hold any format's
    values, e.g. FP8 or posits). c: (m, n) values of the accumulator format, or None for zeros.
    out_format: round the accumulated result into this format at the end (RNE, saturating), as a
    GEMM epilogue does. Returns float64 values.
    """
    acc = get_accumulator(accumulator) if isinstance(accumulator, str) else accumulator
    if not isinstance(acc, Accumulator):
        raise TypeError(f"accumulator must be an Accumulator or a preset name, got {type(acc).__name__}")
    if isinstance(a, SparseTensor):  # N:M sparse operands give exactly the dense result with zeros
        a = a.decompress()
    if isinstance(b, SparseTensor):
        b = b.decompress()
    of = None if out_format is None else _format_arg(out_format, "out_format")
    if isinstance(a, BlockTensor) or isinstance(b, BlockTensor):
        if a_format is not None or b_format is not None:
            raise ValueError("a_format/b_format describe array operands; BlockTensors carry their formats")
        D = _matmul_blocks(acc, a, b, c)
        if of is not None:
            D = of.quantize(D, saturate=True, nan_code=of.nan_code if of.has_nan else 0)
        return D
    if acc.method == AccMethod.GROUPED:
        raise ValueError("the GROUPED accumulator takes block-scaled operands (BlockTensors)")
    a_arr, b_arr = _operand_array(a, "a"), _operand_array(b, "b")
    a_vec, b_vec = a_arr.ndim == 1, b_arr.ndim == 1
    A = a_arr.reshape(1, -1) if a_vec else a_arr
    B = b_arr.reshape(-1, 1) if b_vec else b_arr
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"a and b must be (m, k) and (k, n) with equal k, got {a_arr.shape} and {b_arr.shape}")
    m, n = A.shape[0], B.shape[1]
    fa = _operand_format(A, a_format, "a")
    fb = _operand_format(B, b_format, "b")
    A64, B64 = _as_values(A, fa, "a"), _as_values(B, fb, "b")
    out_fmt = acc.out_format if acc.out_format is not None else fa
    if acc.method == AccMethod.EXACT and acc.out_format is None:
        # the quire rounds into the operands' format: it must be one, and a float or posit grid
        if fa != fb or not isinstance(fa, FloatFormat | PositFormat):
            raise ValueError("an EXACT accumulator without out_format rounds into the operands' format: a and b "
                             f"must share one float or posit format, got {fa.name} and {fb.name}")
    if c is None:
        C64 = np.zeros((m, n)) if acc.method != AccMethod.INTEGER else np.zeros((1, 1))
    else:
        C64 = _c_array(c, (m, n))
        if acc.method in (AccMethod.FUSED, AccMethod.TWO_LEVEL) and isinstance(out_fmt, FloatFormat) \
                and out_fmt.exp_bits == 8:
            C64 = _as_values(C64, get_format("fp32"), "c")  # the register is FP32 (E8M13 only rounds results)
        elif acc.method != AccMethod.INTEGER:
            C64 = _as_values(C64, out_fmt, "c")
    if acc.method == AccMethod.INTEGER:
        D = _matmul_int(acc, A64, B64, C64, fa, fb)
    else:
        if max(_significant_bits(fa), _significant_bits(fb)) > 26:
            raise ValueError("operands of more than 26 significant bits (fp32 and narrower are fine) would "
                             "make products inexact")
        D = _matmul_float(acc, A64, B64, C64, fa, fb, out_fmt)
    if of is not None:
        D = of.quantize(D, saturate=True, nan_code=of.nan_code if of.has_nan else 0)
    if a_vec and b_vec:
        return D.reshape(())
    if a_vec:
        return D.reshape(n)
    if b_vec:
        return D.reshape(m)
    return D


def _float_target(fmt: FloatFormat) -> tuple[int, int, int]:
    return fmt.man_bits, fmt.emin, fmt.emax


def _matmul_float(acc: Accumulator, A, B, C, fa, fb, out_fmt) -> np.ndarray:
    bad_rows = ~np.isfinite(A).all(axis=1)
    bad_cols = ~np.isfinite(B).all(axis=0)
    bad_c = ~np.isfinite(C)
    special = bad_rows[:, None] | bad_cols[None, :] | bad_c
    A0 = np.where(np.isfinite(A), A, 0.0)
    Bt = np.ascontiguousarray(np.where(np.isfinite(B), B, 0.0).T)
    C0 = np.ascontiguousarray(np.where(bad_c, 0.0, C))
    m, k = A0.shape
    work = m * k * Bt.shape[0]
    if work < PROGRESS_WORK or m < 2:
        D = _dispatch_float(acc, A0, Bt, C0, fa, fb, out_fmt)
    else:  # rows are independent: a tqdm bar over row chunks (shown once the call has run 1 s)
        from .progress import progress_bar
        step = -(-m // 32)
        D = np.empty((m, Bt.shape[0]))
        for r0 in progress_bar(range(0, m, step), desc=f"matmul {acc.name}", delay=PROGRESS_DELAY_S,
                       leave=False):
            D[r0:r0 + step] = _dispatch_float(acc, A0[r0:r0 + step], Bt, C0[r0:r0 + step], fa, fb, out_fmt)
    if special.any():  # inf/NaN operands: IEEE propagation (the result is never finite)
        with np.errstate(invalid="ignore", over="ignore"):
            ieee = A @ B + C
        D = np.where(special, ieee, D)
    return D


def _dispatch_float(acc: Accumulator, A0, Bt, C0, fa, fb, out_fmt) -> np.ndarray:
    """The accumulator's kernel on finite operands (rows of A0 and C0 independent)."""
    if acc.method == AccMethod.FUSED:
        D = _fused(acc, A0, Bt, C0, fa, fb, out_fmt)
    elif acc.method == AccMethod.TWO_LEVEL:
        sa, ea = _normalise(A0, _esub(fa))
        sb, eb = _normalise(Bt, _esub(fb))
        L = max(1, acc.block_bytes // fa.code_dtype.itemsize)
        D = kernels.gemm_two_level(sa, ea, sb, eb, C0, acc.align_bits, acc.sum_bits, L, acc.interleave)
    elif acc.method == AccMethod.FMA:  # fast routes first, bit for bit the reference (numerics.fastref)
        D = fastref.fast_fma(A0, Bt, C0, *_float_target(out_fmt)) if FAST_REFERENCES else None
        D = kernels.gemm_fma(A0, Bt, C0, *_float_target(out_fmt)) if D is None else D
    elif acc.method == AccMethod.PAIRWISE:
        D = fastref.fast_pairwise(A0, Bt, C0, *_float_target(out_fmt)) if FAST_REFERENCES else None
        D = kernels.gemm_pairwise(A0, Bt, C0, *_float_target(out_fmt)) if D is None else D
    else:
        odd = fastref.fast_exact_odd(A0, Bt, C0) if FAST_REFERENCES else None
        # correct after one more rounding to <= 51 bits
        odd = kernels.gemm_exact_odd(A0, Bt, C0) if odd is None else odd
        D = out_fmt.quantize(odd, rounding=acc.out_rounding, saturate=False,
                             nan_code=out_fmt.nan_code if out_fmt.has_nan else None)
    return D


def _fused(acc: Accumulator, A, Bt, C, fa, fb, out_fmt) -> np.ndarray:
    pa, pb = _significant_bits(fa) - 1, _significant_bits(fb) - 1
    # exact integer significands and exponents (B laid out (k, n)); int32 keeps the kernel's loops narrow
    itype = np.int32 if max(pa, pb) <= 15 else np.int64
    (m, k), n = A.shape, Bt.shape[0]
    ia, ea = np.empty((m, k), itype), np.empty((m, k), np.int32)
    ib, eb = np.empty((k, n), itype), np.empty((k, n), np.int32)
    kernels.split_significands(np.ascontiguousarray(A), pa, _esub(fa), False, ia, ea)
    kernels.split_significands(Bt, pb, _esub(fb), True, ib, eb)
    op_bytes = fa.code_dtype.itemsize  # as stored: TF32 in 4 bytes, FP6/FP4 one per byte (MMA-Sim)
    L = max(1, acc.block_bytes // op_bytes)
    man, emin, emax = _float_target(out_fmt)
    mode = 0 if acc.out_rounding == RoundMode.TOWARD_ZERO else 1
    e_zero = out_fmt.emin - acc.zero_exp_offset
    return _run_fused(ia, ea, ib, eb, pa, pb, C, acc.align_bits, L, e_zero, out_fmt.emin, man, emin, emax, mode,
                      acc.promote_every, acc.carry_bits)


def _run_fused(ia, ea, ib, eb, pa, pb, C, F, L, e_zero, c_esub, man, emin, emax, mode, promote, carry=0):
    """The tensor-core kernel; ib, eb are laid out (k, n)."""
    return kernels.gemm_fused(ia, ea, ib, eb, pa, pb, np.ascontiguousarray(C), F, L, e_zero, c_esub, man, emin,
                              emax, mode, promote, carry)


def _esub(fmt) -> int:
    return fmt.emin if isinstance(fmt, FloatFormat) else -126


def _normalise(x: np.ndarray, esub: int) -> tuple[np.ndarray, np.ndarray]:
    """Significands in [1, 2) (smaller for subnormals and zero) and exponents floored at esub."""
    mant, e = np.frexp(x)
    s = mant * 2.0
    e = e.astype(np.int64) - 1
    low = e < esub
    s = np.where(low, np.ldexp(s, np.where(low, e - esub, 0)), s)
    e = np.where(low | (x == 0), esub, e)
    return np.ascontiguousarray(s), np.ascontiguousarray(e)


def _matmul_int(acc: Accumulator, A, B, C, fa, fb) -> np.ndarray:
    for name, X, f in (("a", A, fa), ("b", B, fb)):
        already = isinstance(f, IntFormat) and f.frac_bits == 0  # _as_values checked the values
        if not already and not (np.isfinite(X).all() and np.array_equal(X, np.round(X))):
            raise ValueError(f"integer accumulation needs integer {name} values ({f.name} holds others)")
    if not np.array_equal(C, np.round(C)):
        raise ValueError("integer accumulation needs integer c values")
    cmax = float(np.abs(C).max(initial=0))
    bound = float(np.abs(A).max(initial=0)) * float(np.abs(B).max(initial=0)) * A.shape[1] + cmax
    bits = acc.int_bits
    if bound < 2.0**53 and (not acc.int_saturate or bound < 2.0 ** (bits - 1)):
        D = A @ B  # every partial sum is an integer below 2^53: float64 BLAS is exact
        if cmax:
            D += C
        if bound >= 2.0 ** (bits - 1):  # may have wrapped
            half = float(1 << (bits - 1))
            D = np.mod(D + half, 2 * half) - half  # exact on integers below 2^53
        return D
    C = np.ascontiguousarray(np.broadcast_to(C, (A.shape[0], B.shape[1])).astype(np.int64))
    D = kernels.gemm_int(A.astype(np.int64), np.ascontiguousarray(B.T.astype(np.int64)), C, bits, acc.int_saturate)
    return D.astype(np.float64)


def _block_operand(bt: BlockTensor, k_axis: int, which: str):
    """Element values, per-element scale values and the scale codes of a BlockTensor blocked along K."""
    if not isinstance(bt, BlockTensor):
        raise TypeError(f"{which} must be a BlockTensor when the other operand is one, got {type(bt).__name__}")
    if isinstance(bt.format.block_size, tuple) and len(bt.shape) == 2:
        # a tile-blocked operand (e.g. a 128 x 128 weight) is, exactly, K-runs of the tile's K length that
        # carry their tile's scale (BlockTensor.along)
        if k_axis not in bt._blocking.axes:
            raise ValueError(f"{which} is tiled by {bt.format.block_size} over axes {bt._blocking.axes} only, not "
                             f"along its K axis {k_axis}: tile the K axis too, or block it with axis={k_axis}")
        bt = bt.along(k_axis)
    fmt = bt.format
    if len(bt.shape) != 2 or not isinstance(bt.axis, int) or (bt.axis % 2) != k_axis:
        raise ValueError(f"{which} must be a 2-D BlockTensor blocked along axis {k_axis} (its K axis)")
    if fmt.zero_point or not isinstance(fmt.block_size, int):
        raise ValueError(f"{which}: block matmul takes 1-D blocks without zero points")
    # the kernels index the scales by block: their shape must be the one the codes imply
    nblk = -(-bt.shape[k_axis] // fmt.block_size)
    want = (bt.shape[0], nblk) if k_axis == 1 else (nblk, bt.shape[1])
    if np.shape(bt.codes) != tuple(bt.shape) or np.shape(bt.scales) != want:
        raise ValueError(f"{which}: a BlockTensor of shape {tuple(bt.shape)} blocked by {fmt.block_size} needs "
                         f"codes of that shape and scales of shape {want}, "
                         f"got {np.shape(bt.codes)} and {np.shape(bt.scales)}")
    elem = fmt.element.decode(bt.codes)
    scales = bt.scales if k_axis == 1 else bt.scales.T  # (rows, blocks)
    elem = elem if k_axis == 1 else elem.T  # (rows, K)
    return elem, scales, fmt


def _matmul_blocks(acc: Accumulator, a, b, c) -> np.ndarray:
    """OCP MX v1.0 §6 dot products of block-scaled operands (and NVFP4's), as `acc` computes them."""
    if acc.method in (AccMethod.INTEGER, AccMethod.TWO_LEVEL):
        raise ValueError(f"block-scaled operands take an EXACT, FMA, PAIRWISE, FUSED or GROUPED accumulator, got "
                         f"AccMethod.{acc.method.name} ({acc.name})")
    ea_vals, sa_codes, fa = _block_operand(a, 1, "a")
    eb_vals, sb_codes, fb = _block_operand(b, 0, "b")  # eb_vals: (n, K) = B^T
    m, K = ea_vals.shape
    n = eb_vals.shape[0]
    if eb_vals.shape[1] != K:
        raise ValueError(f"a and b must share K, got {a.shape} and {b.shape}")
    bs = fa.block_size
    if fb.block_size != bs:
        raise ValueError(f"a and b must share the block size along K, got {bs} and {fb.block_size} (a tiled "
                         f"operand counts its tile's K length)")
    ts = np.float32(a.tensor_scale if a.tensor_scale is not None else 1) * np.float32(
        b.tensor_scale if b.tensor_scale is not None else 1)
    if (a.tensor_scale is not None or b.tensor_scale is not None) and c is not None:
        raise ValueError("c with FP32 tensor scales is not modelled: the scales apply to A B as an epilogue")
    C = np.zeros((m, n)) if c is None else _as_values(_c_array(c, (m, n)), get_format("fp32"), "c")
    rep = lambda codes: np.repeat(codes, bs, axis=1)[:, :K]  # noqa: E731 - per-element view of block codes
    sva = fa.scale.decode(sa_codes)
    svb = fb.scale.decode(sb_codes)
    nan_rows, nan_cols = np.isnan(sva).any(axis=1), np.isnan(svb).any(axis=1)
    sva, svb = np.nan_to_num(sva), np.nan_to_num(svb)
    if acc.method == AccMethod.GROUPED:
        G = acc.group_size
        if bs % G or K % acc.block_bytes:
            raise ValueError(f"GROUPED accumulation needs K a multiple of {acc.block_bytes} and blocks a multiple "
                             f"of {G}")
        gpb = bs // G
        esub = fa.scale.emin if isinstance(fa.scale, FloatFormat) else -126
        ssa, esa = _normalise(np.repeat(sva, gpb, axis=1), esub)
        ssb, esb = _normalise(np.repeat(svb, gpb, axis=1), esub)
        D = kernels.gemm_grouped(np.ascontiguousarray(ea_vals), np.ascontiguousarray(eb_vals), ssa, esa, ssb, esb,
                                 np.ascontiguousarray(C), G, acc.align_bits, acc.block_bytes,
                                 -126 - acc.zero_exp_offset)
    elif acc.method == AccMethod.FUSED:
        if fa.scale.man_bits or fb.scale.man_bits:
            raise ValueError("a FUSED accumulator folds power-of-two (E8M0) block scales into exponents; use "
                             "nv_blackwell_nvfp4 or an exact/FMA accumulator for other scales")
        out_fmt = acc.out_format
        pa, pb = _significant_bits(fa.element) - 1, _significant_bits(fb.element) - 1
        sa, ea = _normalise(ea_vals, _esub(fa.element))
        sb, eb = _normalise(eb_vals, _esub(fb.element))
        ea = ea + rep(np.frexp(sva)[1] - 1)  # ST-FDPA: scale exponents join the product's
        eb = eb + rep(np.frexp(svb)[1] - 1)
        ea = np.where(sa == 0, kernels.ZERO_EXP, ea).astype(np.int32)
        eb = np.where(sb == 0, kernels.ZERO_EXP, eb).astype(np.int32)
        itype = np.int32 if max(pa, pb) <= 15 else np.int64
        L = max(1, acc.block_bytes // fa.element.code_dtype.itemsize)
        D = _run_fused(np.ldexp(sa, pa).astype(itype), ea, np.ascontiguousarray(np.ldexp(sb, pb).astype(itype).T),
                       np.ascontiguousarray(eb.T), pa, pb, C,
                       acc.align_bits, L, out_fmt.emin - acc.zero_exp_offset, out_fmt.emin, out_fmt.man_bits,
                       out_fmt.emin, out_fmt.emax, 0 if acc.out_rounding == RoundMode.TOWARD_ZERO else 1,
                       acc.promote_every, acc.carry_bits)
    else:  # element x block scale values are exact; products of them too
        A = ea_vals * rep(sva)
        Bt = eb_vals * rep(svb)
        out_fmt = acc.out_format if acc.out_format is not None else get_format("fp32")
        D = _matmul_float(acc, A, np.ascontiguousarray(Bt.T), C, fa.element, fb.element, out_fmt)
    if ts != 1:
        D = get_format("fp32").quantize(D * float(np.float32(ts)))  # the FP32 tensor scales, as an epilogue
    D[nan_rows, :] = np.nan
    D[:, nan_cols] = np.nan
    return D
