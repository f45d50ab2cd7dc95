"""Packing n-bit codes into bytes as an LSB-first bit stream, and back."""

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def _pack_groups(codes, bits, out, group, group_bytes):
    for g in prange(out.shape[0] // group_bytes):
        acc = np.uint64(0)
        for j in range(group):
            acc |= np.uint64(codes[g * group + j]) << np.uint64(j * bits)
        for t in range(group_bytes):
            out[g * group_bytes + t] = np.uint8((acc >> np.uint64(8 * t)) & np.uint64(0xFF))


@njit(cache=True, parallel=True)
def _unpack_groups(data, bits, out, group, group_bytes):
    mask = np.uint64((1 << bits) - 1)
    for g in prange(out.shape[0] // group):
        acc = np.uint64(0)
        for t in range(group_bytes):
            acc |= np.uint64(data[g * group_bytes + t]) << np.uint64(8 * t)
        for j in range(group):
            out[g * group + j] = np.uint32((acc >> np.uint64(j * bits)) & mask)


@njit(cache=True)
def _pack_stream(codes, bits, out):
    for i in range(codes.shape[0]):
        pos = i * bits
        v = np.uint64(codes[i]) << np.uint64(pos & 7)
        byte = pos >> 3
        while v:
            out[byte] |= np.uint8(v & np.uint64(0xFF))
            v >>= np.uint64(8)
            byte += 1


@njit(cache=True)
def _unpack_stream(data, bits, out):
    mask = np.uint64((1 << bits) - 1)
    for i in range(out.shape[0]):
        pos = i * bits
        byte = pos >> 3
        acc = np.uint64(0)
        for t in range(min(5, data.shape[0] - byte)):
            acc |= np.uint64(data[byte + t]) << np.uint64(8 * t)
        out[i] = np.uint32((acc >> np.uint64(pos & 7)) & mask)


def _group(bits: int) -> tuple[int, int]:
    """Smallest number of codes filling whole bytes (8 / gcd(bits, 8)) and those bytes."""
    import math
    n = 8 // math.gcd(bits, 8)
    return n, n * bits // 8


def _check_bits(bits) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= 32:
        raise ValueError(f"bits must be an int in 1..32, got {bits!r}")


def pack_bits(codes: np.ndarray, bits: int) -> np.ndarray:
    """uint codes (1-D, each < 2**bits, bits <= 32) -> uint8 LSB-first stream of ceil(n*bits/8) bytes."""
    _check_bits(bits)
    codes = np.asarray(codes)
    if codes.ndim != 1 or codes.dtype == np.bool_ or not np.issubdtype(codes.dtype, np.integer):
        raise TypeError(f"codes must be a 1-D integer array, got {codes.ndim}-D {codes.dtype}")
    # a code of more than `bits` bits would spill into its neighbours, and past the end of `out` in
    # the stream kernel: check before any kernel runs
    bits = int(bits)
    if codes.size:
        lo, hi = int(codes.min()), int(codes.max())
        if lo < 0 or hi >= (1 << bits):
            raise ValueError(f"codes must lie in 0..{(1 << bits) - 1} for {bits}-bit packing, "
                             f"got {lo if lo < 0 else hi}")
    group, gbytes = _group(bits)
    n = codes.shape[0]
    if group * bits > 64:  # e.g. 9, 19 bits: a plain bit stream
        out = np.zeros(-(-n * bits // 8), np.uint8)
        _pack_stream(np.ascontiguousarray(codes, np.uint32), bits, out)
        return out
    n_groups = -(-n // group)
    padded = np.zeros(n_groups * group, np.uint32)
    padded[:n] = codes
    out = np.empty(n_groups * gbytes, np.uint8)
    _pack_groups(padded, bits, out, group, gbytes)
    return out[:-(-n * bits // 8)]


def unpack_bits(data: np.ndarray, bits: int, n: int) -> np.ndarray:
    """Inverse of pack_bits: the first n codes (uint32) of a uint8 stream of ceil(n*bits/8) or more bytes."""
    _check_bits(bits)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    bits, n = int(bits), int(n)
    data = np.asarray(data)
    if data.ndim != 1 or data.dtype != np.uint8:
        raise TypeError(f"data must be a 1-D uint8 array, got {data.ndim}-D {data.dtype}")
    if data.shape[0] < -(-n * bits // 8):
        raise ValueError(f"data holds {data.shape[0]} bytes; {n} codes of {bits} bits need {-(-n * bits // 8)}")
    group, gbytes = _group(bits)
    if group * bits > 64:
        out = np.empty(n, np.uint32)
        _unpack_stream(np.ascontiguousarray(data, np.uint8), bits, out)
        return out
    n_groups = -(-n // group)
    padded = np.zeros(n_groups * gbytes, np.uint8)
    padded[:data.shape[0]] = data[:n_groups * gbytes]
    out = np.empty(n_groups * group, np.uint32)
    _unpack_groups(padded, bits, out, group, gbytes)
    return out[:n]
