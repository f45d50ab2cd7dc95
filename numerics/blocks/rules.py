"""How a block's scale is chosen (OCP MX v1.0 §6.3 and the variants hardware and libraries use)."""

from enum import Enum

import numpy as np


class ScaleRule(Enum):
    """Scale selection rules (see docs/formats_2026.md for each rule's source).

    Power-of-two (E8M0) scales, X = 2^e:
    FLOOR (alias OCP): OCP MX v1.0 §6.3: e = floor(log2 amax) - emax_elem; elements may clip to ±max.
    CEIL:  e = ceil(log2 amax) - emax_elem (torchao ScaleCalculationMode.CEIL).
    EVEN:  amax first rounded to the element's mantissa width (half-way up), then FLOOR
           (torchao ScaleCalculationMode.EVEN).
    RCEIL (alias CUDA_MXFP8): X = E8M0 rounded toward +inf of fl32(amax * fl32(1/max_elem)): no element
           clips (NVIDIA cuBLAS / CUDA MXFP8 recipe, round-up and saturate, as torchao's `_to_mx_rceil`).
    TILELANG: X = 2^(ceil log2 of v), v = fl32(amax * fl32(1/max_elem)), read off v's float32 bits
           (exponent field - 127, plus one for a non-zero mantissa field): tilelang's
           `fast_round_scale` (examples/deepseek_v32/inference/kernel.py at tile-ai/tilelang@a35008a4).
           Equal to RCEIL except where v is a float32 subnormal (then 2^-126).
    TRAINIUM: FLOOR with one power of two (2x) headroom for 8-bit elements, e = floor(log2 amax) - emax_elem
           + 1 (E4M3, E5M2: "alternative emax" 7 and 14, the neuronxcc default), and plain FLOOR for
           narrower elements (E2M1 keeps 2): AWS Trainium `nki.isa.quantize_mx` as its golden model
           `quantize_mx_golden(mx_alt_emax=True)` has it (aws-neuron/nki-library test/utils/mx_utils.py,
           `get_mx_max_exp`, read at e9ef98fc47b3323bf0de8ebcc984b8e2f3adff07; at ddbca35e / d2ad3a57,
           2026-04-13, the golden was plain OCP: 15, 8, 2).

    Scales rounded into a float scale format (UE4M3, UE5M3, E4M3, FP16, FP32):
    AMAX (alias TRITON_NEAREST): X = amax / max_elem (divided by the tensor scale when there is one)
           rounded to nearest-even into the scale format, clamped to [scale min normal, scale max];
           elements fl32(x / fl32(X * s_t)) (NVFP4 per torchao `nvfp4_tensor.py`; group-wise INT-N).
    TRITON_UP / TRITON_DOWN: AMAX with the scale rounded toward +inf / toward -inf (Triton's NVFP4
           scale rounding modes: up never clips an element, down never wastes range).
    FOUR_OVER_SIX: per block, the AMAX scale that maps amax to max_elem and the one that maps it to
           2/3 of max_elem (4 for E2M1), keeping the one with the lower squared error (Cook et al.,
           "Four Over Six", arXiv 2512.02010); ties keep the max_elem scale.
    MSE:   the scale among nearby candidates that minimises the block's squared error.
    """

    FLOOR = "floor"
    OCP = "floor"
    CEIL = "ceil"
    EVEN = "even"
    RCEIL = "rceil"
    CUDA_MXFP8 = "rceil"
    TILELANG = "tilelang"
    TRAINIUM = "trainium"
    AMAX = "amax"
    TRITON_NEAREST = "amax"
    TRITON_UP = "amax_up"
    TRITON_DOWN = "amax_down"
    FOUR_OVER_SIX = "four_over_six"
    MSE = "mse"


POW2_RULES = (ScaleRule.FLOOR, ScaleRule.CEIL, ScaleRule.EVEN, ScaleRule.RCEIL, ScaleRule.TILELANG,
              ScaleRule.TRAINIUM)
AMAX_RULES = (ScaleRule.AMAX, ScaleRule.TRITON_UP, ScaleRule.TRITON_DOWN, ScaleRule.FOUR_OVER_SIX)


def scale_rule_arg(rule) -> ScaleRule:
    """A ScaleRule from a ScaleRule or its name/value ("floor", "ocp", "four_over_six", ...)."""
    if isinstance(rule, ScaleRule):
        return rule
    if isinstance(rule, str):
        key = rule.strip().lower()
        for name, member in ScaleRule.__members__.items():
            if key in (name.lower(), member.value):
                return member
        raise ValueError(f"unknown scale_rule {rule!r}; choose one of "
                         f"{', '.join(n.lower() for n in ScaleRule.__members__)}")
    raise TypeError(f"scale_rule must be a ScaleRule or its name, got {type(rule).__name__}")


def floor_log2(a: np.ndarray) -> np.ndarray:
    """floor(log2 a) exactly for positive finite float64 a (frexp is exact)."""
    return np.frexp(a)[1].astype(np.int64) - 1


def pow2_exponents(rule: ScaleRule, amax: np.ndarray, emax_elem: int, elem_mbits: int,
                   elem_max: float, elem_bits: int = 8) -> np.ndarray:
    """Unclamped scale exponents for the power-of-two rules; amax > 0 and finite (float64)."""
    if rule == ScaleRule.FLOOR:
        return floor_log2(amax) - emax_elem
    if rule == ScaleRule.TRAINIUM:
        return floor_log2(amax) - emax_elem + (1 if elem_bits == 8 else 0)
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
    if rule == ScaleRule.TILELANG:
        # tilelang's fast_round_scale: v = fl32(amax * fl32(1/max)); exponent field - 127, plus one when
        # the mantissa field is not zero (a float32-subnormal v gives -126, zero -127)
        v = (amax.astype(np.float32) * np.float32(1.0 / elem_max)).astype(np.float32)
        bits = v.view(np.uint32).astype(np.int64)
        return ((bits >> 23) & 0xFF) - 127 + ((bits & 0x7FFFFF) != 0)
    raise ValueError(f"{rule} is not a power-of-two rule")
