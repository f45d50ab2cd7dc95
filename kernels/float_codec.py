"""Generic encode/decode kernels for every sign/exponent/mantissa float format.

A target format is described by plain integers (no names):
  e_bits, m_bits, bias, signed, has_zero, subnormals, max_mag, inf_mag, nan_mag, neg_nan, nan_is_negzero.
The source is any IEEE binary format given by its bit pattern and (src_e, src_m, src_bias), so
float16, bfloat16, float32 and float64 inputs are each rounded once, directly from their own precision.
"""

import math

import numpy as np
from numba import njit, prange

from .rounding import RD, RNA, RNE, RO, RU, RZ, SR, bit_length, random_bits, round_shifted

CHUNK = 1 << 14  # elements per parallel work item
# At most this many elements run the serial twin of each kernel (the same compiled chunk function, called
# in a range loop instead of prange, so the same bits): opening a parallel region wakes the worker threads,
# which costs from ~0.1 ms on an idle machine to tens of ms on a loaded one, a thousand times the work of a
# one-element call. One chunk is the most a parallel region would hand to a single thread anyway. Here and
# in the posit and integer codecs the chunk is not inlined into the two drivers: it costs nothing
# measurable at run time and cuts a cold first call's compilation by about a third (a parfor that inlines
# a large body takes seconds more to compile).
SERIAL_MAX = CHUNK


@njit(cache=True, inline="always")
def _encode_one(b, i, sh, src_e, src_m, src_bias, e_bits, m_bits, bias, signed, has_zero, subnormals,
                max_mag, inf_mag, nan_mag, nan_is_negzero, mode, saturate, sr_k, key):
    """Code of the source bit pattern `b` times 2**-sh, every case handled; -1 when the target cannot
    represent it. `i` is the element's index (its stochastic-rounding random bits)."""
    src_emask = (np.int64(1) << src_e) - 1
    src_fmask = (np.int64(1) << src_m) - 1
    tgt_sign = np.int64(1) << (e_bits + m_bits)
    hidden = np.int64(1) << m_bits
    emin = (1 - bias) if has_zero else -bias  # exponent of the lowest binade with an implicit 1
    neg = ((b >> np.uint64(src_e + src_m)) & np.uint64(1)) == np.uint64(1)
    ef = np.int64(b >> np.uint64(src_m)) & src_emask
    fr = np.int64(b) & src_fmask
    code = np.int64(-1)
    sgn = np.int64(0)
    if ef == src_emask:
        if fr != 0:  # NaN
            if nan_mag >= 0:
                code = nan_mag
                if nan_is_negzero:
                    code = tgt_sign
                elif signed and neg:
                    code = nan_mag | tgt_sign
        else:  # infinity
            if inf_mag < 0 and nan_mag < 0:
                code = -1  # nothing can stand for it: invalid even when saturating
            elif neg and not signed:
                code = -1
            elif saturate:
                code = max_mag
                sgn = np.int64(neg)
            elif inf_mag >= 0:
                code = inf_mag
                sgn = np.int64(neg)
            elif nan_is_negzero:
                code = tgt_sign
            else:
                code = nan_mag
                sgn = np.int64(neg)
    elif ef == 0 and fr == 0:
        code = 0  # without a zero (E8M0) code 0 is the smallest value, the nearest to 0
        sgn = np.int64(neg) if has_zero else np.int64(0)
    elif neg and not signed:
        code = -1
    else:
        if ef == 0:
            m = fr
            e = 1 - src_bias - src_m - sh
            fl2 = e + bit_length(m) - 1
        else:
            m = fr | (np.int64(1) << src_m)
            e = ef - src_bias - src_m - sh
            fl2 = e + src_m
        te = fl2 if fl2 > emin else emin
        shift = te - m_bits - e
        base = ((te + bias) << m_bits) - hidden
        rb = np.int64(0)
        if mode == SR:
            rb = random_bits(key, i, sr_k)
        q = round_shifted(m, shift, neg, mode, base, sr_k, rb)
        if not has_zero and q < hidden:
            q = hidden  # no zero (E8M0): everything below the smallest value lands on it
        mag = base + q
        sgn = np.int64(neg)
        if mag > max_mag:
            to_max = (saturate or mode == RZ or mode == RO
                      or (mode == RU and neg) or (mode == RD and not neg))
            if to_max:
                mag = max_mag
            elif inf_mag >= 0:
                mag = inf_mag
            elif nan_mag >= 0:
                mag = tgt_sign if nan_is_negzero else nan_mag
                if nan_is_negzero:
                    sgn = 0
            else:
                mag = -1
        elif not subnormals and has_zero and mag < hidden:
            mag = 0  # flush-to-zero after rounding, sign kept
        code = mag
    if code < 0:
        return code
    if code == 0 and nan_is_negzero:
        sgn = 0  # FNUZ: the negative-zero pattern is NaN, zeros are unsigned
    if signed and sgn == 1 and code < tgt_sign:
        code |= tgt_sign
    return code


def encode_float(bits, src_e, src_m, src_bias, out,
                 e_bits, m_bits, bias, signed, has_zero, subnormals,
                 max_mag, inf_mag, nan_mag, nan_is_negzero,
                 mode, saturate, sr_k, key, invalid_code, shifts, block_len):
    """Round source bit patterns (uint16/32/64, 1-D) times 2**-shifts[i // block_len] into target
    codes `out` (uint8/16/32, 1-D); `shifts` is int64 with one entry per block of `block_len`.

    A branch-free (vectorisable) pass is exact for normal or zero, in-range source values, and counts
    per chunk the elements it cannot handle (subnormal sources, inf/NaN, negatives into unsigned
    formats, overflow that does not saturate); only chunks with such elements are redone with the
    general `_encode_one`. Both draw the same random bits per element index, so stochastic rounding
    does not depend on which path or thread ran. Returns the number of inputs the target cannot
    represent (NaN/inf without a code, negative into an unsigned format, overflow with neither inf
    nor NaN); those get `invalid_code`.
    """
    fmt = (e_bits, m_bits, bias, signed, has_zero, subnormals, max_mag, inf_mag, nan_mag, nan_is_negzero)
    serial = bits.shape[0] <= SERIAL_MAX
    special = (_encode_fast_serial if serial else _encode_fast)(
        bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key, shifts, block_len)
    if not (special[0] if special.shape[0] == 1 else special.any()):  # [0]: no reduction for one chunk
        return 0
    return (_encode_general_serial if serial else _encode_general)(
        bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key, invalid_code, shifts, block_len,
        special)


@njit(cache=True, inline="always")
def _to_max(mode, saturate, neg):
    """Whether an overflow of this sign ends at ±max (IEEE 754-2019 §7.4) rather than inf/NaN."""
    return saturate or mode == RZ or mode == RO or (mode == RU and neg) or (mode == RD and not neg)


@njit(cache=True, inline="always")
def _chunk_len(block_len):
    """Elements per parallel work item: whole blocks, about CHUNK of them."""
    return block_len * max(1, CHUNK // block_len)


@njit(cache=True, parallel=True)
def _encode_fast(bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key, shifts, block_len):
    """Branch-free pass; returns, per chunk, how many elements it could not encode."""
    n_chunks = (bits.shape[0] + _chunk_len(block_len) - 1) // _chunk_len(block_len)
    special = np.zeros(n_chunks, np.int64)
    for c in prange(n_chunks):
        special[c] = _encode_fast_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key,
                                        shifts, block_len)
    return special


@njit(cache=True)
def _encode_fast_serial(bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key, shifts, block_len):
    """_encode_fast on the calling thread (small inputs)."""
    n_chunks = (bits.shape[0] + _chunk_len(block_len) - 1) // _chunk_len(block_len)
    special = np.zeros(n_chunks, np.int64)
    for c in range(n_chunks):
        special[c] = _encode_fast_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key,
                                        shifts, block_len)
    return special


@njit(cache=True)
def _encode_fast_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key, shifts, block_len):
    """The branch-free pass over chunk c; returns how many of its elements it could not encode."""
    e_bits, m_bits, bias, signed, has_zero, subnormals, max_mag, _, _, nan_is_negzero = fmt
    n = bits.shape[0]
    chunk = _chunk_len(block_len)
    src_fmask = (np.int64(1) << src_m) - 1
    src_hidden = np.int64(1) << src_m
    src_emask = (np.int64(1) << src_e) - 1
    sign_shift = src_e + src_m
    mag_mask = (np.int64(1) << sign_shift) - 1
    tgt_shift = e_bits + m_bits
    hidden = np.int64(1) << m_bits
    emin = (1 - bias) if has_zero else -bias
    flush = has_zero and not subnormals
    keep_zero_sign = has_zero and signed and not nan_is_negzero
    is_rne = mode == RNE
    is_rna = mode == RNA
    is_ru = mode == RU
    is_rd = mode == RD
    is_ro = mode == RO
    is_sr = mode == SR
    sr_one = np.int64(1) << sr_k
    free_pos = not _to_max(mode, saturate, False)  # overflow of this sign needs the general path
    free_neg = not _to_max(mode, saturate, True)
    k = 0
    for b0 in range(c * chunk, min(n, (c + 1) * chunk), block_len):
        src = bits[b0:min(n, b0 + block_len)]  # slices keep index wrap-around checks out
        dst = out[b0:min(n, b0 + block_len)]
        sh = shifts[b0 // block_len]
        for j in range(src.shape[0]):
            b = np.int64(src[j])
            neg = (b >> sign_shift) & 1
            bm = b & mag_mask
            ef = bm >> src_m
            fl2 = ef - src_bias - sh
            m = (bm & src_fmask) | src_hidden
            te = max(fl2, emin)
            # < 0 when the target is wider (exact); capped at 62, which already discards all of
            # m (m < 2**53) and keeps 1 << shift positive
            shift = min(max(te - m_bits - fl2 + src_m, -24), 62)
            rsh = max(shift, 0)
            base = ((te + bias) << m_bits) - hidden
            nq = (m << max(-shift, 0)) >> rsh
            rem = m & ((np.int64(1) << rsh) - 1)
            half = (np.int64(1) << rsh) >> 1
            odd = ((nq + base) & 1) == 1
            gt = rem > half
            eq = rem == half
            up = (rem != 0) & ((is_rne & (gt | (eq & odd))) | (is_rna & (gt | eq))
                               | (is_ru & (neg == 0)) | (is_rd & (neg == 1)) | (is_ro & (not odd)))
            if is_sr:
                dk = (rem >> max(rsh - sr_k, 0)) << max(sr_k - rsh, 0)  # top sr_k discarded bits
                up = dk + random_bits(key, b0 + j, sr_k) >= sr_one
            q = nq + np.int64(up)
            if not has_zero:
                q = max(q, hidden)
            full = base + q
            mag = min(full, max_mag)
            if flush and mag < hidden:
                mag = 0
            zero = bm == 0
            mag = 0 if zero else mag  # zero: code 0 (E8M0: its smallest value, the nearest)
            if (zero and not keep_zero_sign) or (nan_is_negzero and mag == 0):
                neg = 0
            dst[j] = mag | ((neg & np.int64(signed)) << tgt_shift)
            k += np.int64(((ef == 0) & (not zero)) | (ef == src_emask) | ((neg == 1) & (not signed))
                          | ((full > max_mag) & (free_neg if neg == 1 else free_pos)))
    return k


@njit(cache=True, parallel=True)
def _encode_general(bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key,
                    invalid_code, shifts, block_len, chunks):
    """Encode with every case handled the chunks with chunks[c] > 0; returns the number of invalid
    inputs."""
    invalid = np.zeros(chunks.shape[0], np.int64)
    for c in prange(chunks.shape[0]):
        if chunks[c] != 0:
            invalid[c] = _encode_general_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k,
                                               key, invalid_code, shifts, block_len)
    return invalid.sum()


@njit(cache=True)
def _encode_general_serial(bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key,
                           invalid_code, shifts, block_len, chunks):
    """_encode_general on the calling thread (small inputs)."""
    invalid = np.zeros(chunks.shape[0], np.int64)
    for c in range(chunks.shape[0]):
        if chunks[c] != 0:
            invalid[c] = _encode_general_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k,
                                               key, invalid_code, shifts, block_len)
    return invalid.sum()


@njit(cache=True)
def _encode_general_chunk(c, bits, src_e, src_m, src_bias, out, fmt, mode, saturate, sr_k, key,
                          invalid_code, shifts, block_len):
    """Every element of chunk c through `_encode_one`; returns how many the target cannot represent."""
    e_bits, m_bits, bias, signed, has_zero, subnormals, max_mag, inf_mag, nan_mag, nan_is_negzero = fmt
    n = bits.shape[0]
    chunk = _chunk_len(block_len)
    invalid = 0
    for i in range(c * chunk, min(n, (c + 1) * chunk)):
        code = _encode_one(np.uint64(bits[i]), i, shifts[i // block_len], src_e, src_m, src_bias,
                           e_bits, m_bits, bias, signed, has_zero, subnormals, max_mag, inf_mag,
                           nan_mag, nan_is_negzero, mode, saturate, sr_k, key)
        if code < 0:
            out[i] = invalid_code
            invalid += 1
        else:
            out[i] = code
    return invalid


def decode_float(codes, out, e_bits, m_bits, bias, signed, has_zero, subnormals,
                 inf_mag, nan_mag, nan_is_negzero):
    """Decode codes (uint, 1-D) into float64 `out` exactly; codes must already be range-checked."""
    kernel = _decode_float_serial if codes.shape[0] <= SERIAL_MAX else _decode_float
    return kernel(codes, out, e_bits, m_bits, bias, signed, has_zero, subnormals, inf_mag, nan_mag,
                  nan_is_negzero)


@njit(cache=True, parallel=True)
def _decode_float(codes, out, e_bits, m_bits, bias, signed, has_zero, subnormals,
                  inf_mag, nan_mag, nan_is_negzero):
    """decode_float over worker threads."""
    for i in prange(codes.shape[0]):
        out[i] = _decode_one(np.int64(codes[i]), e_bits, m_bits, bias, signed, has_zero, subnormals,
                             inf_mag, nan_mag, nan_is_negzero)
    return out


@njit(cache=True)
def _decode_float_serial(codes, out, e_bits, m_bits, bias, signed, has_zero, subnormals,
                         inf_mag, nan_mag, nan_is_negzero):
    """decode_float on the calling thread (small inputs)."""
    for i in range(codes.shape[0]):
        out[i] = _decode_one(np.int64(codes[i]), e_bits, m_bits, bias, signed, has_zero, subnormals,
                             inf_mag, nan_mag, nan_is_negzero)
    return out


@njit(cache=True, inline="always")
def _decode_one(c, e_bits, m_bits, bias, signed, has_zero, subnormals, inf_mag, nan_mag, nan_is_negzero):
    """The exact value of one code."""
    tgt_sign = np.int64(1) << (e_bits + m_bits)
    mag_mask = tgt_sign - 1
    m_mask = (np.int64(1) << m_bits) - 1
    neg = signed and (c & tgt_sign) != 0
    mag = c & mag_mask
    if nan_is_negzero and neg and mag == 0:
        return math.copysign(np.nan, -1.0)
    if inf_mag >= 0 and mag == inf_mag:
        return -np.inf if neg else np.inf
    if nan_mag >= 0 and not nan_is_negzero:
        # IEEE: every pattern above inf is NaN; FN: only the all-ones pattern.
        if (inf_mag >= 0 and mag > inf_mag) or (inf_mag < 0 and mag == nan_mag):
            return math.copysign(np.nan, -1.0 if neg else 1.0)  # NaN keeps its sign (as ml_dtypes)
    ef = mag >> m_bits
    fr = mag & m_mask
    if has_zero and ef == 0:
        v = math.ldexp(float(fr), 1 - bias - m_bits) if subnormals else 0.0
    else:
        v = math.ldexp(float(fr | (np.int64(1) << m_bits)), ef - bias - m_bits)
    return -v if neg else v


def take_table(table, codes, out):
    """out[i] = table[codes[i]] for uint `codes` (1-D, already range-checked); a float32 table may fill a
    float64 `out` (widened on assignment)."""
    return (_take_table_serial if codes.shape[0] <= SERIAL_MAX else _take_table)(table, codes, out)


@njit(cache=True, parallel=True)
def _take_table(table, codes, out):
    """take_table over worker threads."""
    for c in prange((codes.shape[0] + CHUNK - 1) // CHUNK):
        _take_chunk(c, table, codes, out)
    return out


@njit(cache=True)
def _take_table_serial(table, codes, out):
    """take_table on the calling thread (small inputs)."""
    for c in range((codes.shape[0] + CHUNK - 1) // CHUNK):
        _take_chunk(c, table, codes, out)
    return out


@njit(cache=True)
def _take_chunk(c, table, codes, out):
    n = codes.shape[0]
    src = codes[c * CHUNK:min(n, (c + 1) * CHUNK)]  # slices: no index wrap-around checks
    dst = out[c * CHUNK:min(n, (c + 1) * CHUNK)]
    for j in range(src.shape[0]):
        dst[j] = table[src[j]]
