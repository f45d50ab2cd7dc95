"""Integer rounding core shared by every format kernel, and the counter-based random bits."""

import numpy as np
from numba import njit

# Rounding-mode numbers; numerics.RoundMode uses the same values.
RNE = 0  # ties to even
RNA = 1  # ties to away
RZ = 2  # toward zero
RU = 3  # toward +inf
RD = 4  # toward -inf
RO = 5  # to odd (jamming)
SR = 6  # stochastic

SR_ALL_BITS = 62  # "all" random bits: exact probability whenever the discarded part fits 62 bits

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def splitmix64(state: np.uint64) -> np.uint64:
    """uint64 -> uint64: the SplitMix64 output function (Steele, Lea, Flood, OOPSLA 2014)."""
    z = state + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def random_bits(key: np.uint64, index: np.int64, k: np.int64) -> np.int64:
    """The k (1..62) random bits that element `index` draws under `key`; independent of threading."""
    h = splitmix64(key + np.uint64(index) * _GOLDEN)
    return np.int64(h >> np.uint64(64 - k))


def random_bits_reference(key: int, n: int, k: int) -> np.ndarray:
    """Numpy reference of `random_bits` for indices 0..n-1 (int64 array); used by tests and gfloat checks."""
    mask = (1 << 64) - 1
    g = 0x9E3779B97F4A7C15
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        z = (key + i * g + g) & mask
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        z ^= z >> 31
        out[i] = z >> (64 - k)
    return out


@njit(cache=True, inline="always")
def bit_length(x):
    """Bit length of an integer 0 <= x < 2^63; every kernel that normalises a significand uses this one.
    LLVM turns the loop into a count-leading-zeros: measured faster here than a binary search."""
    n = np.int64(0)
    while x > 0:
        x >>= 1
        n += 1
    return n


@njit(cache=True, inline="always")
def round_shifted(m: np.int64, shift: np.int64, neg: bool, mode: np.int64, parity: np.int64,
                  sr_k: np.int64, rbits: np.int64) -> np.int64:
    """Round the magnitude m * 2**-shift (0 <= m < 2**62) to an integer under `mode`.

    `parity` is added to the truncated result before ties-to-even / to-odd look at its last bit, so
    that the parity tested is that of the final code (E8M0 keeps its evenness in the exponent).
    `neg` is the sign of the value being rounded (directed modes). `rbits` holds `sr_k` random bits.
    """
    if shift <= 0:
        return m << -shift  # exact; callers keep the result below 2**62
    if shift < 63:
        n = m >> shift
        rem = m & ((np.int64(1) << shift) - 1)
        half = np.int64(1) << (shift - 1)
    else:
        # m < 2**62 <= half: the whole of m is discarded and lies below the midpoint.
        n = np.int64(0)
        rem = m
        half = np.int64(1) << 62  # m < 2**62: rem < half always
    if rem == 0:
        return n
    if mode == RNE:
        # branch-free: random data makes the tie/half comparisons unpredictable
        return n + np.int64((rem > half) | ((rem == half) & (((n + parity) & 1) == 1)))
    if mode == RNA:
        return n + np.int64(rem >= half)
    if mode == RZ:
        return n
    if mode == RU:
        return n if neg else n + 1
    if mode == RD:
        return n + 1 if neg else n
    if mode == RO:
        return n if ((n + parity) & 1) == 1 else n + 1
    # SR: keep the top sr_k bits of the discarded part, add sr_k random bits, carry rounds up.
    if shift >= sr_k:
        if shift - sr_k >= 63:
            dk = np.int64(0)
        else:
            dk = rem >> (shift - sr_k)
    else:
        dk = rem << (sr_k - shift)
    if dk + rbits >= (np.int64(1) << sr_k):
        return n + 1
    return n
