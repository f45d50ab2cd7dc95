"""Independent references for the format tests: spec formulas in exact rational arithmetic, and a
vectorised codebook oracle. Nothing here calls lowbit's kernels: the tables come from the spec
formulas below, written from OCP OFP8 v1.0, OCP MX v1.0 §5 and IEEE 754-2019 §3."""

import bisect
import functools
from dataclasses import dataclass
from fractions import Fraction

import ml_dtypes
import numpy as np

RNE, RNA, RZ, RU, RD, RO = "rne", "rna", "rz", "ru", "rd", "ro"


@dataclass(frozen=True)
class Spec:
    """A float format as the specs state it."""

    name: str
    e: int
    m: int
    bias: int
    signed: bool = True
    nan: str = "ieee"  # ieee | fn | fnuz | none
    subnormals: bool = True
    zero: bool = True
    ml: object = None  # ml_dtypes type with identical semantics, if any

    @property
    def bits(self) -> int:
        return int(self.signed) + self.e + self.m


SPECS = [
    Spec("e4m3", 4, 3, 7, nan="fn", ml=ml_dtypes.float8_e4m3fn),
    Spec("e5m2", 5, 2, 15, ml=ml_dtypes.float8_e5m2),
    Spec("e4m3fnuz", 4, 3, 8, nan="fnuz", ml=ml_dtypes.float8_e4m3fnuz),
    Spec("e5m2fnuz", 5, 2, 16, nan="fnuz", ml=ml_dtypes.float8_e5m2fnuz),
    Spec("e3m4", 3, 4, 3, ml=ml_dtypes.float8_e3m4),
    Spec("e2m3", 2, 3, 1, nan="none", ml=ml_dtypes.float6_e2m3fn),
    Spec("e3m2", 3, 2, 3, nan="none", ml=ml_dtypes.float6_e3m2fn),
    Spec("e2m1", 2, 1, 1, nan="none", ml=ml_dtypes.float4_e2m1fn),
    Spec("e8m0", 8, 0, 127, signed=False, nan="fn", subnormals=False, zero=False),
    Spec("ue4m3", 4, 3, 7, signed=False, nan="fn"),
    Spec("fp16", 5, 10, 15, ml=np.float16),
    Spec("bf16", 8, 7, 127, ml=ml_dtypes.bfloat16),
]
SPEC = {s.name: s for s in SPECS}


def decode_spec(s: Spec, code: int):
    """Value of `code`: a Fraction, with -0 as the string '-0', or 'nan' / '+inf' / '-inf'."""
    mag_bits = s.e + s.m
    neg = s.signed and (code >> mag_bits) & 1 == 1
    mag = code & ((1 << mag_bits) - 1)
    field, frac = mag >> s.m, mag & ((1 << s.m) - 1)
    top = (1 << s.e) - 1
    if s.nan == "ieee" and field == top:
        return "nan" if frac else ("-inf" if neg else "+inf")
    if s.nan == "fn" and mag == (1 << mag_bits) - 1:
        return "nan"
    if s.nan == "fnuz" and neg and mag == 0:
        return "nan"
    if field == 0 and s.zero:
        v = Fraction(frac, 1 << s.m) * Fraction(2) ** (1 - s.bias) if s.subnormals else Fraction(0)
    else:
        v = (1 + Fraction(frac, 1 << s.m)) * Fraction(2) ** (field - s.bias)
    if neg:
        return "-0" if v == 0 else -v
    return v


@functools.cache
def spec_table(s: Spec) -> np.ndarray:
    """float64 value of every code (exact: every value of these formats is a float64)."""
    out = np.empty(1 << s.bits)
    for c in range(1 << s.bits):
        v = decode_spec(s, c)
        out[c] = {"nan": np.nan, "+inf": np.inf, "-inf": -np.inf, "-0": -0.0}.get(v, None) \
            if isinstance(v, str) else float(v)
    out.setflags(write=False)
    return out


class Codebook:
    """Nearest-entry rounding over a format's positive value set, with IEEE 754 overflow rules."""

    def __init__(self, s: Spec):
        self.s = s
        table = spec_table(s)
        self.table = table
        pos = [(v, c) for c, v in enumerate(table)
               if np.isfinite(v) and v >= 0 and not np.signbit(v) and c < (1 << (s.e + s.m))]
        if not s.subnormals and s.zero:
            # FTZ formats round as if subnormals existed, then flush (lowbit's documented rule).
            pos = [(v, c) for v, c in pos if c == 0 or v >= 2.0 ** (1 - s.bias)]
            sub = [(c * 2.0 ** (1 - s.bias - s.m), c) for c in range(1, 1 << s.m)]
            pos = sorted(pos + sub)
        pos.sort()
        self.mags = np.array([v for v, _ in pos])
        self.codes = np.array([c for _, c in pos], dtype=np.int64)
        vmax = self.mags[-1]
        # the value past max (unbounded exponent), and its would-be code
        self.next_mag = vmax + 2.0 ** (np.floor(np.log2(vmax)) - s.m)
        self.next_code = self.codes[-1] + 1
        self.max_code = self.codes[-1]
        self.has_inf = s.nan == "ieee"
        self.inf_code = ((1 << s.e) - 1) << s.m
        self.sign_bit = (1 << (s.e + s.m)) if s.signed else 0

    def nan_class(self, codes):
        t = self.table[np.asarray(codes, dtype=np.int64)]
        return np.isnan(t)

    def round(self, x: np.ndarray, mode: str, saturate: bool) -> np.ndarray:
        """Codes for finite or infinite float64 `x` (no NaN); -1 where the format cannot represent."""
        s = self.s
        x = np.asarray(x, np.float64)
        neg = np.signbit(x)
        a = np.abs(x)
        mags = np.append(self.mags, self.next_mag)
        codes = np.append(self.codes, self.next_code)
        idx = np.clip(np.searchsorted(mags, a, side="right") - 1, 0, len(mags) - 2)
        lo, hi = mags[idx], mags[idx + 1]
        clo, chi = codes[idx], codes[idx + 1]
        below = a < mags[0]  # only without a zero (E8M0)
        exact = a == lo
        mid = (lo + hi) / 2
        if mode == RNE:
            up = (a > mid) | ((a == mid) & (clo % 2 == 1))
        elif mode == RNA:
            up = a >= mid
        elif mode == RZ:
            up = np.zeros(a.shape, bool)
        elif mode == RU:
            up = ~neg
        elif mode == RD:
            up = neg.copy()
        elif mode == RO:
            up = clo % 2 == 0
        up &= ~exact
        res = np.where(up, chi, clo)
        res = np.where(below, self.codes[0], res)
        over = (res > self.max_code) | np.isinf(a)
        to_max = saturate | (mode in (RZ, RO)) | ((mode == RU) & neg) | ((mode == RD) & ~neg)
        to_max = to_max & ~np.isinf(a) | (saturate & np.isinf(a))
        out = res.copy()
        if self.has_inf:
            ovf = np.full(a.shape, self.inf_code)
        elif s.nan == "fn":
            ovf = np.full(a.shape, (1 << (s.e + s.m)) - 1)
        elif s.nan == "fnuz":
            ovf = np.full(a.shape, 1 << (s.e + s.m))
        else:
            ovf = np.full(a.shape, -1)
        out = np.where(over & to_max, self.max_code, out)
        out = np.where(over & ~to_max, ovf, out)
        if s.nan == "none":
            out = np.where(np.isinf(a), -1, out)  # inf has no code even when saturating
        if not s.subnormals and s.zero:
            out = np.where((out > 0) & (out < (1 << s.m)), 0, out)
        if not s.signed:
            out = np.where(neg & (a > 0), -1, out)
            return out
        keep_sign = (out >= 0) & (out < self.sign_bit)
        if s.nan == "fnuz":
            keep_sign &= out != 0  # no negative zero
            keep_sign &= ~(over & ~to_max)  # the NaN already carries the bit
        return np.where(keep_sign & neg, out | self.sign_bit, out)


@functools.cache
def codebook(s: Spec) -> Codebook:
    return Codebook(s)


@functools.cache
def _fraction_values(s: Spec) -> list:
    return [Fraction(v) for v in codebook(s).mags]


def round_fraction(s: Spec, x: Fraction, mode: str) -> Fraction:
    """Exact rounding of a nonzero finite rational into the finite values of `s` (saturating), by search."""
    cb = codebook(s)
    vals = _fraction_values(s)
    a = abs(x)
    neg = x < 0
    i = bisect.bisect_right(vals, a) - 1
    if i < 0:
        return vals[0] * (-1 if neg else 1)
    if i == len(vals) - 1:
        return vals[-1] * (-1 if neg else 1)
    lo, hi = vals[i], vals[i + 1]
    if a == lo:
        r = lo
    else:
        mid = (lo + hi) / 2
        odd_lo = cb.codes[i] % 2 == 1
        r = {RNE: hi if a > mid or (a == mid and odd_lo) else lo,
             RNA: hi if a >= mid else lo,
             RZ: lo, RU: lo if neg else hi, RD: hi if neg else lo,
             RO: lo if odd_lo else hi}[mode]
    return -r if neg else r


def boundary_points(mags: np.ndarray, dtype) -> np.ndarray:
    """Every value, every midpoint between neighbours, and one `dtype` ulp either side, both signs."""
    mags = np.asarray(mags, np.float64)
    mids = (mags[:-1] + mags[1:]) / 2
    top = mags[-1] + (mags[-1] - mags[-2])  # around the overflow threshold
    with np.errstate(over="ignore"):
        pts = np.concatenate([mags, mids, [top, (mags[-1] + top) / 2]]).astype(dtype)
    pts = pts[np.isfinite(pts)]
    # far below the smallest value: the source's tiniest numbers and a ladder down to them
    fi = ml_dtypes.finfo(dtype)
    small = mags[mags > 0][0] * 2.0 ** -np.arange(1, 80, 7)
    with np.errstate(under="ignore"):
        tiny = np.concatenate([small.astype(dtype), np.array([fi.smallest_subnormal, fi.smallest_normal], dtype)])
    pts = np.concatenate([pts, tiny[tiny > 0]])
    inf = np.array(np.inf, dtype)
    pts = np.concatenate([pts, np.nextafter(pts, inf), np.nextafter(pts, -inf)])
    pts = pts[np.isfinite(pts)]
    return np.unique(np.concatenate([pts, -pts]))
