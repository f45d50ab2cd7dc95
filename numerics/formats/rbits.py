"""Stochastic rounding with caller-supplied random bits, as NVIDIA's `cvt.rs` instruction does.

PTX `cvt.rs` (PTX ISA 8.7+, instruction `cvt`, rounding modifier `.rs`) rounds toward zero or away from
zero according to the carry out of the integer addition of the random bits `rbits` and the input
mantissa bits the conversion discards. lowbit takes the random bits as an unsigned array `rbits` of x's
shape, one value per element, of the width the instruction gives each element (`rbits_width`):

    destination                          bits per element   the instruction's 32-bit rbits operand W
    E2M1 (cvt.rs.satfinite.e2m1x4.f32)   16 (0..65535)       lane 0: W[23:16]W[7:0], lane 1: that reversed,
                                                             lane 2: W[31:24]W[15:8], lane 3: that reversed
    E2M3, E3M2, E4M3, E5M2 (...x4.f32)   16 (0..65535)       lane 0: W[15:0], lane 1: W[15:0] reversed,
                                                             lane 2: W[31:16], lane 3: W[31:16] reversed
    fp16 (cvt.rs.f16x2.f32)              13 (0..8191)        lane 0 (b): W[12:0], lane 1 (a): W[28:16]
    bf16 (cvt.rs.bf16x2.f32)             16 (0..65535)       lane 0 (b): W[15:0], lane 1 (a): W[31:16]

Lane i is the element the instruction writes to the i-th least significant field of its result (the
x4 forms' source operands {a, b, e, f} are lanes 3, 2, 1, 0); "reversed" is the 16-bit value read
bit-reversed, so the two lanes of a pair share one 16-bit slice. `rbits_from_ptx` unpacks operands W
into per-element values this way.

Alignment: an element's random bits are added with their most significant bit just below the last
mantissa bit the destination keeps (r / 2^width of the destination's spacing at |x|, the subnormal
spacing below its min normal), and the sum is truncated toward zero onto the destination grid; so
all-zero rbits give round toward zero. For fp16 and bf16 normal results the width equals the number of
float32 mantissa bits dropped (13, 16), so this is the bit-level "add rbits to the low bits of the
float32 pattern, then truncate".

Overflow and NaN: `.satfinite` (saturate=True, the only choice for the x4 types) clamps to ±max, inf
too; NaN stays NaN (+max for E2M1 / E2M3 / E3M2, which have none). fp16 / bf16 without `.satfinite`
(saturate=False): a result beyond max is ±inf when the random bits carry (round away from zero) and ±max
when they do not (round toward zero, as IEEE 754 rounds an overflow toward zero); inf stays inf.

Sources (docs/formats_2026.md, "rbits", gives the evidence per type and what is unverified): the PTX ISA
text of `cvt` (two 16-bit values per x4 operand, one per pair of lanes; for e2m1x4 the low bytes of the
two halves feed e, f and the high bytes a, b; f16x2 13 LSBs of each half; bf16x2 each half); the bit
order within each lane as measured on sm_100a by the nvidia_rs_bit_probe README (vkuzo/quant_cast_bench
@31806ac46df7ed96f74c839e8da4d084df9fcb4d, experiments/nvidia_rs_bit_probe) for e4m3x4, e5m2x4, e2m1x4
and bf16x2; the e4m3 arithmetic as flashinfer's `cvt_rs_e4m3_sw`, verified bitwise on sm_100a
(flashinfer-ai/flashinfer@04e570b3d8cf0a85a8eb8345a19d559bd2619b2f include/flashinfer/mamba/conversion.cuh),
which also transcribes the f16x2 layout. E2M3 and E3M2 follow the PTX text only (no hardware probe).
"""

import numpy as np

from .floats import FloatFormat

X4_RBITS = 16  # the x4 types: one 16-bit slice of the 32-bit operand per element (pairs share it)
F32_MAN_BITS = 23
# the formats PTX cvt.rs converts to, by the name of the instruction's destination type
PTX_TYPES = {"e2m1": "e2m1x4", "e2m3": "e2m3x4", "e3m2": "e3m2x4", "e4m3": "e4m3x4", "e5m2": "e5m2x4",
             "fp16": "f16x2", "bf16": "bf16x2"}
_REV8 = np.array([int(f"{i:08b}"[::-1], 2) for i in range(256)], np.uint32)


def rbits_width(fmt) -> int:
    """Random bits per element that PTX cvt.rs gives `fmt` (16 for the x4 types and bf16, 13 for fp16);
    ValueError if none."""
    if isinstance(fmt, FloatFormat) and fmt.signed and fmt.zero and fmt.subnormals:
        if fmt.bits <= 8:
            return X4_RBITS
        if fmt.bits == 16 and fmt.inf and (fmt.exp_bits, fmt.man_bits) in ((5, 10), (8, 7)):
            return F32_MAN_BITS - fmt.man_bits  # f16x2, bf16x2: every dropped float32 mantissa bit
    raise ValueError(f"rbits= follows PTX cvt.rs, which converts to E2M1, E2M3, E3M2, E4M3, E5M2 (signed float "
                     f"formats of at most 8 bits), fp16 and bf16; {getattr(fmt, 'name', fmt)!r} is not one")


def check_rbits(fmt, x: np.ndarray, rbits, saturate: bool) -> np.ndarray:
    """rbits as an int64 array of x's shape, after checking every rule; raises TypeError / ValueError."""
    width = rbits_width(fmt)
    if not saturate and fmt.bits <= 8:
        raise ValueError("rbits= for 8-bit and narrower formats follows cvt.rs.satfinite, which saturates: leave "
                         "saturate=True")
    if x.dtype not in (np.float32, np.float16) and x.dtype.name != "bfloat16":
        raise TypeError(f"rbits= models cvt.rs, whose source is .f32: pass float32 (or float16/bfloat16) x, got "
                        f"{x.dtype}")
    if not isinstance(rbits, np.ndarray):
        raise TypeError(f"rbits must be a numpy array of unsigned integers (one per element), got "
                        f"{type(rbits).__name__}")
    if rbits.dtype.kind != "u":
        raise TypeError(f"rbits must have an unsigned integer dtype (uint8 .. uint64), got {rbits.dtype}")
    if rbits.shape != x.shape:
        raise ValueError(f"rbits must have x's shape {x.shape} (one value per element), got {rbits.shape}")
    if rbits.size and int(rbits.max()) >= 1 << width:
        raise ValueError(f"rbits values must lie in 0..{(1 << width) - 1}: cvt.rs gives {fmt.name} {width} random "
                         f"bits per element, got {int(rbits.max())}")
    return rbits.astype(np.int64)


def _rev16(v: np.ndarray) -> np.ndarray:
    """16-bit values read with their bit order reversed."""
    return (_REV8[v & 0xFF] << 8) | _REV8[v >> 8]


def rbits_from_ptx(operand, fmt) -> np.ndarray:
    """Per-element random bits for `encode(x, rounding=STOCHASTIC, rbits=...)` from the 32-bit `rbits`
    operands of PTX cvt.rs, assigned to elements as the instruction assigns them.

    Args:
        operand: unsigned integer array (or numpy unsigned scalar) of 32-bit values, one per instruction.
        fmt: the destination, a format or its name: "e2m1", "e2m3", "e3m2", "e4m3", "e5m2" (the x4 forms,
            four elements per operand) or "fp16", "bf16" (the x2 forms, two).

    Returns:
        uint32 array with the last axis of `operand` multiplied by 4 (x4) or 2 (x2) (a scalar operand gives
        shape (4,) or (2,)): out[..., 4*k + i] is the value lane i of instruction k uses, lane i being the
        element the instruction writes to the i-th least significant field of its result (the x4 forms'
        source operands {a, b, e, f} are lanes 3, 2, 1, 0; the x2 forms' a, b are lanes 1, 0). So x laid
        out in that order gets the instruction's codes from `encode(x, ..., rbits=out)`. The layouts are in
        this module's docstring; lanes 1 and 3 of the x4 forms read their pair's 16-bit slice bit-reversed.
    """
    from .registry import get_format
    name = fmt if isinstance(fmt, str) else next((n for n in PTX_TYPES if get_format(n) == fmt), None)
    if name not in PTX_TYPES:
        raise ValueError(f"fmt must be one of {sorted(PTX_TYPES)} (the destinations of PTX cvt.rs), got "
                         f"{getattr(fmt, 'name', fmt)!r}")
    if isinstance(operand, np.unsignedinteger):
        operand = np.asarray(operand)
    if not isinstance(operand, np.ndarray) or operand.dtype.kind != "u":
        raise TypeError(f"operand must be a numpy array of unsigned integers (the 32-bit rbits registers), got "
                        f"{getattr(operand, 'dtype', type(operand).__name__)}")
    w = operand.astype(np.uint64)
    if w.size and int(w.max()) >= 1 << 32:
        raise ValueError(f"operand values must lie in 0..{(1 << 32) - 1} (32-bit registers), got {int(w.max())}")
    w = w.astype(np.uint32)
    lo, hi = w & 0xFFFF, w >> 16
    if name == "fp16":
        if ((w & 0xE000E000) != 0).any():
            raise ValueError("operand bits [31:29] and [15:13] must be 0 for f16x2: the PTX ISA gives each element "
                             "the 13 low bits of its 16-bit half, with its 3 high bits 0")
        lanes = [lo, hi]
    elif name == "bf16":
        lanes = [lo, hi]
    else:
        if name == "e2m1":  # byte-interleaved: lanes 0, 1 read bytes 2 and 0; lanes 2, 3 bytes 3 and 1
            lo, hi = ((w >> 8) & 0xFF00) | (w & 0xFF), (w >> 16 & 0xFF00) | ((w >> 8) & 0xFF)
        lanes = [lo, _rev16(lo), hi, _rev16(hi)]
    out = np.stack(lanes, axis=-1).astype(np.uint32)
    return out.reshape(out.shape[:-2] + (-1,)) if w.ndim else out


def encode_rbits(fmt: FloatFormat, x: np.ndarray, rbits: np.ndarray, saturate: bool = True) -> np.ndarray:
    """Codes of x (float32-exact values) rounded with the given random values (see module doc)."""
    width = rbits_width(fmt)
    with np.errstate(invalid="ignore"):
        a = np.abs(x.astype(np.float64)).reshape(-1)
    r = rbits.reshape(-1)
    nan = np.isnan(a)
    inf = np.isinf(a)
    special = nan | inf
    if special.any():
        a = np.where(special, 0.0, a)
    e = np.maximum(np.frexp(a)[1] - 1, fmt.emin)  # frexp(0) gives 0: zero takes emin
    # exact in float64: a scaled by a power of two, floored (the bits below the random bits cannot
    # change the carry out of their addition), then a sum below 2^(width + man_bits + 2) < 2^53
    scaled = np.floor(np.ldexp(a, fmt.man_bits + width - e)) + r  # units of ulp / 2^width
    whole = np.floor(np.ldexp(scaled, -width))  # the destination units kept after the carry
    q = np.ldexp(whole, e - fmt.man_bits)
    over = q > fmt.max
    if saturate:  # satfinite: overflow and inf are max
        q = np.where(over | inf, fmt.max, q)
    else:  # IEEE: an overflow rounded toward zero is max, away from zero inf
        carried = whole > np.floor(np.ldexp(a, fmt.man_bits - e))
        q = np.where(over, np.where(carried, np.inf, fmt.max), q)
        q = np.where(inf, np.inf, q)
    neg = np.signbit(x.reshape(-1)) & ~nan
    codes = fmt.encode(np.where(neg, -q, q), saturate=saturate)
    if nan.any():
        codes[nan] = fmt.nan_code if fmt.has_nan else fmt.encode(np.array([fmt.max]))[0]
    return codes.reshape(x.shape)
