"""Encode/decode kernels for posits <n, es> (n <= 32, es <= 4): Posit Standard (2022) and the legacy
draft, which differ only in es. Rounding is on the bit string, never to 0 or NaR.

Each kernel is one compiled chunk body called by a parfor driver and by its serial twin, chosen by size,
as in kernels.float_codec (see SERIAL_MAX there): both run the same compiled code on the same
elements, so the bits are the same."""

import math

import numpy as np
from numba import njit, prange

from .float_codec import CHUNK, SERIAL_MAX
from .rounding import SR, bit_length, random_bits, round_shifted


def encode_posit(bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key):
    """Source float bit patterns (1-D uint) -> posit<n, es> codes; NaN and inf give NaR (10...0)."""
    kernel = _encode_posit_serial if bits.shape[0] <= SERIAL_MAX else _encode_posit
    return kernel(bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key)


@njit(cache=True, parallel=True)
def _encode_posit(bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key):
    """encode_posit over worker threads."""
    for c in prange((bits.shape[0] + CHUNK - 1) // CHUNK):
        _encode_posit_chunk(c, bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key)
    return out


@njit(cache=True)
def _encode_posit_serial(bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key):
    """encode_posit on the calling thread (small inputs)."""
    for c in range((bits.shape[0] + CHUNK - 1) // CHUNK):
        _encode_posit_chunk(c, bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key)
    return out


@njit(cache=True)
def _encode_posit_chunk(c, bits, src_e, src_m, src_bias, out, n, es, mode, sr_k, key):
    """encode_posit on the elements of chunk c."""
    nar = np.int64(1) << (n - 1)
    maxpos = nar - 1
    mask = (np.int64(1) << n) - 1
    src_emask = (np.int64(1) << src_e) - 1
    src_fmask = (np.int64(1) << src_m) - 1
    sign_shift = np.uint64(src_e + src_m)
    i0 = c * CHUNK
    src = bits[i0:min(bits.shape[0], i0 + CHUNK)]  # slices keep index wrap-around checks out
    dst = out[i0:min(bits.shape[0], i0 + CHUNK)]
    for j in range(src.shape[0]):
        b = np.uint64(src[j])
        neg = ((b >> sign_shift) & np.uint64(1)) == np.uint64(1)
        ef = np.int64(b >> np.uint64(src_m)) & src_emask
        fr = np.int64(b) & src_fmask
        if ef == src_emask:
            dst[j] = nar
            continue
        if ef == 0 and fr == 0:
            dst[j] = 0
            continue
        if ef == 0:  # subnormal source: normalise so the leading 1 sits at bit src_m
            sh = src_m + 1 - bit_length(fr)
            frac = (fr << sh) & src_fmask
            scale = 1 - src_bias - sh
        else:
            frac = fr
            scale = ef - src_bias
        k = scale >> es  # floor division by 2^es
        e = scale - (k << es)
        if k >= n - 2:
            mag = maxpos
        elif k < -(n - 2):
            mag = np.int64(1)  # below minpos: minpos (posits never round to zero)
        else:
            if k >= 0:
                rl = k + 2
                regime = ((np.int64(1) << (k + 1)) - 1) << 1  # k+1 ones then a zero
            else:
                rl = -k + 1
                regime = np.int64(1)  # -k zeros then a one
            low = (e << src_m) | frac  # exponent and fraction bits below the regime
            low_bits = es + src_m
            keep = n - 1 - rl  # bits of `low` that fit
            shift = low_bits - keep
            if shift <= 0:
                mag = (regime << (low_bits - shift)) | (low << -shift)
            else:
                base = regime << keep
                rb = np.int64(0)
                if mode == SR:
                    rb = random_bits(key, i0 + j, sr_k)
                mag = base + round_shifted(low, shift, neg, mode, base, sr_k, rb)
            if mag > maxpos:
                mag = maxpos
            if mag < 1:
                mag = np.int64(1)
        dst[j] = ((-mag) & mask) if neg else mag


def decode_posit(codes, out, n, es):
    """posit<n, es> codes (1-D uint) -> exact float64 (NaR -> NaN)."""
    return (_decode_posit_serial if codes.shape[0] <= SERIAL_MAX else _decode_posit)(codes, out, n, es)


@njit(cache=True, parallel=True)
def _decode_posit(codes, out, n, es):
    """decode_posit over worker threads."""
    for c in prange((codes.shape[0] + CHUNK - 1) // CHUNK):
        _decode_posit_chunk(c, codes, out, n, es)
    return out


@njit(cache=True)
def _decode_posit_serial(codes, out, n, es):
    """decode_posit on the calling thread (small inputs)."""
    for c in range((codes.shape[0] + CHUNK - 1) // CHUNK):
        _decode_posit_chunk(c, codes, out, n, es)
    return out


@njit(cache=True)
def _decode_posit_chunk(c, codes, out, n, es):
    """decode_posit on the elements of chunk c."""
    nar = np.int64(1) << (n - 1)
    mask = (np.int64(1) << n) - 1
    src = codes[c * CHUNK:min(codes.shape[0], (c + 1) * CHUNK)]  # slices keep index wrap-around checks out
    dst = out[c * CHUNK:min(codes.shape[0], (c + 1) * CHUNK)]
    for j in range(src.shape[0]):
        code = np.int64(src[j])
        if code == 0:
            dst[j] = 0.0
            continue
        if code == nar:
            dst[j] = np.nan
            continue
        neg = (code & nar) != 0
        mag = ((-code) & mask) if neg else code
        # regime: run of identical bits after the sign
        pos = n - 2
        first = (mag >> pos) & 1
        run = 0
        while pos >= 0 and ((mag >> pos) & 1) == first:
            run += 1
            pos -= 1
        k = run - 1 if first == 1 else -run
        pos -= 1  # skip the terminating bit
        rest_bits = pos + 1 if pos >= 0 else 0
        rest = mag & ((np.int64(1) << rest_bits) - 1)
        if rest_bits >= es:
            e = rest >> (rest_bits - es)
            fbits = rest_bits - es
            f = rest & ((np.int64(1) << fbits) - 1)
        else:
            e = rest << (es - rest_bits)  # missing exponent bits are zeros
            fbits = 0
            f = np.int64(0)
        v = math.ldexp(float((np.int64(1) << fbits) + f), (k << es) + e - fbits)
        dst[j] = -v if neg else v


def encode_posit_rne(bits, src_e, src_m, src_bias, out, n, es):
    """`encode_posit` for round-to-nearest-even, written without branches so it vectorises.

    The same codes as `encode_posit(..., mode=RNE)` where the caller has checked that it applies
    (`rne_fast_path_ok`): every rounding shift is positive and every subnormal source value lies
    below minpos. Elements run in chunks whose slices carry no index wrap-around checks.
    """
    kernel = _encode_posit_rne_serial if bits.shape[0] <= SERIAL_MAX else _encode_posit_rne
    return kernel(bits, src_e, src_m, src_bias, out, n, es)


@njit(cache=True, parallel=True)
def _encode_posit_rne(bits, src_e, src_m, src_bias, out, n, es):
    """encode_posit_rne over worker threads."""
    for c in prange((bits.shape[0] + CHUNK - 1) // CHUNK):
        _encode_posit_rne_chunk(c, bits, src_e, src_m, src_bias, out, n, es)
    return out


@njit(cache=True)
def _encode_posit_rne_serial(bits, src_e, src_m, src_bias, out, n, es):
    """encode_posit_rne on the calling thread (small inputs)."""
    for c in range((bits.shape[0] + CHUNK - 1) // CHUNK):
        _encode_posit_rne_chunk(c, bits, src_e, src_m, src_bias, out, n, es)
    return out


@njit(cache=True)
def _encode_posit_rne_chunk(c, bits, src_e, src_m, src_bias, out, n, es):
    """encode_posit_rne on the elements of chunk c."""
    nar = np.int64(1) << (n - 1)
    maxpos = nar - 1
    mask = (np.int64(1) << n) - 1
    sign_shift = src_e + src_m
    body = (np.int64(1) << sign_shift) - 1
    src_emask = (np.int64(1) << src_e) - 1
    src_fmask = (np.int64(1) << src_m) - 1
    low_bits = es + src_m
    kmax = np.int64(n - 3)  # largest regime that still leaves the terminating bit
    kmin = np.int64(2 - n)
    total = bits.shape[0]
    src = bits[c * CHUNK:min(total, (c + 1) * CHUNK)]
    dst = out[c * CHUNK:min(total, (c + 1) * CHUNK)]
    for j in range(src.shape[0]):
        b = np.int64(src[j])
        neg = ((b >> sign_shift) & 1) == 1
        ef = (b >> src_m) & src_emask
        scale = ef - src_bias
        k = scale >> es  # floor division by 2^es
        e = scale - (k << es)
        kc = min(max(k, kmin), kmax)
        rl = kc + 2 if kc >= 0 else 1 - kc
        regime = (((np.int64(1) << (kc + 1)) - 1) << 1) if kc >= 0 else np.int64(1)
        low = (e << src_m) | (b & src_fmask)  # exponent and fraction bits below the regime
        keep = n - 1 - rl
        shift = low_bits - keep  # >= 1 (checked by the caller)
        rem = low & ((np.int64(1) << shift) - 1)
        half = np.int64(1) << (shift - 1)
        mag = (regime << keep) | (low >> shift)
        mag += np.int64((rem > half) | ((rem == half) & ((mag & 1) == 1)))
        mag = min(mag, maxpos)
        mag = maxpos if k > kmax else mag
        mag = np.int64(1) if (k < kmin) | (ef == 0) else mag  # never to zero: minpos
        r = ((-mag) & mask) if neg else mag
        r = np.int64(0) if (b & body) == 0 else r
        dst[j] = nar if ef == src_emask else r


def rne_fast_path_ok(src_e, src_m, src_bias, n, es):
    """Whether `encode_posit_rne` gives `encode_posit`'s RNE codes for this source and posit."""
    shifts_positive = es + src_m > n - 3  # the widest kept field is n - 3 bits
    subnormals_below_minpos = (-src_bias) >> es < 2 - n  # largest subnormal has scale -bias
    return shifts_positive and subnormals_below_minpos
