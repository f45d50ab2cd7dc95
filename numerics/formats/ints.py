"""IntFormat: two's-complement and unsigned integers, with optional narrow (symmetric) range."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

import kernels

from .base import ScalarFormat


@dataclass(frozen=True, kw_only=True)
class IntFormat(ScalarFormat):
    """An integer format. Codes are two's-complement bit patterns (unsigned: the value itself).

    Args:
        bits: width, 2..32.
        signed: two's complement when True.
        narrow: drop the most negative code so the range is symmetric (e.g. -127..127); such formats
            always saturate, and decoding the dropped code is an error.
    """

    bits: int
    signed: bool = True
    narrow: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int):
            raise TypeError(f"bits must be an int, got {self.bits!r}")
        for f in ("signed", "narrow"):
            if not isinstance(getattr(self, f), bool):
                raise TypeError(f"{f} must be a bool, got {getattr(self, f)!r}")
        if not 2 <= self.bits <= 32:
            raise ValueError(f"bits must be in 2..32, got {self.bits}")
        if self.narrow and not self.signed:
            raise ValueError("narrow range applies to signed formats only")

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
        return float(self.highest)

    @property
    def min_normal(self) -> float:
        """Smallest positive value, 1."""
        return 1.0

    @property
    def min_subnormal(self) -> float:
        return 1.0

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
        n_invalid = kernels.encode_int(np.ascontiguousarray(flat, dtype=np.float64), out, self.bits,
                                       self.lowest, self.highest, saturate, rounding, sr_k, key,
                                       invalid_code)
        return out, n_invalid

    def _decode_flat(self, codes):
        return kernels.decode_int(codes, np.empty(codes.shape, np.float64), self.bits, self.signed)

    def _valid_code_mask(self, codes):
        if self.narrow:
            return codes != (1 << (self.bits - 1))
        return np.ones(codes.shape, bool)

    def _check_codes(self, codes):
        if self.narrow and np.any(codes == (1 << (self.bits - 1))):
            raise ValueError(f"code {1 << (self.bits - 1):#x} is outside narrow-range {self.name} "
                             f"({self.lowest}..{self.highest})")
