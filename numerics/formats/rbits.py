"""Stochastic rounding with caller-supplied random bits, as NVIDIA's `cvt.rs` instruction does.

PTX `cvt.rs` (PTX ISA 8.7+, instruction `cvt`, rounding modifier `.rs`) rounds toward zero or away from
zero according to the carry out of the integer addition of the random bits `rbits` and the input
mantissa bits the conversion discards. lowbit takes the random bits as an unsigned array `rbits` of x's
shape, one value per element, of the width the instruction gives each element:

    destination                        bits per element   the instruction's 32-bit rbits operand
    E2M1, E2M3, E3M2, E4M3, E5M2 (x4)  8 (0..255)         one byte per element (TE's reading, below)
    fp16 (cvt.rs.f16x2.f32)            13 (0..8191)       a: rbits[28:16], b: rbits[12:0]; [31:29], [15:13] unused
    bf16 (cvt.rs.bf16x2.f32)           16 (0..65535)      a: rbits[31:16], b: rbits[15:0]

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

Sources: the x4 arithmetic is TransformerEngine's software fallback for `cvt.rs.satfinite.e2m1x4.f32`
(`stochastic_round_fp4_e2m1`, common/util/ptx.cuh at
NVIDIA/TransformerEngine@d0067d0da6cb01811b8072a7d304f0e00344ce2b), extended to the other x4 types. The
f16x2 layout is PTX ISA Figure 38 ("Random bits layout for .rs rounding with .f16 destination type") as
transcribed in flashinfer-ai/flashinfer@04e570b3d8cf0a85a8eb8345a19d559bd2619b2f
include/flashinfer/mamba/conversion.cuh (`cvt_rs_f16x2_f32`); the bf16x2 layout (Figure 39) as measured
on sm_100a by the nvidia_rs_bit_probe README (a 16-bit contiguous half per element, natural order). The
figures themselves are images; docs/formats_2026.md says what was and was not checked.
"""

import numpy as np

from .floats import FloatFormat

RBITS_PER_ELEMENT = 8  # the x4 types: 8 of the operand's 32 bits per element
F32_MAN_BITS = 23


def rbits_width(fmt) -> int:
    """Random bits per element that PTX cvt.rs gives `fmt` (8, 13 or 16); ValueError if none."""
    if isinstance(fmt, FloatFormat) and fmt.signed and fmt.zero and fmt.subnormals:
        if fmt.bits <= 8:
            return RBITS_PER_ELEMENT
        if fmt.bits == 16 and fmt.inf and (fmt.exp_bits, fmt.man_bits) in ((5, 10), (8, 7)):
            return F32_MAN_BITS - fmt.man_bits  # f16x2, bf16x2: every dropped float32 mantissa bit
    raise ValueError(f"rbits= follows PTX cvt.rs, which converts to E2M1, E2M3, E3M2, E4M3, E5M2 (signed float "
                     f"formats of at most 8 bits), fp16 and bf16; {getattr(fmt, 'name', fmt)!r} is not one")


def check_rbits(fmt, x: np.ndarray, rbits, saturate: bool) -> np.ndarray:
    """rbits as an int64 array of x's shape, after checking every rule; raises TypeError / ValueError."""
    width = rbits_width(fmt)
    if not saturate and width == RBITS_PER_ELEMENT:
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
