"""Stochastic rounding with caller-supplied random bits, as NVIDIA's `cvt.rs.satfinite` instruction does.

PTX `cvt.rs.satfinite.{e2m1x4, e4m3x4, e5m2x4, e2m3x4, e3m2x4}.f32` converts four float32 values and
takes one 32-bit `rbits` operand: 8 random bits per element. lowbit takes them as an unsigned array
`rbits` of x's shape, one value in 0..255 per element.

Alignment: the 8 random bits of an element are added to |x| with their most significant bit just below
the last mantissa bit the destination keeps (r / 256 of the destination's spacing at |x|, the subnormal
spacing below its min normal), and the sum is truncated toward zero onto the destination grid; so all-zero
rbits give round toward zero. satfinite then clamps to ±max (inf too), and NaN becomes the format's NaN
(+max for E2M1 / E2M3 / E3M2, which have none). This is the arithmetic of TransformerEngine's software
fallback for `cvt.rs.satfinite.e2m1x4.f32` (`stochastic_round_fp4_e2m1` in common/util/ptx.cuh at
NVIDIA/TransformerEngine@d0067d0da6cb01811b8072a7d304f0e00344ce2b), extended to the other element types.
"""

import numpy as np

from .floats import FloatFormat

RBITS_PER_ELEMENT = 8


def check_rbits(fmt, x: np.ndarray, rbits, saturate: bool) -> np.ndarray:
    """rbits as a uint8 array of x's shape, after checking every rule; raises TypeError / ValueError."""
    if not isinstance(fmt, FloatFormat) or fmt.bits > 8 or not fmt.zero or not fmt.signed:
        raise ValueError(f"rbits= follows PTX cvt.rs.satfinite, which converts to E2M1, E2M3, E3M2, E4M3 and "
                         f"E5M2 (signed float formats of at most 8 bits); {getattr(fmt, 'name', fmt)!r} is not one")
    if not saturate:
        raise ValueError("rbits= follows cvt.rs.satfinite, which saturates: leave saturate=True")
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
    if rbits.size and int(rbits.max()) >= 1 << RBITS_PER_ELEMENT:
        raise ValueError(f"rbits values must lie in 0..255: cvt.rs takes {RBITS_PER_ELEMENT} random bits per "
                         f"element, got {int(rbits.max())}")
    return rbits.astype(np.uint8)


def encode_rbits(fmt: FloatFormat, x: np.ndarray, rbits: np.ndarray) -> np.ndarray:
    """Codes of x (float32-exact values) rounded with the given 8-bit random values (see module doc)."""
    with np.errstate(invalid="ignore"):
        a = np.abs(x.astype(np.float64)).reshape(-1)
    r = rbits.reshape(-1).astype(np.float64)
    nan = np.isnan(a)
    a = np.where(nan | np.isinf(a), fmt.max, a)
    e = np.full(a.shape, fmt.emin, np.int64)
    pos = a > 0
    e[pos] = np.maximum(np.frexp(a[pos])[1].astype(np.int64) - 1, fmt.emin)
    ulp = np.ldexp(1.0, e - fmt.man_bits)
    # exact in float64: |x| has 24 significant bits and r·ulp/256 sits at most 8 bits below |x|'s
    # destination ulp, so the sum spans fewer than 53 bits wherever the floor could change
    t = a + r * ulp / 256
    q = np.minimum(np.floor(t / ulp) * ulp, fmt.max)
    neg = np.signbit(x.reshape(-1)) & ~nan
    codes = fmt.encode(np.where(neg, -q, q))
    if nan.any():
        codes[nan] = fmt.nan_code if fmt.has_nan else fmt.encode(np.array([fmt.max]))[0]
    return codes.reshape(x.shape)
