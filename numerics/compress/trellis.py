"""QTIP (Tseng, Sun, Hou, De Sa, "QTIP: Quantization with Trellises and Incoherence Processing", NeurIPS
2024): a bitshift trellis of L-bit states (k bits per weight, V weights per step), the compute-based codes
1MAD and 3INST (V = 1) and the hybrid lookup code HYB (V = 2, a 2^Q-entry table of 2-D points),
tail-biting Viterbi encoding (exactly k bits per weight), random-access decoding, randomized Hadamard
incoherence in front, BlockLDLQ with a Hessian."""

from functools import cache

import numpy as np

from kernels import viterbi

from .base import (
    CompressedWeight,
    Stored,
    check_bits_choice,
    check_bool,
    matrix_scale,
    meta,
    part,
    register,
    rms,
    steps,
)
from .hadamard import RandomHadamard
from .obs import upper_inverse_cholesky

CODES = ("1mad", "3inst", "hyb")


def code_1mad(s: np.ndarray) -> np.ndarray:
    """QTIP §4.1 1MAD: one multiply-add mod 2^32 (LCG constants a = 34038481, b = 76625530), then the sum
    of the four bytes, centred and scaled to unit variance ((byte sum - 510) / 147.8)."""
    x = (s.astype(np.uint64) * np.uint64(34038481) + np.uint64(76625530)) & np.uint64(0xFFFFFFFF)
    y = (x & 255) + ((x >> 8) & 255) + ((x >> 16) & 255) + ((x >> 24) & 255)
    return ((y.astype(np.float64) - 510.0) / 147.800537109375)[:, None]


def code_3inst(s: np.ndarray) -> np.ndarray:
    """QTIP §4.1 3INST: a multiply-add mod 2^32 (a = 89226354, b = 64248484), mask with 0x8FFF8FFF and
    XOR 996162400, read the two halves as fp16 numbers and add them (in fp16)."""
    x = (s.astype(np.uint64) * np.uint64(89226354) + np.uint64(64248484)) & np.uint64(0xFFFFFFFF)
    mask = np.uint64(((1 << 15) + (1 << 12) - 1) * 0x10001)
    res = ((x & mask) ^ np.uint64(996162400)).astype(np.uint32)
    top = (res >> 16).astype(np.uint16).view(np.float16)
    bottom = (res & 0xFFFF).astype(np.uint16).view(np.float16)
    return (top + bottom).astype(np.float64)[:, None]


def fit_hyb_table(q: int = 9, seed: int = 0) -> np.ndarray:
    """HYB's 2^Q-entry table of 2-D points: k-means of 2-D Gaussian samples (QTIP fits it the same way),
    scaled so that its coordinates have std 0.9682458365518543 as QTIP's; 30 Lloyd iterations, seeded. About
    6 CPU-seconds for q = 9; `hyb_table` serves the seed-0 tables from numerics/data/hyb_tables.npz."""
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((1 << 16, 2))
    cent = data[rng.choice(len(data), 1 << q, replace=False)].copy()
    dd = np.sum(data * data, 1)[:, None]
    lab = np.empty(len(data), np.int64)
    rows = 4096  # the same distances, a cache-sized block of rows at a time
    for _ in range(30):
        cc, ct = np.sum(cent * cent, 1)[None, :], cent.T.copy()
        for i in range(0, len(data), rows):
            d = dd[i:i + rows] - 2 * data[i:i + rows] @ ct + cc
            lab[i:i + rows] = np.argmin(d, axis=1)
        sums = np.zeros_like(cent)
        np.add.at(sums, lab, data)
        cnt = np.bincount(lab, minlength=len(cent))[:, None]
        cent = np.where(cnt > 0, sums / np.maximum(cnt, 1), cent)
    return cent / cent.std() * 0.9682458365518543


HYB_TABLES = "hyb_tables.npz"  # numerics/data: fit_hyb_table(q, 0) for q = 1..10, written by write_hyb_tables


def write_hyb_tables(path=None) -> None:
    """Fit the seed-0 tables for q = 1..10 and write them (default: numerics/data/hyb_tables.npz)."""
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "data" / HYB_TABLES if path is None else path
    np.savez_compressed(path, **{f"q{q}": fit_hyb_table(q, 0) for q in range(1, 11)})


@cache
def hyb_table(q: int = 9, seed: int = 0) -> np.ndarray:
    """HYB's table (fit_hyb_table): seed 0 read from the vendored fit, so that every process and machine
    uses the same bits (a BLAS that rounds the distances differently could move a Lloyd label); any other
    seed fitted here."""
    if seed == 0 and 1 <= q <= 10:
        from importlib import resources
        with (resources.files("numerics") / "data" / HYB_TABLES).open("rb") as fh, np.load(fh) as z:
            return z[f"q{q}"]
    return fit_hyb_table(q, seed)


def code_hyb(s: np.ndarray, q: int = 9) -> np.ndarray:
    """QTIP §4.2 HYB: hash the state as (s + 1) s, take Q bits below bit 15 as a table index and bit 15 as
    the sign of the first coordinate."""
    t = (s.astype(np.uint64) + np.uint64(1)) * s.astype(np.uint64)
    flip = 1.0 - 2.0 * ((t >> np.uint64(15)) & np.uint64(1)).astype(np.float64)
    idx = ((t >> np.uint64(16 - q - 1)) & np.uint64((1 << q) - 1)).astype(np.int64)
    v = hyb_table(q)[idx].copy()
    v[:, 0] *= flip
    return v


@cache
def state_values(code: str, L: int, q: int = 9) -> np.ndarray:
    """(2^L, V) values of every state (float32, as the Viterbi kernel takes them)."""
    s = np.arange(1 << L, dtype=np.int64)
    v = {"1mad": code_1mad, "3inst": code_3inst}.get(code)
    vals = v(s) if v is not None else code_hyb(s, q)
    return np.ascontiguousarray(vals, dtype=np.float32)


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def check_trellis(L: int, k: int, V: int, code: str, q: int = 9) -> None:
    """The trellis configuration: code in CODES, V its vector length, k in 1..4 bits per weight with
    k V <= 8 (uint8 back pointers), k V < L <= 20, and for HYB a table of 2^q entries, q in 1..10 (its
    k-means fit holds a 65536 x 2^q distance matrix)."""
    if not isinstance(code, str) or code not in CODES:
        raise ValueError(f"code must be one of {CODES}, got {code!r}")
    if not _is_int(V) or V != (2 if code == "hyb" else 1):
        raise ValueError(f"code {code!r} has V = {2 if code == 'hyb' else 1}, got V = {V!r}")
    if not _is_int(k) or not 1 <= k <= 4:
        raise ValueError(f"k (bits per weight) must be one of [1, 2, 3, 4], got {k!r}")
    if k * V > 8:
        raise ValueError(f"k V must be at most 8, got k = {k}, V = {V}")
    if not _is_int(L) or not k * V < L <= 20:
        raise ValueError(f"L must be an int with k V = {k * V} < L <= 20, got {L!r}")
    if not _is_int(q) or not 1 <= q <= 10:
        raise ValueError(f"q (HYB table of 2^q entries) must be an int in 1..10, got {q!r}")


def encode_sequences(x: np.ndarray, code: str = "1mad", L: int = 16, k: int = 2, q: int = 9,
                     tail_biting: bool = True) -> np.ndarray:
    """State paths (B, T/V) of sequences x (B, T) by Viterbi; tail-biting as QTIP does it: encode the
    sequence rotated by half its length, take the state at the junction, and encode again with the
    first state's high L - kV bits and the last state's low L - kV bits both fixed to it."""
    V = 2 if code == "hyb" else 1
    check_trellis(L, k, V, code, q)
    x = np.asarray(x)
    if x.ndim != 2 or x.dtype.kind != "f" or not np.isfinite(x).all():
        raise ValueError(f"x must be a finite 2-D float array of sequences, got {x.dtype} {x.shape}")
    vals = state_values(code, int(L), int(q))
    x = np.ascontiguousarray(x, dtype=np.float32)
    B, T = x.shape
    if T % V or T // V < 2:
        raise ValueError(f"sequence length {T} must be a multiple of V = {V} with at least 2 steps")
    free = np.full(B, -1, np.int64)
    kv = k * V
    if tail_biting and (T // V) * kv < L:
        raise ValueError(f"a tail-biting stream of {T // V} steps x {kv} bits is shorter than the state (L = {L})")
    if not tail_biting:
        return viterbi(x, vals, L, kv, free, free)
    half = (T // (2 * V)) * V
    rolled = np.ascontiguousarray(np.roll(x, half, axis=1))
    p = viterbi(rolled, vals, L, kv, free, free)
    overlap = p[:, half // V] >> kv
    return viterbi(x, vals, L, kv, overlap, overlap)


def pack_paths(paths: np.ndarray, L: int, kv: int) -> np.ndarray:
    """The tail-biting bit streams (B, T kv) (most significant bit first) of state paths."""
    B, T = paths.shape
    bits = np.zeros((B, L + (T - 1) * kv), np.uint8)
    for j in range(L):
        bits[:, j] = (paths[:, 0] >> (L - 1 - j)) & 1
    for t in range(1, T):
        for j in range(kv):
            bits[:, L + (t - 1) * kv + j] = (paths[:, t] >> (kv - 1 - j)) & 1
    return bits[:, :T * kv]


def unpack_states(bits: np.ndarray, L: int, kv: int, steps=None) -> np.ndarray:
    """Random-access decode: the state of step t is the L-bit window starting at bit t kv of the circular
    stream. `steps`: which steps (default all)."""
    B, nb = bits.shape
    T = nb // kv
    t = np.arange(T) if steps is None else np.asarray(steps)
    if t.dtype.kind not in "iu" or t.ndim != 1 or (t.size and (t.min() < 0 or t.max() >= T)):
        raise ValueError(f"steps must be in 0..{T - 1} (a 1-D integer array), got {steps!r}")
    circ = np.concatenate([bits, bits[:, :L]], axis=1).astype(np.int64)
    idx = t[:, None] * kv + np.arange(L)[None, :]
    w = circ[:, idx]                                    # (B, len(t), L)
    return np.sum(w << np.arange(L - 1, -1, -1), axis=2)


def _check_tiles(shape, tile, L, kv, V) -> None:
    if not _is_int(tile) or tile < 1 or (tile * tile) % V or tile * tile // V < 2 or tile * tile // V * kv < L:
        raise ValueError(f"tile must be an int whose tile^2 / V = {V} trellis steps of kV = {kv} bits hold at least "
                         f"2 steps and L = {L} bits (tail-biting), got {tile!r}")
    for d, what in ((0, "m (the rows of w, dimension 0)"), (1, "n (the columns of w, dimension 1)")):
        if shape[d] % tile:
            raise ValueError(f"QTIP tiles of {tile} x {tile} need both dimensions divisible by {tile}: {what} = "
                             f"{shape[d]} is not (nearest valid sizes {shape[d] // tile * tile or tile} and "
                             f"{shape[d] // tile * tile + tile}); got shape {shape}")


def qtip(w, bits=None, hessian=None, seed=0, code: str = "1mad", L: int = 16, V: int | None = None, q: int = 9,
         tile: int = 16, incoherence: bool = True):
    """QTIP at `bits` = k bits per weight: incoherence (randomized Hadamard), unit-RMS scaling (scale
    stored in fp32), the matrix cut into tile x tile blocks each encoded as one tail-biting trellis
    sequence, BlockLDLQ over column blocks of `tile` when a Hessian is given."""
    k = check_bits_choice(bits, (1, 2, 3, 4), "qtip", 2)
    if not isinstance(code, str) or code not in CODES:
        raise ValueError(f"code must be one of {CODES}, got {code!r}")
    V = (2 if code == "hyb" else 1) if V is None else V
    check_trellis(L, k, V, code, q)
    L, V, q = int(L), int(V), int(q)
    incoherence = check_bool(incoherence, "incoherence")
    m, n = w.shape
    _check_tiles(w.shape, tile, L, k * V, V)
    tile = int(tile)
    rh = RandomHadamard(m, n, seed=seed) if incoherence else None
    wt = rh.forward(w) if rh is not None else w.copy()
    ht = None if hessian is None else (rh.hessian(hessian) if rh is not None else hessian)
    r = float(rms(wt))
    # an all-zero matrix is stored with scale 0 (no trellis value is zero, so it decodes to zero only so)
    scale = matrix_scale(r, "trellis scale")
    x = wt / scale if r > 0 else np.zeros_like(wt)
    vals = state_values(code, L, q)
    kv = k * V

    def tiles_of(block):  # (m, tile) column block -> (m / tile, tile * tile) sequences, row-major tiles
        return block.reshape(m // tile, tile, tile).reshape(m // tile, tile * tile)

    def block_of(seqs):
        return seqs.reshape(m // tile, tile, tile).reshape(m, tile)

    all_bits = np.zeros((m // tile, n // tile, tile * tile // V * kv), np.uint8)
    rec = np.zeros_like(x)
    if ht is not None:
        h = ht + 0.01 * np.mean(np.diag(ht)) * np.eye(n)
        u = upper_inverse_cholesky(h)
    for jb in steps(range(0, n, tile), n // tile, "qtip column blocks"):
        paths = encode_sequences(tiles_of(x[:, jb:jb + tile]), code, L, k, q)
        all_bits[:, jb // tile] = pack_paths(paths, L, kv)
        qb = block_of(vals[paths].reshape(len(paths), -1).astype(np.float64))
        rec[:, jb:jb + tile] = qb
        if ht is not None and jb + tile < n:
            e = np.linalg.solve(u[jb:jb + tile, jb:jb + tile].T, (x[:, jb:jb + tile] - qb).T).T
            x[:, jb + tile:] -= e @ u[jb:jb + tile, jb + tile:]
    parts = {"trellis_bits": Stored(all_bits, 1), "scale": Stored(np.array([scale]), 32)}
    if rh is not None:
        parts["sign_u"] = Stored((rh.su > 0).astype(np.uint8), 1)
        parts["sign_v"] = Stored((rh.sv > 0).astype(np.uint8), 1)
    hw = {"stores": f"a tail-biting bit stream of exactly {k} bits per weight per {tile}x{tile} tile",
          "decode": {"1mad": "per weight: one 32-bit multiply-add and a 4-byte sum",
                     "3inst": "per weight: a multiply-add, AND, XOR and one fp16 add",
                     "hyb": f"per 2 weights: a multiply-add hash, a {1 << q}-entry 2-D table lookup, a sign flip"}[code]
          + "; any weight decodes from its own L-bit window (random access)"}
    meta = {"code": code, "L": L, "k": k, "V": V, "q": q, "tile": tile}
    return CompressedWeight("qtip", (m, n), parts, meta=meta, hardware=hw)


def _decode_qtip(cw) -> np.ndarray:
    m, n = cw.shape
    code, L, k, V, q, tile = (meta(cw, key) for key in ("code", "L", "k", "V", "q", "tile"))
    check_trellis(L, k, V, code, q)
    kv = k * V
    _check_tiles((m, n), tile, L, kv, V)
    vals = state_values(code, L, q).astype(np.float64)
    bits = part(cw, "trellis_bits", (m // tile, n // tile, tile * tile // V * kv), 0, 1, integer=True)
    out = np.zeros((m, n))
    for jb in range(n // tile):
        states = unpack_states(bits[:, jb], L, kv)
        seq = vals[states].reshape(m // tile, -1)
        out[:, jb * tile:(jb + 1) * tile] = seq.reshape(m // tile, tile, tile).reshape(m, tile)
    out *= float(part(cw, "scale", (1,), 0)[0])
    if "sign_u" in cw.parts or "sign_v" in cw.parts:
        from .lattice import stored_hadamard
        out = stored_hadamard(cw).inverse(out)
    return out


register("qtip", qtip, _decode_qtip)
