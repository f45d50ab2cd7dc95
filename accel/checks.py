"""Argument checks shared by the accelerator model: one rule per kind of field, so that every dataclass
and public function rejects the same bad values with the same words.

Rules (each error names `owner.field` and the valid range):
- a wrong type raises TypeError: bool (Python or numpy) where a number is due, a str or None where a
  number is due, a float where an int is due (4.0 included: sizes and counts are ints);
- a value of the right type outside the range raises ValueError: NaN always, +-inf unless the field
  documents inf (a memory level's unpublished bandwidth);
- numpy integer and floating scalars are accepted and normalised to Python int and float.
"""

import math
import numbers

import numpy as np

# Sizes and counts (GEMM dimensions, repeats) stay below 2**53 so that the timing model's float arithmetic
# on them is exact and numpy's samplers accept them.
MAX_DIM = 2 ** 53


def _is_bool(v) -> bool:
    return isinstance(v, bool | np.bool_)


def _kind(v) -> str:
    return type(v).__name__


def check_int(owner: str, name: str, v, lo: int = 1, hi: int | None = None) -> int:
    """`v` as a Python int in lo..hi (hi None: no upper bound)."""
    desc = "a positive int" if lo == 1 and hi is None else (
        f"an int >= {lo}" if hi is None else f"an int in {lo}..{hi}")
    if _is_bool(v) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{owner}.{name} must be {desc}, got {v!r} ({_kind(v)})")
    v = int(v)
    if v < lo or (hi is not None and v > hi):
        shown = repr(v) if abs(v) < 10 ** 30 else _magnitude(v)  # not 400 digits
        raise ValueError(f"{owner}.{name} must be {desc}, got {shown}")
    return v


def check_real(owner: str, name: str, v, lo: float | None = None, hi: float | None = None, lo_open: bool = True,
               hi_open: bool = False, allow_inf: bool = False, desc: str | None = None) -> float:
    """`v` as a Python float, not NaN, finite unless allow_inf, within the bounds (open or closed)."""
    if _is_bool(v) or not isinstance(v, numbers.Real):
        raise TypeError(f"{owner}.{name} must be {desc or _real_desc(lo, hi, lo_open, hi_open, allow_inf)}, got "
                        f"{v!r} ({_kind(v)})")
    try:
        f = float(v)
    except OverflowError:  # an int (or Fraction) beyond float64's range: the range's own words, not numpy's
        raise ValueError(f"{owner}.{name} must be {desc or _real_desc(lo, hi, lo_open, hi_open, allow_inf)}, got a "
                         f"number beyond float64's range ({_magnitude(v)})") from None
    bad = (math.isnan(f) or (math.isinf(f) and not allow_inf)
           or (lo is not None and (f <= lo if lo_open else f < lo))
           or (hi is not None and (f >= hi if hi_open else f > hi)))
    if bad:
        raise ValueError(f"{owner}.{name} must be {desc or _real_desc(lo, hi, lo_open, hi_open, allow_inf)}, got {v!r}")
    return f


def _magnitude(v) -> str:
    """v's order of magnitude, for a number too large for a float (an int or a Fraction): "about -1e400"."""
    n = abs(v)
    if isinstance(n, numbers.Rational) and not isinstance(n, numbers.Integral):
        n = n.numerator // n.denominator
    return f"about {'-' if v < 0 else ''}1e{len(str(int(n))) - 1}"


def _real_desc(lo, hi, lo_open: bool, hi_open: bool, allow_inf: bool) -> str:
    """check_real's words for its bounds (built only for an error message)."""
    if lo is None and hi is None:
        return "a finite number" if not allow_inf else "a number"
    if lo == 0 and hi is None:
        return ("a positive number" if lo_open else "a finite number >= 0") if not allow_inf else \
            "a positive number (or inf)"
    left = "(" if lo_open else "["
    right = ")" if hi_open else "]"
    return f"a number in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"


def check_str(owner: str, name: str, v, choices=None) -> str:
    """A non-empty str (one of `choices` when given), as a plain str: a numpy string (a str subclass) is
    normalised, so that equal values hash, print and compare alike (sweep point hashes among them)."""
    if choices is not None:
        if not isinstance(v, str) or v not in choices:
            err = TypeError if not isinstance(v, str) and v is not None else ValueError
            raise err(f"{owner}.{name} must be one of {list(choices)}, got {v!r}")
        return str(v)
    if not isinstance(v, str):
        raise TypeError(f"{owner}.{name} must be a str, got {v!r} ({_kind(v)})")
    if not v:
        raise ValueError(f"{owner}.{name} must be a non-empty str")
    return str(v)


def check_seed(name: str, seed, generator: bool = False, sequence: bool = False):
    """A seed as numpy's default_rng takes it: an int >= 0 (numpy scalars normalised), with
    `sequence` a list or tuple of such ints, with `generator` a numpy Generator (used as is)."""
    if generator and isinstance(seed, np.random.Generator):
        return seed
    allowed = "an int >= 0" + (", a sequence of them" if sequence else "") + (
        " or a numpy Generator" if generator else "")
    if sequence and isinstance(seed, list | tuple) and seed:
        return [check_seed(name, s) for s in seed]
    if _is_bool(seed) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {seed!r} ({_kind(seed)})")
    if seed < 0:
        raise ValueError(f"{name} must be {allowed}, got {seed!r}")
    return int(seed)


def real_array(name: str, x, ndim: tuple | None = None) -> np.ndarray:
    """`x` as a float64 array of real, finite numbers (bool, complex, str and object arrays refused)."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as err:  # ragged nested lists
        raise ValueError(f"{name} must be an array of real numbers: {err}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers (int or float), got dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(str(n) for n in ndim)} dimensions, got shape {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite (it holds NaN or inf)")
    return arr


def replace(obj, changes: dict):
    """dataclasses.replace, with an unknown field named (and the valid ones listed) as a ValueError."""
    import dataclasses
    names = [f.name for f in dataclasses.fields(obj) if f.init]
    unknown = [k for k in changes if k not in names]
    if unknown:
        raise ValueError(f"{type(obj).__name__} has no field {unknown[0]!r}; it has {names}")
    return dataclasses.replace(obj, **changes)
