"""PositFormat: posit<n, es> (Posit Standard 2022: es = 2; legacy draft as in SoftPosit)."""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import kernels

from . import inputs
from .base import ScalarFormat


@dataclass(frozen=True, kw_only=True)
class PositFormat(ScalarFormat):
    """posit<bits, es>: sign, regime, es exponent bits, fraction; 0 = 00...0, NaR = 10...0.

    Rounding is on the bit string (ties to even), never to 0 or NaR: values beyond maxpos give
    maxpos, nonzero values below minpos give minpos, in every rounding mode. NaN and ±inf give NaR.
    """

    bits: int
    es: int

    def __post_init__(self) -> None:
        for f in ("bits", "es"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{f} must be an int, got {v!r}")
        if not 2 <= self.bits <= 32:
            raise ValueError(f"bits must be in 2..32, got {self.bits}")
        if not 0 <= self.es <= 4:
            raise ValueError(f"es must be in 0..4, got {self.es}")

    @cached_property
    def useed_log2(self) -> int:
        return 1 << self.es

    @property
    def max(self) -> float:
        """maxpos = useed^(n-2)."""
        return math.ldexp(1.0, (self.bits - 2) * self.useed_log2)

    @property
    def min_normal(self) -> float:
        """minpos = useed^-(n-2)."""
        return math.ldexp(1.0, -(self.bits - 2) * self.useed_log2)

    @property
    def min_subnormal(self) -> float:
        return self.min_normal

    @property
    def has_inf(self) -> bool:
        return False

    @property
    def has_nan(self) -> bool:
        return True  # NaR

    @property
    def nan_code(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def quire_bits(self) -> int:
        """Width of the standard's exact accumulator: 16 n."""
        return 16 * self.bits

    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        b, se, sm, sb = inputs.source_bits(flat)
        out = np.empty(flat.shape, self.code_dtype)
        kernels.encode_posit(b, se, sm, sb, out, self.bits, self.es, rounding, sr_k, key)
        return out, 0

    def _decode_flat(self, codes):
        return kernels.decode_posit(codes, np.empty(codes.shape, np.float64), self.bits, self.es)
