"""How a block's scale is chosen (OCP MX v1.0 §6.3 and the variants hardware and libraries use)."""

from enum import Enum

import numpy as np


class ScaleRule(Enum):
    """Scale selection rules.

    FLOOR: OCP MX v1.0 §6.3: X = 2^(floor(log2 amax) - emax_elem); elements may clip to ±max.
    CEIL:  X = 2^(ceil(log2 amax) - emax_elem) (torchao ScaleCalculationMode.CEIL).
    EVEN:  amax first rounded to the element's mantissa width (half-way up), then FLOOR
           (torchao ScaleCalculationMode.EVEN).
    RCEIL: X = E8M0 rounded toward +inf of fl32(amax * fl32(1/max_elem)): no element clips
           (NVIDIA cuBLAS block quantisation, as torchao's `_to_mx_rceil` implements it).
    AMAX:  X = amax / max_elem (divided by the tensor scale when there is one) rounded into the scale
           format, clamped to [scale min normal, scale max]; elements fl32(x / fl32(X * s_t))
           (NVFP4 per torchao `nvfp4_tensor.py`; group-wise INT-N with fp16/fp32 scales).
    MSE:   the scale among nearby candidates that minimises the block's squared error.
    """

    FLOOR = "floor"
    CEIL = "ceil"
    EVEN = "even"
    RCEIL = "rceil"
    AMAX = "amax"
    MSE = "mse"


POW2_RULES = (ScaleRule.FLOOR, ScaleRule.CEIL, ScaleRule.EVEN, ScaleRule.RCEIL)


def floor_log2(a: np.ndarray) -> np.ndarray:
    """floor(log2 a) exactly for positive finite float64 a (frexp is exact)."""
    return np.frexp(a)[1].astype(np.int64) - 1


def pow2_exponents(rule: ScaleRule, amax: np.ndarray, emax_elem: int, elem_mbits: int,
                   elem_max: float) -> np.ndarray:
    """Unclamped scale exponents for the power-of-two rules; amax > 0 and finite (float64)."""
    if rule == ScaleRule.FLOOR:
        return floor_log2(amax) - emax_elem
    if rule == ScaleRule.CEIL:
        fl = floor_log2(amax)
        return fl + (amax != np.ldexp(1.0, fl)) - emax_elem
    if rule == ScaleRule.EVEN:
        fl = floor_log2(amax)
        frac = np.ldexp(amax, -fl)  # in [1, 2)
        # round the significand to elem_mbits fraction bits, ties up: 1.11..1b(1) becomes 2
        rounded = np.floor(np.ldexp(frac, elem_mbits) + 0.5)
        return fl + (rounded >= 2 ** (elem_mbits + 1)) - emax_elem
    if rule == ScaleRule.RCEIL:
        descale = (amax.astype(np.float32) * np.float32(1.0 / elem_max)).astype(np.float64)
        fl = floor_log2(np.maximum(descale, np.finfo(np.float64).tiny))
        exp = fl + (descale != np.ldexp(1.0, fl))
        return np.where(descale > 0, exp, -127)
    raise ValueError(f"{rule} is not a power-of-two rule")
