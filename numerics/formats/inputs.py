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


def float_input(x) -> np.ndarray:
    """x as a C-contiguous float16/bfloat16/float32/float64 array; Python numbers become float64."""
    if not isinstance(x, np.ndarray | np.generic):
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"x must be floating-point numbers, got {type(x).__name__}: {err}") from None
    x = np.asarray(x)
    if x.dtype not in SOURCES:
        raise TypeError(
            f"x must be a float16, bfloat16, float32 or float64 array, got dtype {x.dtype}; "
            "convert integers explicitly (e.g. x.astype(np.float64))")
    return x if x.flags.c_contiguous else x.copy(order="C")


def source_bits(flat: np.ndarray) -> tuple[np.ndarray, int, int, int]:
    """The raw bit patterns of a 1-D float array and its (exp_bits, frac_bits, bias)."""
    e, m, bias, view = SOURCES[flat.dtype]
    return flat.view(view), e, m, bias


def rounding_mode(rounding) -> RoundMode:
    if not isinstance(rounding, RoundMode):
        raise TypeError(f"rounding must be a numerics.RoundMode, got {rounding!r} "
                        f"(one of {', '.join('RoundMode.' + r.name for r in RoundMode)})")
    return rounding


def stochastic_args(rounding: RoundMode, rng, sr_bits) -> tuple[int, np.uint64]:
    """(random bits per element, 64-bit key) for stochastic rounding; (62, 0) otherwise."""
    if rounding != RoundMode.STOCHASTIC:
        if sr_bits is not None:
            raise ValueError("sr_bits is only used with rounding=RoundMode.STOCHASTIC")
        return SR_MAX_BITS, np.uint64(0)
    if sr_bits is None:
        k = SR_MAX_BITS
    else:
        if isinstance(sr_bits, bool) or not isinstance(sr_bits, int | np.integer):
            raise TypeError(f"sr_bits must be an int, got {type(sr_bits).__name__}")
        if not 1 <= sr_bits <= SR_MAX_BITS:
            raise ValueError(f"sr_bits must be in 1..{SR_MAX_BITS}, got {sr_bits}")
        k = int(sr_bits)
    if rng is not None and not isinstance(rng, int | np.integer | np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}")
    key = np.random.default_rng(rng).integers(0, 2**64, dtype=np.uint64)
    return k, np.uint64(key)


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
