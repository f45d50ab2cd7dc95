"""LookupFormat (any sorted level set: NF4, APoT, user codebooks) and LogFormat (sign + fixed-point
log2 magnitude + zero: LNS, power-of-two)."""

import math
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cached_property

import numpy as np

from .base import ScalarFormat, int_fields
from .levels import round_to_levels, threshold_below


class _LevelSet(ScalarFormat):
    """Formats that are an explicit set of finite levels: no inf, no NaN, no subnormal notion."""

    has_inf = False
    has_nan = False
    _takes_sr_bits = False

    @property
    def min_subnormal(self) -> float:
        return self.min_normal


@dataclass(frozen=True)
class LookupFormat(_LevelSet):
    """A format whose code i stands for levels[i] (sorted ascending, distinct, finite).

    Nearest rounding compares with the exact midpoint of neighbours (ties: even code, or the larger
    magnitude for TIES_TO_AWAY); directed modes follow value order; values beyond the end levels
    saturate (saturate=False: ValueError, or nan_code).
    """

    levels: tuple

    def __post_init__(self) -> None:
        if not isinstance(self.levels, tuple):
            raise TypeError("levels must be a tuple of floats (formats are hashable), "
                            f"got {type(self.levels).__name__}")
        for i, v in enumerate(self.levels):
            if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
                raise TypeError(f"levels must be real numbers, got {type(v).__name__} {v!r:.40} at index {i}")
            if isinstance(v, int | np.integer):
                try:
                    exact = int(float(v)) == int(v)
                except OverflowError:
                    exact = False
                if not exact:
                    raise ValueError(f"levels[{i}] = {v} is not exactly a float64")
        lv = np.array([float(v) for v in self.levels], dtype=np.float64)
        if lv.size < 2 or lv.size > 1 << 16:
            raise ValueError(f"levels must hold 2 .. 65536 values, got {lv.size}")
        if not np.isfinite(lv).all():
            raise ValueError(f"levels must be finite, got {lv[~np.isfinite(lv)][0]} at index "
                             f"{int(np.flatnonzero(~np.isfinite(lv))[0])}")
        d = np.diff(lv)
        if not (d > 0).all():
            j = int(np.flatnonzero(d <= 0)[0])
            what = "duplicate" if d[j] == 0 else "unsorted"
            raise ValueError(f"levels must be strictly increasing (sorted, distinct; -0.0 equals 0.0): {what} "
                             f"levels[{j}] = {lv[j]!r}, levels[{j + 1}] = {lv[j + 1]!r}")

    @cached_property
    def _levels(self) -> np.ndarray:
        return np.array(self.levels, dtype=np.float64)

    @cached_property
    def bits(self) -> int:
        return max(1, math.ceil(math.log2(len(self.levels))))

    @property
    def max(self) -> float:
        return float(np.abs(self._levels).max())

    @property
    def min_normal(self) -> float:
        """Smallest positive level magnitude."""
        a = np.abs(self._levels)
        return float(a[a > 0].min())

    @cached_property
    def _rounding_table(self):
        lv = self._levels
        thr = np.empty(lv.size - 1)
        exact = np.empty(lv.size - 1, bool)
        for j in range(lv.size - 1):
            mid = (Fraction(lv[j]) + Fraction(lv[j + 1])) / 2
            t = threshold_below(lambda f, mid=mid: Fraction(f) > mid, float(mid))
            thr[j], exact[j] = t, Fraction(t) == mid
        return thr, exact

    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        thr, exact = self._rounding_table
        codes = np.arange(len(self.levels), dtype=np.int64)
        out, bad = round_to_levels(flat.astype(np.float64), self._levels, thr, exact, codes, rounding, saturate, key)
        out = np.where(bad, invalid_code, out).astype(self.code_dtype)
        return out, int(bad.sum())

    def _decode_flat(self, codes):
        out = np.full(codes.shape, np.nan)
        ok = codes < len(self.levels)
        out[ok] = self._levels[codes[ok]]
        return out

    def _check_codes(self, codes):
        if codes.size and int(codes.max()) >= len(self.levels):
            raise ValueError(f"codes must be below {len(self.levels)} for {self.name} "
                             f"({len(self.levels)} levels), got {int(codes.max())}")

    def _valid_code_mask(self, codes):
        return codes < len(self.levels)

    def _invalid_reason(self, x, saturate):
        bad = ~np.isfinite(x)
        if not saturate:
            bad |= (x < self._levels[0]) | (x > self._levels[-1])
        return bad


def _pow2_frac(p: int, f: int) -> Fraction:
    """2^(p / 2^f) correctly rounded to float64, as an exact Fraction (integer 2^f-th root)."""
    r = 1 << f
    # find integer S in [2^52, 2^53) and E with S 2^E <= 2^(p/r) < (S + 1) 2^E, then round
    e_int = p // r  # floor
    rem = p - e_int * r  # 0 <= rem < r: value = 2^e_int * 2^(rem / r), 2^(rem/r) in [1, 2)
    target = 1 << (rem + 52 * r)  # (S)^r <= 2^(rem + 52 r)
    lo, hi = 1 << 52, 1 << 53
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid ** r <= target:
            lo = mid
        else:
            hi = mid
    s = lo  # floor of 2^(rem/r) * 2^52
    # round to nearest: compare (2s + 1)^r with 2^r * target (no ties: irrational unless exact)
    if s ** r != target and (2 * s + 1) ** r < (target << r):
        s += 1
    return Fraction(s) * Fraction(2) ** (e_int - 52)


@dataclass(frozen=True)
class LogFormat(_LevelSet):
    """Sign bit + (bits - 1)-bit field m: m = 0 is zero, else |x| = 2^((m - 2^(bits-2)) / 2^frac_bits).

    With frac_bits = 0 every value is a power of two, so a multiplication is an addition of
    exponents (a shift). `domain` chooses where "nearest" is measured: "log" (default; the boundary
    between neighbours is their geometric mean) or "linear" (the arithmetic mean). The boundary
    between zero and the smallest magnitude is half that magnitude in both; the boundaries are the
    exact (irrational) ones, decided in exact arithmetic. Decoded values are 2^q correctly rounded to
    float64, and directed modes and exact hits use those float64 values as the levels.
    """

    bits: int
    frac_bits: int
    domain: str = "log"

    def __post_init__(self) -> None:
        int_fields(self, "bits", "frac_bits")
        if not 2 <= self.bits <= 16:
            raise ValueError(f"bits must be in 2..16, got {self.bits}")
        if not 0 <= self.frac_bits <= 8:
            raise ValueError(f"frac_bits must be in 0..8, got {self.frac_bits}")
        if not isinstance(self.domain, str):
            raise TypeError(f"domain must be 'log' or 'linear', got {self.domain!r}")
        if self.domain not in ("log", "linear"):
            raise ValueError(f"domain must be 'log' or 'linear', got {self.domain!r}")

    @cached_property
    def _offset(self) -> int:
        return 1 << (self.bits - 2)

    @cached_property
    def _mags(self) -> list:
        """Exact (correctly rounded) magnitudes for m = 1 .. 2^(bits-1) - 1, as Fractions."""
        return [_pow2_frac(m - self._offset, self.frac_bits) for m in range(1, 1 << (self.bits - 1))]

    @property
    def max(self) -> float:
        return float(self._mags[-1])

    @property
    def min_normal(self) -> float:
        return float(self._mags[0])

    @cached_property
    def _rounding_table(self):
        """Signed levels (ascending), their codes and the thresholds between neighbours."""
        f = self.frac_bits
        sign = 1 << (self.bits - 1)
        mags = [Fraction(0)] + self._mags
        n = len(mags)
        pos_thr, pos_exact = [], []
        for j in range(n - 1):  # boundary between magnitude j and j+1 (j = 0 is zero)
            if j == 0 or (self.domain == "linear" and f == 0):
                mid = (mags[j] + mags[j + 1]) / 2
                t = threshold_below(lambda v, mid=mid: Fraction(v) > mid, float(mid))
                pos_thr.append(t)
                pos_exact.append(Fraction(t) == mid)
            elif self.domain == "log":
                # geometric mean of 2^(a/r), 2^((a+1)/r): 2^((2a+1)/(2r)); v above it iff v^(2r) > 2^(2a+1)
                a = j - self._offset
                r2 = 2 << f

                def above(v, a=a, r2=r2):
                    fr = Fraction(v)
                    return fr > 0 and fr ** r2 > Fraction(2) ** (2 * a + 1)
                t = threshold_below(above, 2.0 ** ((2 * a + 1) / r2))
                pos_thr.append(t)
                pos_exact.append(f == 0 and False)
            else:  # linear mean of two irrational neighbours, to 60 significant digits
                a = j - self._offset
                with localcontext() as ctx:
                    ctx.prec = 60
                    mid = (Decimal(2) ** (Decimal(a) / (1 << f)) + Decimal(2) ** (Decimal(a + 1) / (1 << f))) / 2
                midf = Fraction(mid)
                t = threshold_below(lambda v, midf=midf: Fraction(v) > midf, float(mid))
                pos_thr.append(t)
                pos_exact.append(False)
        mag_levels = np.array([float(m) for m in mags])
        # negatives mirror the positives: the boundary -t belongs to the larger magnitude when t is
        # not exact, so the negative threshold is the float just below -t's true boundary
        neg_levels = -mag_levels[:0:-1]
        levels = np.concatenate([neg_levels, mag_levels])
        codes = np.concatenate([sign | np.arange(n - 1, 0, -1), np.arange(n)])
        pt = np.array(pos_thr)
        pe = np.array(pos_exact)
        neg_thr = np.where(pe, -pt, -np.nextafter(pt, np.inf))[::-1]
        thr = np.concatenate([neg_thr, pt])
        exact = np.concatenate([pe[::-1], pe])
        return levels, codes.astype(np.int64), thr, exact

    def _encode_flat(self, flat, rounding, saturate, sr_k, key, invalid_code):
        levels, codes, thr, exact = self._rounding_table
        x = flat.astype(np.float64)
        out, bad = round_to_levels(x, levels, thr, exact, codes, rounding, saturate, key)
        out = np.where((out == 0) & np.signbit(x), 1 << (self.bits - 1), out)  # keep the sign of zero
        out = np.where(bad, invalid_code, out).astype(self.code_dtype)
        return out, int(bad.sum())

    def _decode_flat(self, codes):
        sign = 1 << (self.bits - 1)
        table = np.array([0.0] + [float(m) for m in self._mags])
        c = codes.astype(np.int64)
        v = table[c & (sign - 1)]
        return np.where(c & sign, -v, v)

    def _invalid_reason(self, x, saturate):
        bad = ~np.isfinite(x)
        if not saturate:
            bad |= np.abs(x) > self.max
        return bad
