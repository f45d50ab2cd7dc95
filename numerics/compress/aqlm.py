"""AQLM (Egiazarian et al., "Extreme Compression of Large Language Models via Additive Quantization",
ICML 2024): each group of g consecutive weights of a row is the sum of M codewords, one from each of M
codebooks of 2^B vectors; codes found by beam search, codebooks refitted by least squares, alternating;
a per-row scale. Bits per weight by the paper's accounting: M B / g for the codes, plus the codebooks
(M 2^B g fp16 values) and the row scales (fp16) spread over the matrix."""

import numpy as np

from .base import (
    CompressedWeight,
    Stored,
    check_int,
    check_scale_format,
    meta,
    part,
    register,
    rms,
    scale_bits,
    steps,
    store_scales,
    to_format,
)

_MAX_ENTRIES = 4096  # M 2^B: the least-squares codebook refit solves a dense (M 2^B)^2 system


def _kmeans(x, k, rng, iters=15):
    c = x[rng.choice(len(x), k, replace=len(x) < k)].copy()
    for _ in range(iters):
        lab = _nearest(x, c)
        for j in range(k):
            sel = lab == j
            if sel.any():
                c[j] = x[sel].mean(0)
    return c


def _nearest(x, c):
    out = np.empty(len(x), np.int64)
    cn = np.sum(c * c, axis=1)
    for i in range(0, len(x), 8192):
        out[i:i + 8192] = np.argmin(cn[None, :] - 2 * x[i:i + 8192] @ c.T, axis=1)
    return out


def _beam_search(x, books, codes, beam):
    """Refine the codes of every group: for each codebook in turn, every beam member tries all 2^B
    entries of that codebook with the others fixed; the `beam` best codes survive (AQLM §3.2)."""
    n, M = codes.shape
    K = books.shape[1]
    beams = codes[:, None, :].copy()                      # (n, beam, M)
    for m in range(M):
        others = np.zeros((n, beams.shape[1], x.shape[1]))
        for mm in range(M):
            if mm != m:
                others += books[mm][beams[:, :, mm]]
        resid = x[:, None, :] - others                    # (n, b, g)
        # error of each (beam member, candidate entry)
        err = (np.sum(resid * resid, axis=2)[:, :, None] - 2 * resid @ books[m].T
               + np.sum(books[m] * books[m], axis=1)[None, None, :])        # (n, b, K)
        flat = err.reshape(n, -1)
        keep = min(beam, flat.shape[1])
        idx = np.argpartition(flat, keep - 1, axis=1)[:, :keep]
        order = np.take_along_axis(flat, idx, 1).argsort(axis=1)
        idx = np.take_along_axis(idx, order, 1)
        member, entry = idx // K, idx % K
        beams = np.take_along_axis(beams, member[:, :, None].repeat(M, 2), 1)
        beams[:, :, m] = entry
    return beams[:, 0, :]


def _refit(x, codes, books):
    """Least-squares codebooks for fixed codes: x_i = sum_m C_m[codes_im] is linear in the entries."""
    n, M = codes.shape
    K, g = books.shape[1], books.shape[2]
    idx = codes + np.arange(M)[None, :] * K                # columns of the (n, M K) indicator matrix
    A = np.zeros((M * K, M * K))
    np.add.at(A, (idx[:, :, None], idx[:, None, :]), 1.0)
    rhs = np.zeros((M * K, g))
    for m in range(M):
        np.add.at(rhs, idx[:, m], x)
    A += 1e-6 * np.eye(M * K)
    return np.linalg.solve(A, rhs).reshape(M, K, g)


def aqlm(w, bits=None, hessian=None, seed=0, M: int | None = None, B: int = 8, g: int = 8, beam: int = 8,
         iters: int = 4, scale_format: str = "fp16"):
    """AQLM with M codebooks of 2^B entries over groups of g weights (bits = M B / g; default M = bits g / B,
    i.e. 2 x 8-bit codebooks on 8 weights at 2 bits). Initialised by residual k-means, then `iters` rounds
    of beam search and least-squares codebook updates. Without a Hessian the objective is MSE (AQLM weighs
    it by X^T X; with a Hessian its diagonal weighs the columns here). Row scales in `scale_format`
    (fp16, bf16, fp32); codebooks fp16. M 2^B is at most 4096 (the refit is a dense linear solve)."""
    B = check_int(B, "B", 1, 16, "aqlm")
    g = check_int(g, "g", 1, None, "aqlm")
    beam = check_int(beam, "beam", 1, None, "aqlm")
    iters = check_int(iters, "iters", 0, None, "aqlm")
    scale_format = check_scale_format(scale_format)
    if M is None:
        b = 2 if bits is None else bits
        if isinstance(b, bool) or not isinstance(b, int | np.integer) or b < 1 or (b * g) % B:
            raise ValueError(f"bits must be a positive int with bits g / B = bits * {g} / {B} a whole number of "
                             f"codebooks for aqlm (e.g. {sorted({B // np.gcd(B, g) * i for i in (1, 2, 3)})}), "
                             f"got {bits!r}")
        M = int(b) * g // B
    else:
        M = check_int(M, "M", 1, None, "aqlm")
        if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int | np.integer | float)
                                 or bits * g != M * B):
            raise ValueError(f"bits = {bits!r} contradicts M = {M} codebooks of B = {B} bits over g = {g} weights "
                             f"(bits = M B / g = {M * B / g:g}); pass one of them")
    if M * 2**B > _MAX_ENTRIES:
        raise ValueError(f"aqlm needs M 2^B <= {_MAX_ENTRIES} (the codebook refit is a dense (M 2^B)^2 solve), got "
                         f"M = {M}, B = {B}")
    m, n = w.shape
    if n % g:
        raise ValueError(f"AQLM groups of g = {g} need n = {n} (the columns of w, dimension 1) divisible by g "
                         f"(nearest valid sizes {n // g * g or g} and {n // g * g + g})")
    rng = np.random.default_rng(seed)
    raw = rms(w, axis=1)
    # zero rows store scale 0 (they decode to exact zeros); others are divided by their stored scale
    scale = np.where(raw > 0, store_scales(raw, scale_format, what="row scales"), 0.0)
    wn = w / np.where(scale > 0, scale, 1.0)[:, None]
    if hessian is not None:  # a diagonal column weighting (AQLM's calibration objective, diagonal part)
        d = store_scales(np.sqrt(np.maximum(np.diag(hessian), 1e-12) / np.mean(np.diag(hessian))), "fp16",
                         what="column weights")
        wn = wn * d
    else:
        d = np.ones(n)
    x = wn.reshape(-1, g)
    K = 2**B
    books = np.zeros((M, K, g))
    codes = np.zeros((len(x), M), np.int64)
    resid = x.copy()
    for mm in range(M):  # residual k-means initialisation
        books[mm] = _kmeans(resid[rng.choice(len(resid), min(len(resid), 64 * K), replace=False)], K, rng)
        codes[:, mm] = _nearest(resid, books[mm])
        resid -= books[mm][codes[:, mm]]
    for _ in steps(range(iters), iters, "aqlm iterations"):
        codes = _beam_search(x, books, codes, beam)
        books = _refit(x, codes, books)
    with np.errstate(over="ignore"):
        books = to_format(books, "fp16")
    if not np.isfinite(books).all():
        raise ValueError("aqlm's least-squares codebooks overflow fp16 (entries past 65504): scale w's columns "
                         "more evenly or use fewer codebooks")
    codes = _beam_search(x, books, codes, beam)
    parts = {"codes": Stored(codes.reshape(m, n // g, M).astype(np.uint16), B),
             "codebooks": Stored(books, 16), "scales": Stored(scale, scale_bits(scale_format))}
    if hessian is not None:
        parts["column_weights"] = Stored(d, 16)
    hw = {"stores": f"{M} x {B}-bit codes per {g} weights, {M} codebooks of {K} x {g} fp16, an {scale_format} scale "
                    "per row",
          "decode": f"per {g} weights: {M} codebook lookups and {M - 1} vector adds, times the row scale"}
    return CompressedWeight("aqlm", (m, n), parts, meta={"M": M, "B": B, "g": g}, hardware=hw)


def _decode_aqlm(cw) -> np.ndarray:
    m, n = cw.shape
    M, B, g = (meta(cw, key) for key in ("M", "B", "g"))
    M, B, g = check_int(M, "meta M", 1), check_int(B, "meta B", 1, 16), check_int(g, "meta g", 1)
    if n % g:
        raise ValueError(f"aqlm meta g = {g} does not divide n = {n}")
    codes = part(cw, "codes", (m, n // g, M), 0, 2**B - 1, integer=True).reshape(-1, M).astype(np.int64)
    books = part(cw, "codebooks", (M, 2**B, g)).astype(np.float64)
    x = sum(books[mm][codes[:, mm]] for mm in range(M)).reshape(m, n)
    if "column_weights" in cw.parts:
        cwt = part(cw, "column_weights", (n,))
        if not (cwt > 0).all():
            raise ValueError("aqlm part 'column_weights' must be positive (decode divides by them)")
        x = x / cwt
    return x * part(cw, "scales", (m,), 0)[:, None]


register("aqlm", aqlm, _decode_aqlm)
