"""Encode/decode kernels for two's-complement and unsigned integer formats of 2..32 bits."""

import math

import numpy as np
from numba import njit, prange

from .rounding import SR, random_bits, round_shifted

_TWO62 = 4611686018427387904.0


@njit(cache=True, parallel=True)
def encode_int(x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code):
    """Round float64 `x` (1-D) to integers in [lo, hi]; saturate or wrap mod 2**bits; two's-complement codes.

    Returns the number of NaN/inf inputs (given `invalid_code`).
    """
    n = x.shape[0]
    modulus = np.int64(1) << bits
    mask = modulus - 1
    n_invalid = 0
    for i in prange(n):
        v = x[i]
        if not math.isfinite(v):
            out[i] = invalid_code
            n_invalid += 1
            continue
        neg = v < 0.0
        a = -v if neg else v
        if a >= _TWO62:
            # Already an integer (float64 has no fraction bits here); beyond every range.
            if saturate:
                r = lo if neg else hi
            else:
                r = np.int64(np.fmod(v, float(modulus)))
        else:
            ip = np.int64(math.floor(a))
            scaled = math.ldexp(a - ip, 61)  # a - ip is exact for a < 2**62
            fl = math.floor(scaled)
            # 61 fraction bits and a sticky bit below them: ties are exact, inexactness is never lost.
            fbits = (np.int64(fl) << 1) | np.int64(scaled != fl)
            rb = np.int64(0)
            if mode == SR:
                rb = random_bits(key, i, sr_k)
            up = round_shifted(fbits, 62, neg, mode, ip, sr_k, rb)
            mag = ip + up
            r = -mag if neg else mag
            if r < lo or r > hi:
                if saturate:
                    r = lo if r < lo else hi
                else:
                    r = r & mask
                    if lo < 0 and r > hi:
                        r -= modulus
        out[i] = r & mask
    return n_invalid


@njit(cache=True, parallel=True)
def decode_int(codes, out, bits, signed):
    """Two's-complement (or unsigned) codes (uint, 1-D) to float64 `out`."""
    half = np.int64(1) << (bits - 1)
    modulus = np.int64(1) << bits
    for i in prange(codes.shape[0]):
        c = np.int64(codes[i])
        if signed and c >= half:
            c -= modulus
        out[i] = float(c)
    return out
