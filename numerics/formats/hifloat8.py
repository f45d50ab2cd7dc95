"""HiFloat8 (HiF8): Huawei Ascend's tapered-precision 8-bit float (Luo et al., arXiv 2409.16626).

Bit layout, most significant first: sign, a prefix-coded Dot field, a sign-magnitude exponent whose
leading magnitude bit is implicit, and the mantissa:

    Dot  code   exponent field       exponents E            mantissa bits
    D4   11     sign + 3 bits        ±8 .. ±15              1
    D3   10     sign + 2 bits        ±4 .. ±7               2
    D2   01     sign + 1 bit         ±2, ±3                 3
    D1   001    sign                 ±1                     3
    D0   0001   (none)               0                      3
    DML  0000   (none: denormal)     M - 23, M = 1..7       (the 3 bits are M)

A normal value is ±1.m × 2^E; a denormal ±2^(M-23) (2^-22 .. 2^-16). 0x00 is the only zero, 0x80 the
only NaN, and E = +15 with mantissa 1 (0x6F / 0xEF) is ±inf, so the largest finite value is 2^15.

Rounding (paper §3): TA, rounding half away from zero (§3.1), is `RoundMode.TIES_TO_AWAY`; hybrid
rounding HR (§3.2, eq. (3)) is `encode(x, rounding=RoundMode.TIES_TO_AWAY, hybrid=True)`: TA where the
source exponent E has |E| < 4, the paper's simplified stochastic rounding elsewhere, which draws no
random numbers: with F the discarded fraction of the HiF8 spacing and K the kept part, K + 1 when F >= T,
where for float32 sources F14 = the 14 most significant discarded bits and T14 = the source's 14 least
significant mantissa bits (SR14), and for float16 / bfloat16 sources F2 = the 2 most significant
discarded bits and T2 = {source LSB, 1} (0.25 or 0.75; SR2) (§3.2, Fig. 2). lowbit applies the F >= T
step to inexact values only: read literally it would move every exactly representable value whose 14
source LSBs are zero (T14 = 0) up one step.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..rounding import RoundMode
from . import inputs
from .base import ScalarFormat
from .levels import round_to_levels

NAN_CODE = 0x80
INF_CODE = 0x6F
MAX_CODE = 0x6E
# Dot prefix (value, bit length) -> (exponent magnitude bits stored after the exponent sign, mantissa bits)
_DOTS = ((0b11, 2, 3, 1), (0b10, 2, 2, 2), (0b01, 2, 1, 3), (0b001, 3, 0, 3))


def hifloat8_value(code: int) -> float:
    """The value of one HiF8 code (Python float; NaN for 0x80, ±inf for 0x6F / 0xEF)."""
    if not 0 <= code <= 0xFF:
        raise ValueError(f"a HiF8 code lies in 0..255, got {code}")
    sign = -1.0 if code & 0x80 else 1.0
    body = code & 0x7F  # 7 bits after the sign
    if body >> 3 == 0b0000:  # DML: denormal, or zero / NaN
        m = body & 0b111
        if m == 0:
            return float("nan") if code & 0x80 else 0.0
        return sign * 2.0 ** (m - 23)
    if body >> 3 == 0b0001:  # D0: E = 0
        return sign * (1 + (body & 0b111) / 8)
    for dot, dot_len, mag_bits, man_bits in _DOTS:
        if body >> (7 - dot_len) == dot:
            rest = body & ((1 << (7 - dot_len)) - 1)
            man = rest & ((1 << man_bits) - 1)
            exp_field = rest >> man_bits  # exponent sign, then magnitude bits
            exp_sign = -1 if exp_field >> mag_bits else 1
            mag = (1 << mag_bits) | (exp_field & ((1 << mag_bits) - 1))  # the implicit leading 1
            if exp_sign == 1 and mag == 15 and man == 1:
                return sign * float("inf")
            return sign * (1 + man / (1 << man_bits)) * 2.0 ** (exp_sign * mag)
    raise AssertionError("unreachable: the Dot prefixes cover every pattern")


@dataclass(frozen=True)
class HiFloat8Format(ScalarFormat):
    """HiFloat8 (arXiv 2409.16626). Rounding is to the nearest HiF8 value with the tie rule of the
    RoundMode: TIES_TO_AWAY is the paper's TA rounding; STOCHASTIC rounds up with probability equal to
    the distance fraction. Overflow goes to ±inf (saturate=False) or ±2^15; NaN to 0x80."""

    bits: int = 8

    def __post_init__(self) -> None:
        if self.bits != 8:
            raise ValueError(f"HiFloat8 has 8 bits, got bits={self.bits!r}")

    has_inf = True
    has_nan = True
    subnormals = True  # the denormal (DML) codes
    zero = True
    signed = True
    _takes_sr_bits = False  # stochastic rounding draws a float64 uniform between neighbours (level set)
    nan_code = NAN_CODE
    inf_code = INF_CODE
    max_code = MAX_CODE

    @property
    def max(self) -> float:
        return 2.0 ** 15

    @property
    def min_normal(self) -> float:
        return 2.0 ** -15

    @property
    def min_subnormal(self) -> float:
        return 2.0 ** -22

    @cached_property
    def _grid(self):
        """Sorted finite values (one zero) with ±1.5 × 2^15 standing for ±inf, and their codes."""
        vals = np.array([hifloat8_value(c) for c in range(256)])
        codes = np.arange(256)
        keep = np.isfinite(vals)
        keep[0x80] = False
        lv, cd = list(vals[keep]), list(codes[keep])
        lv += [1.5 * 2.0 ** 15, -1.5 * 2.0 ** 15]  # the inf codes sit where E = 15, m = 1 would
        cd += [INF_CODE, 0x80 | INF_CODE]
        order = np.argsort(lv)
        levels = np.array(lv)[order]
        return levels, np.array(cd, np.int64)[order], (levels[:-1] + levels[1:]) / 2  # dyadic: exact

    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        levels, codes, mids = self._grid
        x = flat.astype(np.float64)
        out, _ = round_to_levels(x, levels, mids, np.ones(mids.size, bool), codes, rounding, True, key)
        inf_in = np.isinf(x)
        out = np.where(inf_in, np.where(x > 0, INF_CODE, 0x80 | INF_CODE), out)
        if saturate:  # ±inf results (overflow or inf input) clamp to ±2^15
            out = np.where((out & 0x7F) == INF_CODE, (out & 0x80) | MAX_CODE, out)
        out = np.where(np.isnan(x), NAN_CODE, out)
        return out.astype(np.uint8), 0

    def _decode_flat(self, codes):
        return np.array([hifloat8_value(int(c)) for c in range(256)])[codes.astype(np.int64)]

    def encode(self, x, rounding: RoundMode = RoundMode.TIES_TO_EVEN, saturate: bool = True, rng=None,
               sr_bits: int | None = None, nan_code: int | None = None, rbits=None, *,
               hybrid: bool = False) -> np.ndarray:
        """ScalarFormat.encode, plus `hybrid=True` (with rounding=RoundMode.TIES_TO_AWAY): the paper's
        hybrid rounding HR (arXiv 2409.16626 §3.2, eq. (3)), for float32, float16 and bfloat16 x."""
        if not isinstance(hybrid, bool | np.bool_):
            raise TypeError(f"hybrid must be a bool, got {type(hybrid).__name__}")
        if not hybrid:
            return super().encode(x, rounding, saturate, rng, sr_bits, nan_code, rbits)
        if rounding != RoundMode.TIES_TO_AWAY:
            raise ValueError(f"hybrid=True is HiFloat8's HR: TA (rounding=RoundMode.TIES_TO_AWAY) where |E| < 4 and "
                             f"simplified stochastic rounding elsewhere; pass rounding=RoundMode.TIES_TO_AWAY, got "
                             f"rounding={rounding!r}")
        if rng is not None or sr_bits is not None or rbits is not None or nan_code is not None:
            raise ValueError("hybrid=True draws no random numbers (its thresholds are the source's own low bits) and "
                             "NaN has a code: leave rng, sr_bits, rbits and nan_code unset")
        if not isinstance(saturate, bool | np.bool_):
            raise TypeError(f"saturate must be a bool, got {type(saturate).__name__}")
        x = inputs.float_input(x)
        if x.dtype not in (np.float32, np.float16) and x.dtype.name != "bfloat16":
            raise TypeError(f"hybrid rounding is defined for float32 (SR14), float16 and bfloat16 (SR2) sources "
                            f"(arXiv 2409.16626 §3.2); got {x.dtype}")
        return self._encode_hybrid(x, bool(saturate))

    def quantize(self, x, rounding: RoundMode = RoundMode.TIES_TO_EVEN, saturate: bool = True, rng=None,
                 sr_bits: int | None = None, nan_code: int | None = None, *, hybrid: bool = False) -> np.ndarray:
        """decode(encode(x, ...)), `hybrid` included."""
        return self.decode(self.encode(x, rounding, saturate, rng, sr_bits, nan_code, hybrid=hybrid))

    def _encode_hybrid(self, x: np.ndarray, saturate: bool) -> np.ndarray:
        """HR codes of x (float32 / float16 / bfloat16), see the module doc."""
        flat = x.reshape(-1)
        codes = super().encode(flat, RoundMode.TIES_TO_AWAY, saturate)  # TA, kept where |E| < 4
        with np.errstate(invalid="ignore"):
            a = np.abs(flat.astype(np.float64))
            e = np.frexp(a)[1].astype(np.int64) - 1  # the source exponent (any value below 2^-3 counts as |E| >= 4)
        sr = np.isfinite(a) & (a > 0) & (np.abs(e) >= 4)
        if not sr.any():
            return codes.reshape(x.shape)
        levels, level_codes, _ = self._grid
        pos = levels >= 0
        lv, lc = levels[pos], level_codes[pos]  # 0 .. 2^15, then 1.5 x 2^15 standing for inf
        a_sr = a[sr]
        k = np.searchsorted(lv, a_sr, side="right") - 1  # lv[k] <= a < lv[k + 1]
        top = k >= lv.size - 1  # at or past the inf level
        k = np.minimum(k, lv.size - 2)
        lo, hi = lv[k], lv[k + 1]
        frac = (a_sr - lo) / (hi - lo)  # exact: dyadic values, a power-of-two spacing
        bits = flat[sr].view(np.uint32 if flat.dtype == np.float32 else np.uint16).astype(np.int64)
        if flat.dtype == np.float32:  # SR14
            f, t = np.floor(frac * 2 ** 14), bits & 0x3FFF
        else:  # SR2: T2 = {LSB, 1'b1}
            f, t = np.floor(frac * 4), 2 * (bits & 1) + 1
        up = (frac > 0) & (f >= t)
        mag = np.where(top, INF_CODE, np.where(up, lc[k + 1], lc[k]))
        if saturate:
            mag = np.where(mag == INF_CODE, MAX_CODE, mag)
        sign = np.where(np.signbit(flat[sr]), 0x80, 0)
        mag = np.where(mag == 0, 0, mag | sign)  # one zero
        codes[sr] = mag
        return codes.reshape(x.shape)


HIFLOAT8 = HiFloat8Format()
TA = RoundMode.TIES_TO_AWAY  # the paper's default rounding
