"""IntFormat: two's-complement and unsigned integers, with optional narrow (symmetric) range."""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import kernels

from .base import ScalarFormat, bool_fields, int_fields


@dataclass(frozen=True)
class IntFormat(ScalarFormat):
    """An integer format. Codes are two's-complement bit patterns (unsigned: the value itself).

    Args:
        bits: width, 2..32.
        signed: two's complement when True.
        narrow: drop the most negative code so the range is symmetric (e.g. -127..127); such formats
            always saturate, and decoding the dropped code is an error.
        frac_bits: fixed-point fraction bits: a code's value is its integer times 2^-frac_bits
            (OCP MX v1.0 §5.3.4: the MXINT8 element is int8 with an implicit scale 2^-6).
    """

    bits: int
    signed: bool = True
    narrow: bool = False
    frac_bits: int = 0

    def __post_init__(self) -> None:
        int_fields(self, "bits", "frac_bits")
        bool_fields(self, "signed", "narrow")
        if not 2 <= self.bits <= 32:
            raise ValueError(f"bits must be in 2..32, got {self.bits}")
        if self.narrow and not self.signed:
            raise ValueError("narrow range applies to signed formats only")
        if not 0 <= self.frac_bits <= 32:
            raise ValueError(f"frac_bits must be in 0..32, got {self.frac_bits}")

    @cached_property
    def lowest(self) -> int:
        """Most negative value (0 when unsigned)."""
        if not self.signed:
            return 0
        return -(1 << (self.bits - 1)) + int(self.narrow)

    @cached_property
    def highest(self) -> int:
        return (1 << (self.bits - int(self.signed))) - 1

    @property
    def max(self) -> float:
        return math.ldexp(self.highest, -self.frac_bits)

    @property
    def min_normal(self) -> float:
        """Smallest positive value, 2^-frac_bits (1 for plain integers)."""
        return math.ldexp(1.0, -self.frac_bits)

    @property
    def min_subnormal(self) -> float:
        return self.min_normal

    @property
    def emax(self) -> int:
        """floor(log2(max)): the exponent OCP MX §6.3 subtracts (0 for MXINT8's element)."""
        return math.frexp(self.max)[1] - 1

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def has_nan(self) -> bool:
        return False

    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        if self.narrow and not saturate:
            raise ValueError(f"{self.name} is narrow-range and always saturates; pass saturate=True")
        out = np.empty(flat.shape, self.code_dtype)
        x = np.ascontiguousarray(flat, dtype=np.float64)
        if self.frac_bits:  # times 2^frac_bits (0..32, a normal float64): IEEE-exact and ldexp's result, 15x faster
            x = x * (2.0 ** self.frac_bits)
        n_invalid = kernels.encode_int(x, out, self.bits,
                                       self.lowest, self.highest, saturate, rounding, sr_k, key,
                                       invalid_code)
        return out, n_invalid

    def _decode_flat(self, codes):
        out = kernels.decode_int(codes, np.empty(codes.shape, np.float64), self.bits, self.signed)
        return out * (2.0 ** -self.frac_bits) if self.frac_bits else out  # exact, as ldexp

    def _valid_code_mask(self, codes):
        if self.narrow:
            return codes != (1 << (self.bits - 1))
        return np.ones(codes.shape, bool)

    def _check_codes(self, codes):
        if self.narrow and np.any(codes == (1 << (self.bits - 1))):
            raise ValueError(f"code {1 << (self.bits - 1):#x} is outside narrow-range {self.name} "
                             f"({self.lowest}..{self.highest})")
