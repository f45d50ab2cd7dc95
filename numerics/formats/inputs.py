"""Validation of the arguments every scalar format's encode/decode takes."""

import ml_dtypes
import numpy as np

from ..rounding import RoundMode

# Source float types: (exponent bits, fraction bits, bias, unsigned view). Every one widens exactly.
SOURCES = {
    np.dtype(np.float16): (5, 10, 15, np.uint16),
    np.dtype(ml_dtypes.bfloat16): (8, 7, 127, np.uint16),
    np.dtype(np.float32): (8, 23, 127, np.uint32),
    np.dtype(np.float64): (11, 52, 1023, np.uint64),
}
SR_MAX_BITS = 62


_FLOAT_NAMES = "float16, bfloat16, float32 or float64"
_TWO53 = float(1 << 53)


def float_input(x) -> np.ndarray:
    """x as a C-contiguous float16/bfloat16/float32/float64 array.

    numpy arrays (and array-likes: anything `np.asarray` takes that is not a Python number or a list)
    must already have one of those dtypes: integers are converted explicitly by the caller. Python
    floats, and Python ints that float64 holds exactly, become float64, alone or in (nested) lists and
    tuples; an int float64 cannot hold exactly is a ValueError (rounding it first would round twice).
    bools, strings, None, complex numbers and other objects are a TypeError naming `x`.
    """
    if isinstance(x, np.ndarray | np.generic):
        arr = np.asarray(x)
    elif isinstance(x, bool) or x is None or isinstance(x, str | bytes | complex):
        raise TypeError(f"x must be floating-point numbers, got {type(x).__name__}: {x!r:.60}")
    elif isinstance(x, float):
        arr = np.asarray(x, dtype=np.float64)
    elif isinstance(x, int):
        arr = np.asarray(_exact_int(x), dtype=np.float64)
    elif isinstance(x, list | tuple):
        arr = _from_sequence(x)
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x must be floating-point numbers, got {type(x).__name__}: {err}") from None
    if arr.dtype not in SOURCES:
        kind = arr.dtype.kind
        hint = ("; convert integers explicitly (e.g. x.astype(np.float64))" if kind in "iu"
                else "; bools are not numbers here: convert explicitly" if kind == "b" else "")
        raise TypeError(f"x must be a {_FLOAT_NAMES} array, got dtype {arr.dtype}{hint}")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _exact_int(v: int) -> float:
    """float(v) for a Python int that float64 holds exactly; ValueError otherwise."""
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"x holds the integer {v}, beyond float64's range") from None
    if int(f) != v:
        raise ValueError(f"x holds the integer {v}, which float64 cannot hold exactly (it would round "
                         "twice); pass it as a float or an array of the precision you mean")
    return f


def _from_sequence(x) -> np.ndarray:
    """float64 array of a (nested) list/tuple of Python numbers, every element converted exactly."""
    try:
        arr = np.asarray(x)
    except OverflowError:
        return _from_objects(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"x must be floating-point numbers (a ragged or mixed sequence was given: {err})") from None
    kind = arr.dtype.kind
    if kind == "f":
        # numpy converts ints inside a mixed list with float(): only magnitudes from 2^53 up can round
        if arr.dtype == np.float64 and arr.size:
            with np.errstate(invalid="ignore"):
                big = (np.abs(arr) >= _TWO53) & np.isfinite(arr)
            if big.any():
                return _from_objects(x)
        return arr
    if kind in "iu":
        if arr.size and (arr.max() >= (1 << 53) or (kind == "i" and arr.min() <= -(1 << 53))):
            return _from_objects(x)
        return arr.astype(np.float64)
    if kind == "O":
        return _from_objects(x)
    if kind == "b":
        raise TypeError(f"x must be floating-point numbers, got bools (dtype {arr.dtype})")
    raise TypeError(f"x must be floating-point numbers, got a sequence of dtype {arr.dtype}")


def _from_objects(x) -> np.ndarray:
    """Slow path: check each element of a nested sequence (Python ints beyond 2^53, mixed types)."""
    obj = np.asarray(x, dtype=object)
    out = np.empty(obj.shape, np.float64)
    flat = out.reshape(-1)
    for i, v in enumerate(obj.reshape(-1)):
        if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
            raise TypeError(f"x must be floating-point numbers, got {type(v).__name__} {v!r:.60} at flat index {i}")
        if isinstance(v, np.floating) and np.dtype(type(v)) not in SOURCES:
            raise TypeError(f"x must be {_FLOAT_NAMES} numbers, got {type(v).__name__} at flat index {i}")
        flat[i] = _exact_int(int(v)) if isinstance(v, int | np.integer) else float(v)
    return out


def source_bits(flat: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """The raw bit patterns of a 1-D float array and its (exp_bits, frac_bits, bias)."""
    e, m, bias, view = SOURCES[flat.dtype]
    return flat.view(view), e, m, bias


def rounding_mode(rounding) -> RoundMode:
    if not isinstance(rounding, RoundMode):
        raise TypeError(f"rounding must be a numerics.RoundMode, got {rounding!r} "
                        f"(one of {', '.join('RoundMode.' + r.name for r in RoundMode)})")
    return rounding


def check_rng(rng) -> None:
    """rng must be None, a numpy.random.Generator or an int seed >= 0 (TypeError / ValueError naming it)."""
    if rng is None or isinstance(rng, np.random.Generator):
        return
    if isinstance(rng, bool | np.bool_) or not isinstance(rng, int | np.integer):
        raise TypeError(f"rng must be a numpy.random.Generator, an int seed >= 0 or None, got {type(rng).__name__}")
    if rng < 0:
        raise ValueError(f"rng must be a numpy.random.Generator, an int seed >= 0 or None, got the seed {int(rng)}")


def check_sr_bits(sr_bits) -> int | None:
    if sr_bits is None:
        return None
    if isinstance(sr_bits, bool | np.bool_) or not isinstance(sr_bits, int | np.integer):
        raise TypeError(f"sr_bits must be an int in 1..{SR_MAX_BITS} or None, got {type(sr_bits).__name__}")
    if not 1 <= sr_bits <= SR_MAX_BITS:
        raise ValueError(f"sr_bits must be in 1..{SR_MAX_BITS}, got {sr_bits}")
    return int(sr_bits)


def check_stochastic(rounding: RoundMode, rng, sr_bits) -> int | None:
    """Validate `rng` and `sr_bits` without drawing from rng: type-checked whenever given, and a
    ValueError with any rounding mode but STOCHASTIC (they would be silently ignored there).
    Returns sr_bits as an int, or None."""
    check_rng(rng)
    k = check_sr_bits(sr_bits)
    if rounding != RoundMode.STOCHASTIC:
        if sr_bits is not None:
            raise ValueError("sr_bits is only used with rounding=RoundMode.STOCHASTIC "
                             f"(got rounding=RoundMode.{rounding.name})")
        if rng is not None:
            raise ValueError("rng is only used with rounding=RoundMode.STOCHASTIC "
                             f"(got rounding=RoundMode.{rounding.name}): it would be ignored")
    return k


def stochastic_args(rounding: RoundMode, rng, sr_bits) -> tuple[int, np.uint64]:
    """(random bits per element, 64-bit key) for stochastic rounding; (62, 0) otherwise (see
    `check_stochastic`). A Generator gives one draw per call."""
    k = check_stochastic(rounding, rng, sr_bits)
    if rounding != RoundMode.STOCHASTIC:
        return SR_MAX_BITS, np.uint64(0)
    key = np.random.default_rng(rng).integers(0, 2**64, dtype=np.uint64)
    return SR_MAX_BITS if k is None else k, np.uint64(key)


def code_dtype(bits: int) -> np.dtype:
    """Smallest unsigned dtype that holds `bits`-bit codes."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if bits <= np.iinfo(dt).bits:
            return np.dtype(dt)
    raise ValueError(f"no code dtype holds {bits} bits")


def code_input(codes, bits: int, fmt_name: str) -> np.ndarray:
    """codes as a C-contiguous unsigned array, each checked to lie in 0 .. 2**bits - 1."""
    codes = np.asarray(codes)
    if codes.dtype == np.bool_ or not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be an integer array, got dtype {codes.dtype}")
    unsigned = np.issubdtype(codes.dtype, np.unsignedinteger)
    if codes.size and not (unsigned and codes.dtype.itemsize * 8 <= bits):  # else: all in range
        lo = 0 if unsigned else codes.min()
        hi = codes.max()
        if lo < 0 or int(hi) >= (1 << bits):
            bad = codes[(codes < 0) | (codes >= (1 << bits))].ravel()[0]
            raise ValueError(f"codes must lie in 0..{(1 << bits) - 1} for {fmt_name} ({bits} bits), "
                             f"got {int(bad)}")
    codes = codes.astype(code_dtype(bits), copy=False)
    return codes if codes.flags.c_contiguous else codes.copy(order="C")


def nan_code_arg(nan_code, bits: int) -> int | None:
    if nan_code is None:
        return None
    if isinstance(nan_code, bool) or not isinstance(nan_code, int | np.integer):
        raise TypeError(f"nan_code must be an int code or None, got {type(nan_code).__name__}")
    if not 0 <= nan_code < (1 << bits):
        raise ValueError(f"nan_code must lie in 0..{(1 << bits) - 1}, got {nan_code}")
    return int(nan_code)
