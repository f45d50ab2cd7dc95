"""E8 lattice codebooks (QuIP#, Tseng et al., ICML 2024, §4.2): E8P, 2^16 points of E8 + 1/4 at 2 bits per
weight in 8-dimensional groups, with exact nearest-point search; its residual 3- and 4-bit variants
(E8P plus a 1-bit E8 residual codebook, or plus a second E8P); and QuIP# = randomized Hadamard
incoherence + E8P (+ BlockLDLQ with a Hessian)."""

import itertools
from functools import cache

import numpy as np

from kernels import e8p_decode, e8p_nearest

from .base import (
    CompressedWeight,
    Stored,
    check_bits_choice,
    check_scale_format,
    matrix_scale,
    meta,
    part,
    register,
    rms,
    steps,
)
from .hadamard import RandomHadamard
from .obs import upper_inverse_cholesky

# The 29 vectors of squared norm 12 with five coordinates 3/2 and three 1/2 that QuIP# adds to the 227
# absolute values of D8 + 1/2 within squared norm 10 (QuIP# codebook `latticee8_padded12`), times 2.
_NORM12_X2 = """31113333 13113333 11313333 11133333 33313311 33313131 33311331 33313113 33311313 33311133
33133311 33133131 33131331 33133113 33131313 33131133 31333311 31333131 31331331 31333113 31331313
13331133 13333311 13333131 13331331 13333113 13331313 11331333 33113331"""


@cache
def e8p_grid() -> tuple[np.ndarray, np.ndarray]:
    """(absgrid (256, 8), parity (256,)): the absolute-value vectors and the parity of minus signs each
    needs so that the signed vector lies in D8 + 1/2 (even coordinate sum)."""
    # |p| over p in D8 + 1/2 (half-odd coordinates, even sum) within squared norm 10, coordinates up to 3.5:
    # flipping one sign changes the sum by an odd 2|p_i|, so every absolute-value vector has a signing with
    # an even sum, and enumerating the 4^8 absolute values is enough (not the 8^8 signed points)
    mags = np.array(list(itertools.product((0.5, 1.5, 2.5, 3.5), repeat=8)))
    d8abs = np.unique(mags[np.sum(mags * mags, axis=1) <= 10], axis=0)
    norm12 = np.array([[int(c) for c in row] for row in _NORM12_X2.split()]) / 2.0
    grid = np.concatenate([d8abs, norm12])
    assert grid.shape == (256, 8)
    parity = (np.rint(grid.sum(axis=1)).astype(np.int64)) % 2
    return grid, parity


@cache
def e81b_grid() -> np.ndarray:
    """QuIP#'s 1-bit E8 residual codebook: the 241 E8 points of squared norm <= 2 and 15 of squared norm 4
    (2 e_i, -2 e_i except -2 e_7): 256 points."""
    ints = np.array(list(itertools.product(range(-1, 2), repeat=8)), dtype=np.float64)
    ints = ints[(ints.sum(axis=1) % 2 == 0) & (np.sum(ints * ints, axis=1) <= 2)]
    halves = np.array(list(itertools.product([-0.5, 0.5], repeat=8)))
    halves = halves[np.rint(halves.sum(axis=1)) % 2 == 0]
    norm4 = np.concatenate([2 * np.eye(8), -2 * np.eye(8)[:7]])
    g = np.concatenate([ints, halves, norm4])
    assert g.shape == (256, 8)
    return g


def e8p_quantize(x: np.ndarray):
    """Nearest E8P points of the rows of x (n, 8): (codes (n,) uint16, points (n, 8))."""
    grid, par = e8p_grid()
    x = np.ascontiguousarray(x, dtype=np.float64)
    codes = np.empty(len(x), np.int64)
    out = np.empty_like(x)
    e8p_nearest(x, grid, par, codes, out)
    return codes.astype(np.uint16), out


def e8p_points(codes: np.ndarray) -> np.ndarray:
    """The E8P points (n, 8) of 16-bit codes (n,) (integers in 0..65535, checked)."""
    codes = np.asarray(codes)
    if codes.ndim != 1 or codes.dtype.kind not in "iu":
        raise ValueError(f"E8P codes must be a 1-D integer array, got {codes.dtype} with shape {codes.shape}")
    if codes.size and (codes.min() < 0 or codes.max() > 65535):
        raise ValueError(f"E8P codes must be in 0..65535, got {codes.min()}..{codes.max()}")
    grid, par = e8p_grid()
    out = np.empty((len(codes), 8))
    e8p_decode(codes.astype(np.int64), grid, par, out)
    return out


def _e81b_quantize(x: np.ndarray):
    g = e81b_grid()
    idx = np.empty(len(x), np.int64)
    for i in range(0, len(x), 65536):
        blk = x[i:i + 65536]
        idx[i:i + 65536] = np.argmax(2 * blk @ g.T - np.sum(g * g, axis=1), axis=1)
    return idx.astype(np.uint8), g[idx]


def _vq(x8: np.ndarray, bits: int, s: float, r: float):
    """Codes and reconstruction of 8-vectors x8 at scale s (x8 / s quantized) with residual scale r."""
    y = x8 / s
    c1, p1 = e8p_quantize(y)
    if bits == 2:
        return (c1,), p1 * s
    res = (y - p1) * r
    if bits == 3:
        c2, p2 = _e81b_quantize(res)
    else:
        c2, p2 = e8p_quantize(res)
    return (c1, c2), (p1 + p2 / r) * s


def _best_scales(x8: np.ndarray, bits: int, seed) -> tuple[float, float]:
    """Codebook scale (and residual scale) minimising the MSE on a sample of the 8-vectors: a golden-
    section search each (QuIP# fixes these per codebook for Gaussian inputs; here they are fitted to
    the matrix, and stored)."""
    rng = np.random.default_rng(seed)
    sample = x8[rng.choice(len(x8), min(len(x8), 4096), replace=False)]
    r0 = float(rms(sample)) or float(rms(x8))  # an all-zero sample of a matrix that is not all zero

    def golden(f, a, b, it=18):
        gr = (np.sqrt(5) - 1) / 2
        c, d = b - gr * (b - a), a + gr * (b - a)
        fc, fd = f(c), f(d)
        for _ in range(it):
            if fc < fd:
                b, d, fd = d, c, fc
                c = b - gr * (b - a)
                fc = f(c)
            else:
                a, c, fc = c, d, fd
                d = a + gr * (b - a)
                fd = f(d)
        return (a + b) / 2

    def err(s, r):
        return float(np.mean((_vq(sample, bits, s, r)[1] - sample) ** 2))

    s = golden(lambda s: err(s, 1.0 if bits == 2 else 2.0), 0.5 * r0, 1.6 * r0)
    if bits == 2:
        return _fp32_scale(s), 1.0
    r = _fp32_scale(golden(lambda r: err(s, r), 1.0, 6.0))
    s = golden(lambda s: err(s, r), 0.5 * r0, 1.6 * r0)
    return _fp32_scale(s), r


def _fp32_scale(s: float) -> float:
    """A codebook scale as stored (fp32; ValueError outside fp32's normal range: base.matrix_scale)."""
    return matrix_scale(s, "codebook scale")


def _check_e8_bits(bits) -> int:
    try:
        return check_bits_choice(bits, (2, 3, 4), "e8p and quip#", 2)
    except ValueError as e:
        raise ValueError(f"E8P codebooks come in 2, 3 and 4 bits per weight: {e}") from None


def _check_e8_shape(shape) -> None:
    if shape[1] % 8:
        raise ValueError(f"E8P quantizes groups of 8 input features: n = {shape[1]} (the columns of w, dimension 1) "
                         f"is not a multiple of 8 (nearest valid sizes {shape[1] // 8 * 8 or 8} and "
                         f"{shape[1] // 8 * 8 + 8}; pad the matrix)")


def _encode_e8(w, bits, hessian, seed, s=None, r=None):
    """E8P(+residual) of w (m, n), n a multiple of 8, with BlockLDLQ feedback when a Hessian is given."""
    m, n = w.shape
    _check_e8_shape(w.shape)
    if not w.any():  # no E8P point is zero: an all-zero matrix is stored with scale 0 (it decodes to 0)
        zero_codes, _ = _vq(np.zeros((1, 8)), bits, 1.0, 1.0)
        codes = [np.full((m, n // 8), c[0], c.dtype) for c in zero_codes]
        return codes, np.zeros_like(w), 0.0, (1.0 if bits == 2 else 2.0)
    r0 = float(rms(w))  # the smallest and largest scales the search tries must fit the stored fp32 scale
    _fp32_scale(0.5 * r0)
    _fp32_scale(1.6 * r0)
    if s is None:
        s, r = _best_scales(w.reshape(-1, 8), bits, seed)
    if hessian is None:
        codes, rec = _vq(w.reshape(-1, 8), bits, s, r)
        return [c.reshape(m, n // 8) for c in codes], rec.reshape(m, n), s, r
    # BlockLDLQ (QuIP# §4.1): quantize 8 columns at a time and feed the error forward through the
    # block-upper Cholesky factor of H^-1 (the vector form of LDLQ / GPTQ)
    h = hessian + 0.01 * np.mean(np.diag(hessian)) * np.eye(n)
    u = upper_inverse_cholesky(h)
    w = w.copy()
    rec = np.zeros_like(w)
    codes = [np.zeros((m, n // 8), np.uint16), np.zeros((m, n // 8), np.uint16 if bits == 4 else np.uint8)]
    for b in steps(range(0, n, 8), n // 8, "quip# column blocks"):
        cs, q = _vq(w[:, b:b + 8], bits, s, r)
        for i, c in enumerate(cs):
            codes[i][:, b // 8] = c
        rec[:, b:b + 8] = q
        e = np.linalg.solve(u[b:b + 8, b:b + 8].T, (w[:, b:b + 8] - q).T).T
        w[:, b + 8:] -= e @ u[b:b + 8, b + 8:]
    return codes[:1 if bits == 2 else 2], rec, s, r


def _e8_parts(codes, bits, s, r) -> dict:
    parts = {"codes": Stored(codes[0], 16), "scale": Stored(np.array([s]), 32)}
    if bits > 2:
        parts["residual_codes"] = Stored(codes[1], 8 if bits == 3 else 16)
        parts["residual_scale"] = Stored(np.array([r]), 32)
    return parts


def _e8_recon(cw) -> np.ndarray:
    m, n = cw.shape
    if tuple(meta(cw, "inner_shape")) != (m, n) or n % 8:
        raise ValueError(f"{cw.method} meta 'inner_shape' must equal the shape {(m, n)} (columns a multiple of 8)")
    bits = meta(cw, "bits", (2, 3, 4))
    s = float(part(cw, "scale", (1,), 0)[0])
    p = e8p_points(part(cw, "codes", (m, n // 8), 0, 65535, integer=True).reshape(-1))
    if bits > 2:
        rc = part(cw, "residual_codes", (m, n // 8), 0, 255 if bits == 3 else 65535, integer=True).reshape(-1)
        r = float(part(cw, "residual_scale", (1,))[0])
        if not r > 0:
            raise ValueError(f"{cw.method} part 'residual_scale' must be positive, got {r}")
        p = p + (e81b_grid()[rc.astype(np.int64)] if bits == 3 else e8p_points(rc)) / r
    return (p * s).reshape(m, n)


def e8p(w, bits=None, hessian=None, seed=0):
    """QuIP#'s E8P lattice codebook on w directly (no incoherence): 2 bits per weight in groups of 8 input
    features; bits=3 adds QuIP#'s 1-bit E8 residual codebook, bits=4 a second E8P (residual vector
    quantization). With a Hessian, BlockLDLQ. Scales stored in fp32."""
    bits = _check_e8_bits(bits)
    _check_e8_shape(w.shape)
    codes, _, s, r = _encode_e8(w, bits, hessian, seed)
    hw = {"stores": "one 16-bit E8P index per 8 weights" + {2: "", 3: " + an 8-bit E8 residual index",
                                                            4: " + a second 16-bit E8P index"}[bits],
          "decode": "256-entry absolute-value table + 7 sign bits (8th from parity) + shift of 1/4"}
    return CompressedWeight("e8p", w.shape, _e8_parts(codes, bits, s, r),
                            meta={"bits": bits, "inner_shape": w.shape}, hardware=hw)


register("e8p", e8p, _e8_recon)


def quip_sharp(w, bits=None, hessian=None, seed=0):
    """QuIP# (Tseng et al., ICML 2024): randomized Hadamard incoherence on both sides (random sign vectors
    stored, 1 bit each), then E8P (+ residual for 3 and 4 bits), BlockLDLQ when a Hessian is given (in
    the rotated space, H -> V H V^T); decode is E8P lookup then the inverse transform."""
    bits = _check_e8_bits(bits)
    _check_e8_shape(w.shape)
    rh = RandomHadamard(*w.shape, seed=seed)
    wt = rh.forward(w)
    ht = None if hessian is None else rh.hessian(hessian)
    codes, _, s, r = _encode_e8(wt, bits, ht, seed)
    parts = _e8_parts(codes, bits, s, r)
    parts["sign_u"] = Stored((rh.su > 0).astype(np.uint8), 1)
    parts["sign_v"] = Stored((rh.sv > 0).astype(np.uint8), 1)
    hw = {"stores": "E8P indices (16 bits per 8 weights) + residual indices + 1 sign bit per row and column",
          "decode": "E8P lookup, then y = U^T (W_hat (V x)): two fast Hadamard transforms per matmul "
                    "(O(n log n) adds) and sign flips"}
    return CompressedWeight("quip#", w.shape, parts, meta={"bits": bits, "inner_shape": w.shape}, hardware=hw)


def stored_hadamard(cw) -> RandomHadamard:
    """The randomized Hadamard transform of cw's stored sign vectors (checked: 0/1, one per row / column)."""
    m, n = cw.shape
    rh = RandomHadamard.__new__(RandomHadamard)
    rh.su = np.where(part(cw, "sign_u", (m,), 0, 1) > 0, 1.0, -1.0)
    rh.sv = np.where(part(cw, "sign_v", (n,), 0, 1) > 0, 1.0, -1.0)
    return rh


def _decode_quip(cw) -> np.ndarray:
    rh = stored_hadamard(cw)
    return rh.inverse(_e8_recon(cw))


register("quip#", quip_sharp, _decode_quip)


def hadamard_rtn(w, bits=None, hessian=None, seed=0, group=128, sym: bool = False, scale_format: str = "fp16"):
    """Randomized Hadamard incoherence (QuIP) followed by RTN on the min-max grid: the transform alone.
    `group`, `sym` and `scale_format` as for RTN. The Hessian is not used (RTN ignores it)."""
    from .scalar import _check_bits, _check_group, rtn
    _check_bits(bits)  # every option is checked before the transform runs
    _check_group(group, w.shape[1])
    check_scale_format(scale_format)
    rh = RandomHadamard(*w.shape, seed=seed)
    inner = rtn(rh.forward(w), bits=bits, group=group, sym=sym, scale_format=scale_format)
    parts = dict(inner.parts)
    parts["sign_u"] = Stored((rh.su > 0).astype(np.uint8), 1)
    parts["sign_v"] = Stored((rh.sv > 0).astype(np.uint8), 1)
    return CompressedWeight("hadamard", w.shape, parts, meta={**inner.meta, "inner": inner},
                            hardware={"stores": inner.hardware["stores"] + " + 1 sign bit per row and column",
                                      "decode": "integer dequantization, then two fast Hadamard transforms"})


def _decode_hadamard(cw) -> np.ndarray:
    rh = stored_hadamard(cw)
    inner = meta(cw, "inner")
    if not isinstance(inner, CompressedWeight) or inner.method != "rtn" or tuple(inner.shape) != tuple(cw.shape):
        raise ValueError(f"hadamard meta 'inner' must be the rtn CompressedWeight of the {tuple(cw.shape)} matrix")
    return rh.inverse(inner.decode())


register("hadamard", hadamard_rtn, _decode_hadamard)
