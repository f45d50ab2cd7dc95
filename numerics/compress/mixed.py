"""SliM-LLM (Huang et al., "SliM-LLM: Salience-Driven Mixed-Precision Quantization for Large Language
Models", 2024): column groups of a layer get bits-1, bits or bits+1 by their salience so that the mean
bit-width is exactly `bits`; each group is quantized on the min-max grid at its width, with GPTQ's error
compensation."""

import numpy as np

from .base import CompressedWeight, Stored, register
from .obs import inverse_cholesky, obs_sequential
from .scalar import _check_bits, grid_params, grid_quantize


def slim(w, bits=None, hessian=None, seed=0, group: int = 128, fracs=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)):
    """SliM-LLM's salience-determined bit allocation: group salience = sum of w^2 / [H^-1]_jj^2 over the
    group (OBS salience; plain w^2 without a Hessian); the top fraction f of groups gets bits + 1 and as
    many of the least salient bits - 1 (the mean stays `bits` exactly), f searched over `fracs` to
    minimise the proxy loss of round-to-nearest. Stored: codes at each group's width, fp16 scales, zero
    points, and a 2-bit width tag per group."""
    bits = _check_bits(bits, 2)
    m, n = w.shape
    if n % group:
        raise ValueError(f"SliM groups of {group} input features need n = {n} divisible by {group}")
    ng = n // group
    u = inverse_cholesky(hessian, n)
    hinv_diag = np.sum(u * u, axis=0)
    sal = (w * w / hinv_diag[None, :] ** 2).reshape(m, ng, group).sum(axis=(0, 2))
    order = np.argsort(-sal, kind="stable")
    h = np.eye(n) if hessian is None else hessian

    def rtn_loss(gb):
        loss = 0.0
        for g in range(ng):
            blk = w[:, g * group:(g + 1) * group]
            s, z = grid_params(blk, gb[g])
            d = s[:, None] * (grid_quantize(blk, s, z, gb[g]) - z[:, None]) - blk
            hb = h[g * group:(g + 1) * group, g * group:(g + 1) * group]
            loss += np.einsum("ij,jk,ik->", d, hb, d)
        return loss

    best = None
    for f in fracs:
        k = min(int(round(f * ng)), ng // 2)
        if bits == 1 and k:
            continue
        gb = np.full(ng, bits)
        gb[order[:k]] += 1
        gb[order[ng - k:]] -= 1 if k else 0
        loss = rtn_loss(gb)
        if best is None or loss < best[0]:
            best = (loss, gb)
    gb = best[1]
    codes = np.zeros((m, n), np.uint16)
    scales, zeros = np.zeros((m, ng)), np.zeros((m, ng))
    state = {}

    def fix(j, col, pending):
        g = j // group
        if j % group == 0:
            state["s"], state["z"] = grid_params(pending(group), int(gb[g]))
            scales[:, g], zeros[:, g] = state["s"], state["z"]
        q = grid_quantize(col, state["s"], state["z"], int(gb[g]))
        codes[:, j] = q
        return state["s"] * (q - state["z"])

    obs_sequential(w, u, fix)
    parts = {f"codes_{b}bit": Stored(codes.reshape(m, ng, group)[:, gb == b], int(b)) for b in np.unique(gb)}
    parts.update({"scales": Stored(scales, 16), "zeros": Stored(zeros.astype(np.uint16), float(np.mean(gb))),
                  "group_bits": Stored(gb.astype(np.uint8), 2)})
    hw = {"stores": f"codes of {sorted(set(gb.tolist()))} bits by column group (mean exactly {bits}), fp16 scales,"
                    " zero points, a 2-bit width tag per group",
          "decode": "w = scale (q - zero) with a per-group code width"}
    return CompressedWeight("slim", (m, n), parts, meta={"group": group}, hardware=hw)


def _decode_slim(cw) -> np.ndarray:
    m, n = cw.shape
    group = cw.meta["group"]
    gb = cw.parts["group_bits"].data.astype(int)
    ng = n // group
    codes = np.zeros((m, ng, group))
    for b in np.unique(gb):
        codes[:, gb == b] = cw.parts[f"codes_{b}bit"].data
    s, z = cw.parts["scales"].data, cw.parts["zeros"].data.astype(np.float64)
    return (s[:, :, None] * (codes - z[:, :, None])).reshape(m, n)


register("slim", slim, _decode_slim)
