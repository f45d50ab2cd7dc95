"""Encode/decode kernels for two's-complement and unsigned integer formats of 2..32 bits.

Each kernel is one compiled chunk body called by a parfor driver and by its serial twin, chosen by size,
as in kernels.float_codec (see SERIAL_MAX there): both run the same compiled code on the same
elements, so the bits are the same."""

import math

import numpy as np
from numba import njit, prange

from .float_codec import CHUNK, SERIAL_MAX
from .rounding import SR, random_bits, round_shifted

_TWO62 = 4611686018427387904.0


def encode_int(x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code):
    """Round float64 `x` (1-D) to integers in [lo, hi]; saturate or wrap mod 2**bits; two's-complement codes.

    Returns the number of NaN/inf inputs (given `invalid_code`).
    """
    kernel = _encode_int_serial if x.shape[0] <= SERIAL_MAX else _encode_int
    return kernel(x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code)


@njit(cache=True, parallel=True)
def _encode_int(x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code):
    """encode_int over worker threads."""
    invalid = np.zeros((x.shape[0] + CHUNK - 1) // CHUNK, np.int64)
    for c in prange(invalid.shape[0]):
        invalid[c] = _encode_int_chunk(c, x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code)
    return invalid.sum()


@njit(cache=True)
def _encode_int_serial(x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code):
    """encode_int on the calling thread (small inputs)."""
    n_invalid = 0
    for c in range((x.shape[0] + CHUNK - 1) // CHUNK):
        n_invalid += _encode_int_chunk(c, x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code)
    return n_invalid


@njit(cache=True)
def _encode_int_chunk(c, x, out, bits, lo, hi, saturate, mode, sr_k, key, invalid_code):
    """encode_int on the elements of chunk c; returns how many of them are NaN or inf."""
    modulus = np.int64(1) << bits
    mask = modulus - 1
    n_invalid = 0
    i0 = c * CHUNK
    src = x[i0:min(x.shape[0], i0 + CHUNK)]  # slices keep index wrap-around checks out
    dst = out[i0:min(x.shape[0], i0 + CHUNK)]
    for j in range(src.shape[0]):
        v = src[j]
        if not math.isfinite(v):
            dst[j] = invalid_code
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
                rb = random_bits(key, i0 + j, sr_k)
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
        dst[j] = r & mask
    return n_invalid


def decode_int(codes, out, bits, signed):
    """Two's-complement (or unsigned) codes (uint, 1-D) to float64 `out`."""
    return (_decode_int_serial if codes.shape[0] <= SERIAL_MAX else _decode_int)(codes, out, bits, signed)


@njit(cache=True, parallel=True)
def _decode_int(codes, out, bits, signed):
    """decode_int over worker threads."""
    for c in prange((codes.shape[0] + CHUNK - 1) // CHUNK):
        _decode_int_chunk(c, codes, out, bits, signed)
    return out


@njit(cache=True)
def _decode_int_serial(codes, out, bits, signed):
    """decode_int on the calling thread (small inputs)."""
    for c in range((codes.shape[0] + CHUNK - 1) // CHUNK):
        _decode_int_chunk(c, codes, out, bits, signed)
    return out


@njit(cache=True)
def _decode_int_chunk(c, codes, out, bits, signed):
    """decode_int on the elements of chunk c."""
    half = np.int64(1) << (bits - 1)
    modulus = np.int64(1) << bits
    src = codes[c * CHUNK:min(codes.shape[0], (c + 1) * CHUNK)]  # slices keep index wrap-around checks out
    dst = out[c * CHUNK:min(codes.shape[0], (c + 1) * CHUNK)]
    for j in range(src.shape[0]):
        code = np.int64(src[j])
        if signed and code >= half:
            code -= modulus
        dst[j] = float(code)
