"""Binarization: BiLLM (Huang et al., "BiLLM: Pushing the Limit of Post-Training Quantization for LLMs",
ICML 2024) and PB-LLM (Shang et al., "PB-LLM: Partially Binarized Large Language Models", ICLR 2024),
both with the column-sequential Hessian error compensation their papers use (GPTQ's update)."""

import numpy as np

from .base import (
    CompressedWeight,
    Stored,
    check_bits_choice,
    check_float,
    check_int,
    check_scale_format,
    meta,
    part,
    register,
    scale_bits,
    store_scales,
)
from .obs import inverse_cholesky, obs_sequential


def _salience(w, u):
    """Hessian-based salience w^2 / [H^-1]_jj^2 (OBS), with [H^-1]_jj = sum_k U_kj^2 (H^-1 = U^T U)."""
    hinv_diag = np.sum(u * u, axis=0)
    with np.errstate(over="ignore"):  # inf salience for |w| past 1e154: ranked only; the alphas are checked
        return w * w / hinv_diag[None, :] ** 2


def _alpha(x, mask, fmt="fp16"):
    """Per-row mean |x| over mask (the l2-optimal binarization scale), stored in fmt (fp16 by default;
    past its largest value: ValueError; below its smallest: rounded, possibly to zero)."""
    cnt = np.maximum(mask.sum(axis=1), 1)
    with np.errstate(over="ignore", invalid="ignore"):
        mean_abs = np.sum(np.abs(x) * mask, axis=1) / cnt
    return store_scales(mean_abs, fmt, what="binarization scales (alphas)", floor=False)


def billm(w, bits=None, hessian=None, seed=0, block: int = 128, salient_fracs=(0.0, 0.01, 0.02, 0.05, 0.1),
          breakpoints: int = 40, scale_format: str = "fp16"):
    """BiLLM: per block of `block` columns, the salient columns (by summed Hessian salience; how many is
    searched over `salient_fracs` to minimise the block's binarization error) get residual binarization
    (alpha1 sign(w) + alpha2 sign(residual)); the other weights are split at a searched break point p
    into |w| <= p and |w| > p, each binarized with its own per-row alpha; columns are fixed in order with
    GPTQ's error compensation. Stored: 1 sign bit per weight, a second for salient columns, a 1-bit group
    map for the others, a salient-column mask, four fp16 alphas per row and block (BiLLM's 1.08 bits
    count the signs only). `bits`: None or 1 (the sign bit; the rate follows from the rest). Alphas in
    `scale_format` (fp16, bf16, fp32)."""
    check_bits_choice(bits, (None, 1), "billm (a 1-bit method)", None)
    block = check_int(block, "block", 1, None, "billm")
    breakpoints = check_int(breakpoints, "breakpoints", 1, None, "billm")
    if isinstance(salient_fracs, str) or not hasattr(salient_fracs, "__iter__"):
        raise ValueError(f"salient_fracs must be a sequence of fractions in [0, 1), got {salient_fracs!r}")
    salient_fracs = tuple(check_float(f, "every salient_fracs entry", 0.0, 1.0, hi_open=True) for f in salient_fracs)
    if not salient_fracs:
        raise ValueError("salient_fracs must hold at least one fraction in [0, 1)")
    fmt = check_scale_format(scale_format)
    m, n = w.shape
    u = inverse_cholesky(hessian, n)
    wb = w.copy()
    plan = {}

    def block_plan(b0, wblk, ub):
        sal = _salience(wblk, ub).sum(axis=0)
        order = np.argsort(-sal, kind="stable")
        best = None
        for frac in salient_fracs:
            k = int(round(frac * wblk.shape[1]))
            smask = np.zeros(wblk.shape[1], bool)
            smask[order[:k]] = True
            rec, params = _binarize_block(wblk, smask, breakpoints, fmt)
            with np.errstate(over="ignore"):
                err = np.sum((rec - wblk) ** 2)
            if best is None or err < best[0]:
                best = (err, smask, params)
        return best[1], best[2]

    signs = np.zeros((m, n), np.uint8)
    signs2 = np.zeros((m, n), np.uint8)
    groupmap = np.zeros((m, n), np.uint8)
    salient_cols = np.zeros(n, np.uint8)
    alphas = []

    def fix(j, col, pending):
        b0 = (j // block) * block
        if j == b0:
            width = min(block, n - j)
            smask, params = block_plan(b0, pending(width), u[j:j + width, j:j + width])
            plan["smask"], plan["params"] = smask, params
            salient_cols[j:j + width] = smask
            alphas.append(np.stack([params["a1"], params["a2"], params["ac"], params["as"]], 1))
        i = j - b0
        p = plan["params"]
        s1 = np.where(col >= 0, 1.0, -1.0)
        signs[:, j] = col >= 0
        if plan["smask"][i]:
            r = col - p["a1"] * s1
            s2 = np.where(r >= 0, 1.0, -1.0)
            signs2[:, j] = r >= 0
            return p["a1"] * s1 + p["a2"] * s2
        big = np.abs(col) > p["p"]
        groupmap[:, j] = big
        return np.where(big, p["as"], p["ac"]) * s1

    obs_sequential(wb, u, fix, block)
    parts = {"signs": Stored(signs, 1), "salient_signs": Stored(signs2[:, salient_cols.astype(bool)], 1),
             "group_map": Stored(groupmap[:, ~salient_cols.astype(bool)], 1),
             "salient_columns": Stored(salient_cols, 1), "alphas": Stored(np.stack(alphas, 1), scale_bits(fmt))}
    hw = {"stores": f"sign bits, a second sign for salient columns, a group bit for the rest, {fmt} alphas",
          "decode": "w = alpha[group] * sign (+ alpha2 * sign2 in salient columns): selects and adds only"}
    return CompressedWeight("billm", (m, n), parts, meta={"block": block}, hardware=hw)


def _binarize_block(x, smask, breakpoints, fmt="fp16"):
    """Binarize a block: residual binarization on salient columns, break-point split elsewhere."""
    s = np.where(x >= 0, 1.0, -1.0)
    sal = np.broadcast_to(smask[None, :], x.shape)
    a1 = _alpha(x, sal, fmt)
    r = x - a1[:, None] * s
    a2 = _alpha(r, sal, fmt)
    rec = np.where(sal, a1[:, None] * s + a2[:, None] * np.where(r >= 0, 1.0, -1.0), 0.0)
    non = ~sal
    ax = np.abs(x[non]) if non.any() else np.zeros(1)
    best = None
    for p in np.quantile(ax, np.linspace(0.05, 0.95, breakpoints)) if non.any() else [0.0]:
        big = (np.abs(x) > p) & non
        small = (np.abs(x) <= p) & non
        ab, asml = _alpha(x, big, fmt), _alpha(x, small, fmt)
        cand = np.where(big, ab[:, None] * s, np.where(small, asml[:, None] * s, 0.0))
        with np.errstate(over="ignore"):  # inf for |w| past 1e154: compared, never stored
            err = np.sum((cand - x * non) ** 2)
        if best is None or err < best[0]:
            best = (err, p, ab, asml, cand)
    _, p, ab, asml, cand = best
    rec = rec + cand
    return rec, {"a1": a1, "a2": a2, "ac": asml, "as": ab, "p": p}


def _decode_billm(cw) -> np.ndarray:
    m, n = cw.shape
    block = check_int(meta(cw, "block"), "billm meta block", 1)
    s = np.where(part(cw, "signs", (m, n), 0, 1) > 0, 1.0, -1.0)
    sal = part(cw, "salient_columns", (n,), 0, 1).astype(bool)
    nsal = int(sal.sum())
    s2 = np.ones((m, n))
    s2[:, sal] = np.where(part(cw, "salient_signs", (m, nsal), 0, 1) > 0, 1.0, -1.0)
    gm = np.zeros((m, n), bool)
    gm[:, ~sal] = part(cw, "group_map", (m, n - nsal), 0, 1).astype(bool)
    al = part(cw, "alphas", (m, -(-n // block), 4), 0)  # (m, blocks, 4): a1, a2, ac, as
    out = np.zeros((m, n))
    for b, b0 in enumerate(range(0, n, block)):
        cols = slice(b0, min(b0 + block, n))
        a1, a2, ac, a_s = (al[:, b, i][:, None] for i in range(4))
        sb, s2b, gb, salb = s[:, cols], s2[:, cols], gm[:, cols], sal[cols][None, :]
        out[:, cols] = np.where(salb, a1 * sb + a2 * s2b, np.where(gb, a_s, ac) * sb)
    return out


register("billm", billm, _decode_billm)


def pbllm(w, bits=None, hessian=None, seed=0, salient_frac: float = 0.1, salient_bits: int = 8, block: int = 128,
          scale_format: str = "fp16"):
    """PB-LLM: the `salient_frac` most salient weights (Hessian salience w^2 / [H^-1]_jj^2; magnitude
    without a Hessian) of each row stay at `salient_bits` (symmetric per-row integer grid), the rest are
    binarized with a per-row alpha = mean |w|; columns are fixed in order with GPTQ's error compensation
    (PB-GPTQ). Stored: a 1-bit salient map, signs of the binarized weights, the salient integers, fp16
    alpha and integer scale per row (in `scale_format`: fp16, bf16, fp32). `bits`: None or 1 (the
    binarized weights' width; salient_bits sets the rest)."""
    check_bits_choice(bits, (None, 1), "pbllm (binarized weights)", None)
    salient_frac = check_float(salient_frac, "salient_frac", 0.0, 1.0, hi_open=True)
    salient_bits = check_int(salient_bits, "salient_bits", 2, 16, "pbllm")
    block = check_int(block, "block", 1, None, "pbllm")
    fmt = check_scale_format(scale_format)
    m, n = w.shape
    u = inverse_cholesky(hessian, n)
    score = _salience(w, u)
    k = int(round(salient_frac * n))
    mask = np.zeros((m, n), bool)
    if k:
        idx = np.argpartition(-score, k - 1, axis=1)[:, :k]
        np.put_along_axis(mask, idx, True, axis=1)
    alpha = _alpha(w, ~mask, fmt)
    qmax = 2 ** (salient_bits - 1) - 1
    raw = np.max(np.abs(w) * mask, axis=1) / qmax
    ssc = np.where(raw > 0, store_scales(raw, fmt, what="salient scales"), 1.0)
    ints = np.zeros((m, n))

    def fix(j, col, pending):
        q = np.clip(np.rint(col / ssc), -qmax, qmax)
        ints[:, j] = q
        return np.where(mask[:, j], q * ssc, alpha * np.where(col >= 0, 1.0, -1.0))

    rec = obs_sequential(w, u, fix, block)
    signs = (rec >= 0) & ~mask
    parts = {"salient_map": Stored(mask.astype(np.uint8), 1), "signs": Stored(signs[~mask].astype(np.uint8), 1),
             "salient_values": Stored(ints[mask].astype(np.int16), salient_bits),
             "alpha": Stored(alpha, scale_bits(fmt)), "salient_scale": Stored(ssc, scale_bits(fmt))}
    hw = {"stores": f"a 1-bit salient map, 1-bit signs, {salient_bits}-bit salient integers, two {fmt} scales per row",
          "decode": "select: alpha * sign, or the salient integer times its scale"}
    return CompressedWeight("pbllm", (m, n), parts, meta={"salient_bits": salient_bits}, hardware=hw)


def _decode_pbllm(cw) -> np.ndarray:
    m, n = cw.shape
    qmax = 2 ** (check_int(cw.meta.get("salient_bits", 16), "pbllm meta salient_bits", 2, 16) - 1) - 1
    mask = part(cw, "salient_map", (m, n), 0, 1).astype(bool)
    k = int(mask.sum())
    out = np.zeros((m, n))
    rows = np.nonzero(~mask)[0]
    out[~mask] = part(cw, "alpha", (m,), 0)[rows] * np.where(part(cw, "signs", (m * n - k,), 0, 1) > 0, 1.0, -1.0)
    rows_s = np.nonzero(mask)[0]
    vals = part(cw, "salient_values", (k,), -qmax, qmax, integer=True)
    out[mask] = vals * part(cw, "salient_scale", (m,), 0)[rows_s]
    return out


register("pbllm", pbllm, _decode_pbllm)
