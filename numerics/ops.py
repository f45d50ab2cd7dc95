"""Arithmetic on codes of a scalar format (floats, posits, integers of at most 32 bits), correctly
rounded in every RoundMode, with the format's overflow, NaN and signed-zero rules.

Method (exact, for every mode): the operands decode exactly to float64; the exact result is carried as
a float64 s plus the sign of (exact - s), from error-free transformations (TwoSum, Dekker's TwoProduct,
the exact residuals of division and square root, Shewchuk's exact expansion for fma: kernels.eft, one
compiled pass). The pair is rounded to odd at 53 bits (Boldo & Melquiond, IEEE TC 2008: round-to-odd at
>= p + 2 bits followed by any rounding to p bits is the correct rounding) and then encoded by the
format's own encoder, which rounds exactly from float64. Every format of <= 32 bits has at most 28
significant bits (posit32), so 53 >= p + 2 always.
(Computing in float64 and rounding once is enough only for +, -, *, /, sqrt under ties-to-even when
53 >= 2p + 2, Figueroa 1995: p <= 25, i.e. formats up to fp32 but not posit32, and not for directed
modes or fma; the round-to-odd route covers all cases.)

IEEE 754 §6 signed zeros: an exact zero sum of operands of opposite sign is +0, except -0 when rounding
toward negative; x - x likewise; fma follows the same rule. Integers: exact in int64, then wrap or
saturate; fixed-point products, quotients and roots round by the mode.
"""

import math

import numpy as np

from kernels import eft

from .formats import FloatFormat, IntFormat, NanPolicy, PositFormat, get_format
from .formats import inputs as _inputs
from .formats.base import TABLE_MAX_BITS
from .rounding import RoundMode


def _fmt(f):
    f = get_format(f) if isinstance(f, str) else f
    if not isinstance(f, FloatFormat | PositFormat | IntFormat):
        raise TypeError(f"format arithmetic is defined for float, posit and integer formats, got {type(f).__name__}")
    if f.bits > 32:
        raise ValueError(f"format arithmetic covers formats of at most 32 bits, got {f.bits}")
    return f


def _mode(rounding) -> RoundMode:
    if type(rounding) is RoundMode:
        return rounding
    if isinstance(rounding, str):
        try:
            return RoundMode[rounding.upper()]
        except KeyError:
            raise ValueError(f"unknown rounding {rounding!r}; one of {[m.name for m in RoundMode]}") from None
    if not isinstance(rounding, RoundMode):
        raise TypeError(f"rounding must be a RoundMode (or one of its names), got {rounding!r}; one of "
                        f"{[m.name for m in RoundMode]}")
    return rounding


def _codes(f, c, which: str = "codes") -> np.ndarray:
    """Codes checked as decode checks them: an integer array, each a valid code of f."""
    if type(c) is np.ndarray and c.dtype.kind == "u" and c.flags.c_contiguous:
        # the common case, checked without the general path's dtype look-ups and name formatting:
        # unsigned codes no wider than the format need no range check
        if c.dtype.itemsize * 8 <= f.bits or not c.size or int(c.max()) >> f.bits == 0:
            c = c.astype(f.code_dtype, copy=False)
            f._check_codes(c)
            return c
    try:
        c = _inputs.code_input(c, f.bits, f.name)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{which}: {err}") from None
    f._check_codes(c)
    return c


def _check_args(f, mode: RoundMode, saturate, overflow, rng, sr_bits, *operands) -> list[np.ndarray]:
    """Validate the keywords every operation shares and the operand codes (returned checked), before any
    arithmetic: nothing is silently ignored."""
    if not isinstance(saturate, bool | np.bool_):
        raise TypeError(f"saturate must be a bool, got {type(saturate).__name__}")
    if not isinstance(overflow, str) or overflow not in ("saturate", "wrap"):
        raise ValueError(f"overflow must be 'saturate' or 'wrap', got {overflow!r}")
    if isinstance(f, IntFormat):
        if not saturate:
            raise ValueError(f"{f.name}: integer arithmetic takes overflow='saturate' or 'wrap', not saturate=False")
        if mode == RoundMode.STOCHASTIC:
            raise ValueError("stochastic rounding is not defined here for integer arithmetic")
    elif overflow != "saturate":
        raise ValueError(f"overflow={overflow!r} applies to integer formats; {f.name} takes saturate=")
    _inputs.check_stochastic(mode, rng, sr_bits)  # type checks, and rng/sr_bits only with STOCHASTIC
    codes = [_codes(f, c, name) for c, name in zip(operands, "abc")]
    if any(c.shape != codes[0].shape for c in codes):
        try:
            np.broadcast_shapes(*(c.shape for c in codes))
        except ValueError:
            raise ValueError(f"operand shapes {[c.shape for c in codes]} do not broadcast together") from None
    return codes


_NOT_STOCHASTIC = _inputs.stochastic_args(RoundMode.TIES_TO_EVEN, None, None)


def _encode(f, x, mode, saturate, rng, sr_bits):
    if isinstance(f, FloatFormat):
        if not f.has_nan and np.isnan(x).any():
            raise ValueError(f"the result is NaN (an invalid operation or a NaN operand) and {f.name} has no NaN")
        if not f.signed and (x < 0).any():
            raise ValueError(f"the result {float(x[x < 0].ravel()[0])!r} is negative and {f.name} is unsigned")
    # every argument is checked already (_check_args): run the format's kernel without encode's front end,
    # and let f.encode itself raise its error when an input is not representable
    sr_k, key = _NOT_STOCHASTIC if mode != RoundMode.STOCHASTIC else _inputs.stochastic_args(mode, rng, sr_bits)
    flat = x.reshape(-1)
    codes, n_invalid = f._encode_flat(flat, int(mode), bool(saturate), sr_k, key, 0)  # small: serial kernels
    if n_invalid:
        f.encode(x, rounding=mode, saturate=saturate, rng=rng, sr_bits=sr_bits)
        raise AssertionError(f"{f.name}: the kernel found {n_invalid} unrepresentable result(s), encode none")
    return codes.reshape(x.shape)


def _operands(f, *codes):
    """Values of codes already checked by _check_args (exact float64, as f.decode gives them), without
    checking them again: the decode table of a <= 16-bit format, else its decode kernel."""
    if f.bits <= TABLE_MAX_BITS:
        return [f._table[c] for c in codes]
    return [f._decode_flat(c.reshape(-1)).reshape(c.shape) for c in codes]


def _flat_operands(values):
    """The operands' values broadcast together, each as a C-contiguous 1-D float64, and their shape."""
    shape = values[0].shape  # numpy arrays, or numpy scalars (0-d codes)
    if any(v.shape != shape for v in values):
        values = np.broadcast_arrays(*values)
        return [np.array(v).reshape(-1) for v in values], values[0].shape  # own copies, writeable
    return [v.reshape(-1) for v in values], shape  # C-contiguous views


# -- integers ----------------------------------------------------------------------------------------

def _round_div(n, d, mode: RoundMode):
    """n / d rounded to an integer by `mode` (int64 arrays; d > 0, an array or an int)."""
    if mode == RoundMode.STOCHASTIC:
        raise ValueError(f"{mode.name} is not supported for integer arithmetic")
    if type(d) is int and d == 1:  # plain integers' products (frac_bits = 0): exact, no numpy calls
        return n
    q, r = np.divmod(n, d)  # floor division: 0 <= r < d
    # on integers, "2r > d, or 2r == d and t" is 2r + t > d: one comparison instead of five operations
    if mode == RoundMode.TOWARD_NEGATIVE:
        return q
    if mode == RoundMode.TOWARD_POSITIVE:
        return q + (r > 0)
    if mode == RoundMode.TOWARD_ZERO:
        return q + ((r > 0) & (n < 0))
    if mode == RoundMode.TIES_TO_AWAY:
        return q + (2 * r + (n >= 0) > d)
    if mode == RoundMode.TIES_TO_EVEN:
        return q + (2 * r + (q & 1) > d)
    if mode == RoundMode.TO_ODD:
        return q | (r > 0)  # inexact: q if odd, else q + 1
    raise ValueError(f"{mode.name} is not supported for integer arithmetic")


def _int_finish(f: IntFormat, k, overflow: str):
    lo, hi = f.lowest, f.highest
    if overflow == "saturate":
        k = np.minimum(np.maximum(k, lo), hi)  # np.clip's Python wrapper costs more for small arrays
    elif overflow == "wrap":
        span = 1 << f.bits
        k = (k - lo) % span + lo if f.signed else k % span
        if f.narrow:
            raise ValueError(f"{f.name} is narrow-range: wrapping is undefined; use overflow='saturate'")
    else:
        raise ValueError(f"overflow must be 'saturate' or 'wrap', got {overflow!r}")
    if f.bits == 8 * np.dtype(f.code_dtype).itemsize:
        return k.astype(f.code_dtype)  # the cast keeps the low bits: the code, without the mask
    return (k & ((1 << f.bits) - 1)).astype(f.code_dtype)


def _ints(f: IntFormat, *codes):
    """Raw integers (value * 2^frac_bits) of the codes (already checked): the codes read as `bits`-bit
    two's complement (sign-extended by (k ^ s) - s), what decode gives times 2^frac_bits, in two numpy calls
    instead of a decode, a scaling and a rounding."""
    if not f.signed:
        return [c.astype(np.int64) for c in codes]
    if f.bits == 8 * np.dtype(f.code_dtype).itemsize:  # int8/16/32: the codes viewed as signed, one call
        signed = np.dtype(f"i{np.dtype(f.code_dtype).itemsize}")
        return [c.view(signed).astype(np.int64) for c in codes]
    s = 1 << (f.bits - 1)
    return [(c.astype(np.int64) ^ s) - s for c in codes]


def _int_op(op, f: IntFormat, codes, mode, overflow):
    if mode == RoundMode.STOCHASTIC:
        raise ValueError("stochastic rounding is not defined here for integer arithmetic")
    fb = f.frac_bits
    if op in ("add", "sub"):
        a, b = _ints(f, *codes)
        return _int_finish(f, a + b if op == "add" else a - b, overflow)
    if op == "mul":
        a, b = _ints(f, *codes)
        return _int_finish(f, _round_div(a * b, 1 << fb, mode), overflow)
    if op == "fma":
        a, b, c = _ints(f, *codes)
        return _int_finish(f, _round_div(a * b + (c << fb) if fb else a * b + c, 1 << fb, mode), overflow)
    if op == "div":
        a, b = _ints(f, *codes)
        if np.count_nonzero(b) != b.size:  # count_nonzero: no reduction machinery (any() costs 2 us)
            raise ValueError(f"integer division by zero in {f.name}")
        sign = np.sign(b)
        return _int_finish(f, _round_div((a << fb if fb else a) * sign, b * sign, mode), overflow)
    if op == "sqrt":
        (a,) = _ints(f, *codes)
        if np.count_nonzero(a < 0):
            raise ValueError(f"square root of a negative integer in {f.name}")
        n = a << fb if fb else a
        r = np.array([math.isqrt(v) for v in n.reshape(-1).tolist()], dtype=np.int64).reshape(n.shape)
        if mode in (RoundMode.TOWARD_NEGATIVE, RoundMode.TOWARD_ZERO):  # sqrt(n) = r + t, 0 <= t < 1
            return _int_finish(f, r, overflow)
        rem = n - r * r  # nearest: compare (r + 1/2)^2 = r^2 + r + 1/4 with n; never equal, so no ties
        up = rem > r if mode in (RoundMode.TIES_TO_EVEN, RoundMode.TIES_TO_AWAY) else \
            rem > 0 if mode == RoundMode.TOWARD_POSITIVE else (rem > 0) & (r % 2 == 0)  # TO_ODD
        return _int_finish(f, r + up, overflow)
    raise AssertionError(op)


# -- public operations -----------------------------------------------------------------------------------

_BINARY = {"add": eft.ADD, "sub": eft.SUB, "mul": eft.MUL, "div": eft.DIV}


def _binary(op, a, b, fmt, rounding, saturate, overflow, rng, sr_bits):
    f, mode = _fmt(fmt), _mode(rounding)
    a, b = _check_args(f, mode, saturate, overflow, rng, sr_bits, a, b)
    if isinstance(f, IntFormat):
        return _int_op(op, f, (a, b), mode, overflow)
    (x, y), shape = _flat_operands(_operands(f, a, b))
    s = eft.odd_binary(_BINARY[op], x, y, mode == RoundMode.TOWARD_NEGATIVE, np.empty(x.shape))
    return _encode(f, s.reshape(shape), mode, saturate, rng, sr_bits)


def add(a, b, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of a + b in `fmt`, correctly rounded (integers: exact, then `overflow` "saturate" or "wrap")."""
    return _binary("add", a, b, fmt, rounding, saturate, overflow, rng, sr_bits)


def sub(a, b, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of a - b in `fmt`, correctly rounded."""
    return _binary("sub", a, b, fmt, rounding, saturate, overflow, rng, sr_bits)


def mul(a, b, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of a * b in `fmt`, correctly rounded."""
    return _binary("mul", a, b, fmt, rounding, saturate, overflow, rng, sr_bits)


def div(a, b, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of a / b in `fmt`, correctly rounded (x / 0 is +-inf, then the format's overflow rule;
    0 / 0 NaN)."""
    return _binary("div", a, b, fmt, rounding, saturate, overflow, rng, sr_bits)


def fma(a, b, c, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of a * b + c in `fmt` with a single rounding (IEEE 754 §5.4.1 fusedMultiplyAdd)."""
    f, mode = _fmt(fmt), _mode(rounding)
    a, b, c = _check_args(f, mode, saturate, overflow, rng, sr_bits, a, b, c)
    if isinstance(f, IntFormat):
        return _int_op("fma", f, (a, b, c), mode, overflow)
    (x, y, z), shape = _flat_operands(_operands(f, a, b, c))
    s = eft.odd_fma(x, y, z, mode == RoundMode.TOWARD_NEGATIVE, np.empty(x.shape))
    return _encode(f, s.reshape(shape), mode, saturate, rng, sr_bits)


def sqrt(a, fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, overflow="saturate", rng=None, sr_bits=None):
    """Codes of sqrt(a) in `fmt`, correctly rounded (sqrt(-0) = -0; negative operands give NaN)."""
    f, mode = _fmt(fmt), _mode(rounding)
    (a,) = _check_args(f, mode, saturate, overflow, rng, sr_bits, a)
    if isinstance(f, IntFormat):
        return _int_op("sqrt", f, (a,), mode, overflow)
    (x,) = _operands(f, a)
    flat = x.reshape(-1)
    s = eft.odd_binary(eft.SQRT, flat, flat, False, np.empty(flat.shape))
    return _encode(f, s.reshape(x.shape), mode, saturate, rng, sr_bits)


def _sign_ops(f, a, overflow):
    """The checked codes of a unary sign operation (int64) and the format's sign bit (0: unsigned)."""
    (c,) = _check_args(f, RoundMode.TIES_TO_EVEN, True, overflow, None, None, a)
    if isinstance(f, PositFormat):
        return c.astype(np.int64), 1 << (f.bits - 1)
    return c.astype(np.int64), (1 << (f.bits - 1)) if f.signed else 0


def neg(a, fmt, overflow="saturate"):
    """Codes of -a, exact (IEEE 754 §5.5.1 negate: the sign bit flips, NaN payloads and infinities
    included, -0 <-> +0). FNUZ formats have no -0: 0 and their NaN (the negative-zero pattern) are
    fixed points. Unsigned formats (UE4M3, E8M0): -0 is 0 and NaN stays NaN; any other code is a
    ValueError, as its negation is not representable. Posits: two's complement of the bit string (0
    and NaR are fixed points). Integers: exact, then `overflow` ("saturate": -(-128) = 127 in int8)."""
    f = _fmt(fmt)
    if isinstance(f, IntFormat):
        (c,) = _check_args(f, RoundMode.TIES_TO_EVEN, True, overflow, None, None, a)
        (k,) = _ints(f, c)
        return _int_finish(f, -k, overflow)
    c, sign = _sign_ops(f, a, overflow)
    if isinstance(f, PositFormat):
        return ((-c) & ((1 << f.bits) - 1)).astype(f.code_dtype)
    if not sign:  # unsigned: only zero and NaN negate within the format
        (v,) = _operands(f, c)
        bad = ~((v == 0) | np.isnan(v))
        if bad.any():
            first = c[bad].ravel()[0]
            raise ValueError(f"neg: {f.name} is unsigned, so -x is not representable for x = "
                             f"{float(f.decode(np.array([first]))[0])!r} (code {int(first):#x})")
        return c.astype(f.code_dtype)
    if f.nan == NanPolicy.FNUZ:
        return np.where((c & (sign - 1)) == 0, c, c ^ sign).astype(f.code_dtype)
    return (c ^ sign).astype(f.code_dtype)


def abs(a, fmt, overflow="saturate"):  # noqa: A001 - the IEEE 754 operation's name
    """Codes of |a|, exact (IEEE 754 §5.5.1 abs: the sign bit cleared; NaN stays NaN, with its payload;
    FNUZ's NaN, the negative-zero pattern, stays NaN). Posits: two's complement of negative codes (NaR
    stays NaR). Integers: exact, then `overflow`."""
    f = _fmt(fmt)
    if isinstance(f, IntFormat):
        (c,) = _check_args(f, RoundMode.TIES_TO_EVEN, True, overflow, None, None, a)
        (k,) = _ints(f, c)
        return _int_finish(f, np.abs(k), overflow)
    c, sign = _sign_ops(f, a, overflow)
    if isinstance(f, PositFormat):
        neg_ = (c & sign) != 0
        return np.where(neg_ & (c != f.nan_code), (-c) & ((1 << f.bits) - 1), c).astype(f.code_dtype)
    if not sign:
        return c.astype(f.code_dtype)
    mag = c & (sign - 1)
    if f.nan == NanPolicy.FNUZ:
        return np.where(mag == 0, c, mag).astype(f.code_dtype)
    return mag.astype(f.code_dtype)


def compare(a, b, fmt) -> np.ndarray:
    """-1, 0, 1 for a < b, a == b, a > b; 2 when unordered (a NaN operand). IEEE: -0 == +0. Posits
    (Posit Standard 2022 §5) compare as two's-complement integers: NaR equals itself and is below every
    real."""
    f = _fmt(fmt)
    a, b = _check_args(f, RoundMode.TIES_TO_EVEN, True, "saturate", None, None, a, b)
    if isinstance(f, PositFormat):
        def signed(c):
            c = c.astype(np.int64)
            return np.where(c >= 1 << (f.bits - 1), c - (1 << f.bits), c)
        x, y = signed(a), signed(b)
        return (np.sign(x - y)).astype(np.int8)
    x, y = _operands(f, a, b)
    out = np.greater(x, y).astype(np.int8) - np.less(x, y).astype(np.int8)  # NaN: neither, 0 so far
    unordered = np.isnan(x) | np.isnan(y)
    if unordered.any():
        out = np.where(unordered, 2, out)
    return np.asarray(out, np.int8)


def convert(codes, from_fmt, to_fmt, rounding=RoundMode.TIES_TO_EVEN, saturate=True, rng=None, sr_bits=None):
    """Codes of `from_fmt` rounded into `to_fmt` (exact decode to float64, one correct rounding)."""
    f, t = _fmt(from_fmt), _fmt(to_fmt)
    mode = _mode(rounding)
    if not isinstance(saturate, bool | np.bool_):
        raise TypeError(f"saturate must be a bool, got {type(saturate).__name__}")
    _inputs.check_stochastic(mode, rng, sr_bits)  # checked before any work; encode applies them
    (v,) = _operands(f, _codes(f, codes))
    return _encode(t, v, mode, saturate, rng, sr_bits)


__all__ = ["abs", "add", "compare", "convert", "div", "fma", "mul", "neg", "sqrt", "sub"]
