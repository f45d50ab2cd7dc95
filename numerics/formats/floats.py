"""FloatFormat: every sign/exponent/mantissa format (OCP OFP8, OCP MX elements, E8M0, IEEE 754)."""

import math
from dataclasses import dataclass
from enum import Enum
from functools import cached_property

import numpy as np

import kernels

from . import inputs
from .base import ScalarFormat, bool_fields, int_fields


class NanPolicy(Enum):
    """Where a float format keeps its NaNs."""

    IEEE = "ieee"  # all-ones exponent: zero fraction is ±inf, any other fraction NaN (IEEE 754)
    FN = "fn"  # only the all-ones magnitude is NaN; no inf (OCP OFP8 E4M3, E8M0)
    FNUZ = "fnuz"  # the negative-zero pattern is the single NaN; no inf, no -0 (Graphcore/AMD FNUZ)
    NONE = "none"  # every pattern is a finite number (OCP MX FP6/FP4)


@dataclass(frozen=True)
class FloatFormat(ScalarFormat):
    """A binary floating-point format given by its fields; every other quantity is derived.

    Args:
        exp_bits: exponent field width (1..8).
        man_bits: stored fraction width (0..23).
        bias: exponent bias; a normal value is 1.f × 2^(field - bias).
        signed: whether there is a sign bit (False: UE4M3, E8M0).
        inf: whether the all-ones exponent with zero fraction is ±inf (requires nan=IEEE).
        nan: the NaN policy, a `NanPolicy`.
        subnormals: False flushes results that would be subnormal to a zero of the same sign (after
            rounding) and decodes subnormal codes as zero.
        zero: False for formats whose exponent field 0 is a normal binade (E8M0): no zero, no subnormals.
    """

    exp_bits: int
    man_bits: int
    bias: int
    signed: bool = True
    inf: bool = True
    nan: NanPolicy = NanPolicy.IEEE
    subnormals: bool = True
    zero: bool = True

    def __post_init__(self) -> None:
        int_fields(self, "exp_bits", "man_bits", "bias")
        bool_fields(self, "signed", "inf", "subnormals", "zero")
        if not isinstance(self.nan, NanPolicy):
            raise TypeError(f"nan must be a NanPolicy, got {self.nan!r}")
        if not 1 <= self.exp_bits <= 8:
            raise ValueError(f"exp_bits must be in 1..8, got {self.exp_bits}")
        if not 0 <= self.man_bits <= 23:
            raise ValueError(f"man_bits must be in 0..23, got {self.man_bits}")
        if self.inf != (self.nan == NanPolicy.IEEE):
            raise ValueError("inf=True goes with nan=NanPolicy.IEEE and only with it")
        if self.nan == NanPolicy.IEEE and self.man_bits == 0:
            raise ValueError("nan=NanPolicy.IEEE needs man_bits >= 1 to tell NaN from inf")
        if self.nan == NanPolicy.IEEE and self.exp_bits == 1:
            raise ValueError("nan=NanPolicy.IEEE needs exp_bits >= 2: with one exponent bit inf/NaN would take the "
                             "only nonzero exponent and leave no normal numbers (FloatFormat.ieee(1, Y) is "
                             "finite-only)")
        if self.nan == NanPolicy.FNUZ and not self.signed:
            raise ValueError("nan=NanPolicy.FNUZ needs a sign bit (NaN is the negative-zero pattern)")
        if not self.zero and self.subnormals:
            raise ValueError("zero=False (exponent field 0 is normal) requires subnormals=False")
        # every value must be a float64 exactly (decode is exact): the largest finite value below 2^1024
        # and the lowest bit of the smallest binade, 2^(emin - man_bits), at least 2^-1074
        if self.emax > 1023:
            raise ValueError(f"bias {self.bias} is too small for exp_bits={self.exp_bits}: the largest value would be "
                             f"2^{self.emax} x (2 - 2^-{self.man_bits}), beyond float64's max (~2^1024); "
                             f"bias must be >= {self.bias + self.emax - 1023}")
        if self.emin - self.man_bits < -1074:
            raise ValueError(f"bias {self.bias} is too large for man_bits={self.man_bits}: the smallest value's last "
                             f"bit would be 2^{self.emin - self.man_bits}, below float64's smallest subnormal "
                             f"2^-1074; bias must be <= {self.bias + (self.emin - self.man_bits) + 1074}")

    @classmethod
    def ieee(cls, exp_bits: int, man_bits: int) -> "FloatFormat":
        """IEEE 754-style eXmY: bias 2^(X-1)-1, subnormals, inf and NaN in the all-ones exponent.

        With X = 1 or Y = 0 the reserved exponent would leave no normal numbers or no NaN pattern, so
        those are finite-only (no inf, no NaN), like the OCP MX element types.
        """
        bias = (1 << (exp_bits - 1)) - 1
        if exp_bits >= 2 and man_bits >= 1:
            return cls(exp_bits=exp_bits, man_bits=man_bits, bias=bias)
        return cls(exp_bits=exp_bits, man_bits=man_bits, bias=bias, inf=False, nan=NanPolicy.NONE)

    # -- derived quantities -----------------------------------------------------------------------
    @cached_property
    def bits(self) -> int:
        return int(self.signed) + self.exp_bits + self.man_bits

    @cached_property
    def _all_ones_mag(self) -> int:
        return (1 << (self.exp_bits + self.man_bits)) - 1

    @cached_property
    def _inf_mag(self) -> int:
        return ((1 << self.exp_bits) - 1) << self.man_bits if self.inf else -1

    @cached_property
    def _nan_mag(self) -> int:
        if self.nan == NanPolicy.IEEE:
            return self._inf_mag | (1 << (self.man_bits - 1))  # canonical quiet NaN
        if self.nan == NanPolicy.FN:
            return self._all_ones_mag
        if self.nan == NanPolicy.FNUZ:
            return 0
        return -1

    @cached_property
    def max_code(self) -> int:
        """Code of the largest finite value."""
        if self.nan == NanPolicy.IEEE:
            return self._inf_mag - 1
        if self.nan == NanPolicy.FN:
            return self._all_ones_mag - 1
        return self._all_ones_mag

    @cached_property
    def nan_code(self) -> int | None:
        """The canonical NaN code (positive sign), or None when the format has no NaN."""
        if self.nan == NanPolicy.FNUZ:
            return 1 << (self.exp_bits + self.man_bits)
        return None if self._nan_mag < 0 else self._nan_mag

    @cached_property
    def inf_code(self) -> int | None:
        """Code of +inf, or None."""
        return None if self._inf_mag < 0 else self._inf_mag

    @property
    def has_inf(self) -> bool:
        return self.inf

    @property
    def has_nan(self) -> bool:
        return self.nan != NanPolicy.NONE

    @cached_property
    def emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return 1 - self.bias if self.zero else -self.bias

    @cached_property
    def emax(self) -> int:
        """Exponent of the largest finite value."""
        return (self.max_code >> self.man_bits) - self.bias

    @cached_property
    def max(self) -> float:
        """Largest finite value."""
        frac = self.max_code & ((1 << self.man_bits) - 1)
        return math.ldexp((1 << self.man_bits) + frac, self.emax - self.man_bits)

    @cached_property
    def min_normal(self) -> float:
        """Smallest positive normal value (E8M0: its smallest value, 2^-127)."""
        return math.ldexp(1.0, self.emin)

    @cached_property
    def min_subnormal(self) -> float:
        """Smallest positive value; equals min_normal when there are no subnormals."""
        if self.zero and self.subnormals:
            return math.ldexp(1.0, self.emin - self.man_bits)
        return self.min_normal

    # -- kernels ----------------------------------------------------------------------------------
    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        no_shifts = np.zeros(-(-flat.size // kernels.CHUNK) or 1, np.int64)
        return self._encode_scaled(flat, rounding, saturate, sr_k, key, invalid_code, no_shifts, kernels.CHUNK)

    def _encode_scaled(self, flat, rounding, saturate, sr_k, key, invalid_code, shifts, block_len):
        """Encode flat * 2^-shifts[i // block_len] (exact power-of-two block scaling, one rounding)."""
        bits, se, sm, sb = inputs.source_bits(flat)
        out = np.empty(flat.shape, self.code_dtype)
        n_invalid = kernels.encode_float(
            bits, se, sm, sb, out, self.exp_bits, self.man_bits, self.bias, self.signed, self.zero,
            self.subnormals, self.max_code, self._inf_mag, self._nan_mag, self.nan == NanPolicy.FNUZ,
            rounding, saturate, sr_k, key, invalid_code, shifts, block_len)
        return out, n_invalid

    def _decode_flat(self, codes):
        out = np.empty(codes.shape, np.float64)
        return kernels.decode_float(
            codes, out, self.exp_bits, self.man_bits, self.bias, self.signed, self.zero,
            self.subnormals, self._inf_mag, self._nan_mag, self.nan == NanPolicy.FNUZ)

    def _invalid_reason(self, x, saturate):
        bad = np.isnan(x) if not self.has_nan else np.zeros(x.shape, bool)
        if not self.has_nan and not self.has_inf:
            bad |= np.isinf(x)
            if not saturate:
                bad |= np.abs(x) > self.max
        if not self.signed:
            bad |= x < 0
        return bad

