"""PositFormat: posit<n, es> (Posit Standard 2022: es = 2; legacy draft as in SoftPosit)."""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

import kernels

from . import inputs
from .base import ScalarFormat, int_fields


@dataclass(frozen=True)
class PositFormat(ScalarFormat):
    """posit<bits, es>: sign, regime, es exponent bits, fraction; 0 = 00...0, NaR = 10...0.

    Rounding is on the bit string (ties to even), never to 0 or NaR: values beyond maxpos give
    maxpos, nonzero values below minpos give minpos, in every rounding mode. NaN and ±inf give NaR.
    """

    bits: int
    es: int

    def __post_init__(self) -> None:
        int_fields(self, "bits", "es")
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
        if rounding == kernels.RNE and kernels.rne_fast_path_ok(se, sm, sb, self.bits, self.es):
            kernels.encode_posit_rne(b, se, sm, sb, out, self.bits, self.es)
        else:
            kernels.encode_posit(b, se, sm, sb, out, self.bits, self.es, rounding, sr_k, key)
        return out, 0

    def _decode_flat(self, codes):
        return kernels.decode_posit(codes, np.empty(codes.shape, np.float64), self.bits, self.es)


def _exact_parts(fmt: PositFormat, codes: np.ndarray) -> tuple[list[int], list[int]]:
    """Each posit as an exact (signed integer significand, exponent) pair: value = m * 2^e."""
    vals = fmt.decode(codes).ravel()  # exact: every posit of <= 32 bits is a float64
    if np.isnan(vals).any():
        raise ValueError("NaR operand: the quire result is NaR")
    mant, exp = np.frexp(vals)
    m = np.ldexp(mant, 53).astype(np.int64)  # exact 53-bit integers
    return m.tolist(), (exp.astype(np.int64) - 53).tolist()


def round_exact_to_posit(fmt: PositFormat, m: int, e: int, rounding: int = 0) -> int:
    """posit<n, es> code of the exact value m * 2^e (Python ints), rounded once on the bit string
    (ties to even; other modes as in `encode`), never to 0 or NaR."""
    from kernels import RD, RNA, RNE, RO, RU, RZ
    n, es = fmt.bits, fmt.es
    if m == 0:
        return 0
    neg = m < 0
    a = -m if neg else m
    nbits = a.bit_length()
    F = nbits - 1
    frac = a - (1 << F)
    scale = F + e
    k = scale >> es
    ex = scale - (k << es)
    maxpos = (1 << (n - 1)) - 1
    if k >= n - 2:
        mag = maxpos
    elif k < -(n - 2):
        mag = 1
    else:
        rl, regime = (k + 2, ((1 << (k + 1)) - 1) << 1) if k >= 0 else (-k + 1, 1)
        low = (ex << F) | frac
        low_bits = es + F
        keep = n - 1 - rl
        shift = low_bits - keep
        if shift <= 0:
            mag = (regime << keep) | (low << -shift)
        else:
            q, rem = low >> shift, low & ((1 << shift) - 1)
            half = 1 << (shift - 1)
            base = (regime << keep) + q
            up = {RNE: rem > half or (rem == half and base & 1 == 1), RNA: rem >= half, RZ: False,
                  RU: rem != 0 and not neg, RD: rem != 0 and neg, RO: rem != 0 and base & 1 == 0}[rounding]
            mag = base + int(up)
        mag = min(max(mag, 1), maxpos)
    return ((-mag) & ((1 << n) - 1)) if neg else mag


def quire_dot(fmt: PositFormat, a_codes, b_codes, c_code: int | None = None) -> int:
    """Fused dot product of two posit code vectors in the quire: every product and the sum are
    exact (Posit Standard 2022 §5: the quire of 16 n bits never rounds), one rounding at the end.
    `c_code` adds a posit to the quire first. Returns the posit code of the result."""
    if not isinstance(fmt, PositFormat):
        raise TypeError(f"fmt must be a PositFormat, got {type(fmt).__name__}")
    a = inputs.code_input(a_codes, fmt.bits, fmt.name).ravel()  # checked before NaR short-cuts the sum
    b = inputs.code_input(b_codes, fmt.bits, fmt.name).ravel()
    if c_code is not None:
        if isinstance(c_code, bool | np.bool_) or not isinstance(c_code, int | np.integer):
            raise TypeError(f"c_code must be an int code or None, got {type(c_code).__name__}")
        c_code = int(inputs.code_input(np.array([c_code]), fmt.bits, fmt.name)[0])
    if a.shape != b.shape:
        raise ValueError(f"a_codes and b_codes must have the same length, got {a.size} and {b.size}")
    if (c_code is not None and c_code == fmt.nan_code) or (a == fmt.nan_code).any() or (b == fmt.nan_code).any():
        return fmt.nan_code
    ma, ea = _exact_parts(fmt, a)
    mb, eb = _exact_parts(fmt, b)
    terms = [(x * y, p + q) for x, p, y, q in zip(ma, ea, mb, eb) if x and y]
    if c_code is not None:
        mc, ec = _exact_parts(fmt, np.array([c_code]))
        if mc[0]:
            terms.append((mc[0], ec[0]))
    if not terms:
        return 0
    e0 = min(t[1] for t in terms)
    total = sum(m << (e - e0) for m, e in terms)
    return round_exact_to_posit(fmt, total, e0)
