"""SliM-LLM (Huang et al., "SliM-LLM: Salience-Driven Mixed-Precision Quantization for Large Language
Models", 2024): column groups of a layer get bits-1, bits or bits+1 by their salience so that the mean
bit-width is exactly `bits`; each group is quantized on the min-max grid at its width, with GPTQ's error
compensation."""

import numpy as np

from .base import CompressedWeight, Stored, check_float, check_int, check_scale_format, meta, part, register, scale_bits
from .obs import inverse_cholesky, obs_sequential
from .scalar import _check_bits, grid_params, grid_quantize


def slim(w, bits=None, hessian=None, seed=0, group: int = 128, fracs=(0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3),
         scale_format: str = "fp16"):
    """SliM-LLM's salience-determined bit allocation: group salience = sum of w^2 / [H^-1]_jj^2 over the
    group (OBS salience; plain w^2 without a Hessian); the top fraction f of groups gets bits + 1 and as
    many of the least salient bits - 1 (the mean stays `bits` exactly), f searched over `fracs` to
    minimise the proxy loss of round-to-nearest. Stored: codes at each group's width, fp16 scales, zero
    points, and a 2-bit width tag per group. `bits` in 1..15 (groups go up to bits + 1 <= 16); `fracs` in
    [0, 0.5]; scales in `scale_format` (fp16, bf16, fp32)."""
    bits = _check_bits(bits, 2, hi=15)
    group = check_int(group, "group", 1, None, "slim")
    if isinstance(fracs, str) or not hasattr(fracs, "__iter__"):
        raise ValueError(f"fracs must be a sequence of fractions in [0, 0.5], got {fracs!r}")
    fracs = tuple(check_float(f, "every fracs entry", 0.0, 0.5) for f in fracs)
    if not fracs:
        raise ValueError("fracs must hold at least one fraction in [0, 0.5]")
    fmt = check_scale_format(scale_format)
    m, n = w.shape
    if n % group:
        raise ValueError(f"SliM groups of {group} input features need n = {n} (the columns of w, dimension 1) "
                         f"divisible by {group} (nearest valid sizes {n // group * group or group} and "
                         f"{n // group * group + group})")
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
            s, z = grid_params(blk, gb[g], scale_format=fmt)
            d = s[:, None] * (grid_quantize(blk, s, z, gb[g]) - z[:, None]) - blk
            hb = h[g * group:(g + 1) * group, g * group:(g + 1) * group]
            with np.errstate(over="ignore"):  # compared only; the stored scales are checked
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
            state["s"], state["z"] = grid_params(pending(group), int(gb[g]), scale_format=fmt)
            scales[:, g], zeros[:, g] = state["s"], state["z"]
        q = grid_quantize(col, state["s"], state["z"], int(gb[g]))
        codes[:, j] = q
        return state["s"] * (q - state["z"])

    obs_sequential(w, u, fix)
    parts = {f"codes_{b}bit": Stored(codes.reshape(m, ng, group)[:, gb == b], int(b)) for b in np.unique(gb)}
    parts.update({"scales": Stored(scales, scale_bits(fmt)),
                  "zeros": Stored(zeros.astype(np.uint16), float(np.mean(gb))),
                  "group_bits": Stored(gb.astype(np.uint8), 2)})
    hw = {"stores": f"codes of {sorted(set(gb.tolist()))} bits by column group (mean exactly {bits}), {fmt} scales,"
                    " zero points, a 2-bit width tag per group",
          "decode": "w = scale (q - zero) with a per-group code width"}
    return CompressedWeight("slim", (m, n), parts, meta={"group": group}, hardware=hw)


def _decode_slim(cw) -> np.ndarray:
    m, n = cw.shape
    group = check_int(meta(cw, "group"), "slim meta group", 1)
    if n % group:
        raise ValueError(f"slim meta group = {group} does not divide n = {n}")
    ng = n // group
    gb = part(cw, "group_bits", (ng,), 1, 16, integer=True).astype(int)
    codes = np.zeros((m, ng, group))
    zmax = np.zeros(ng)
    for b in np.unique(gb):
        codes[:, gb == b] = part(cw, f"codes_{b}bit", (m, int((gb == b).sum()), group), 0, 2**b - 1, integer=True)
        zmax[gb == b] = 2**b - 1
    s = part(cw, "scales", (m, ng), 0)
    z = part(cw, "zeros", (m, ng), 0, None, integer=True).astype(np.float64)
    if (z > zmax[None, :]).any():
        raise ValueError("slim part 'zeros' holds zero points past their group's code range")
    return (s[:, :, None] * (codes - z[:, :, None])).reshape(m, n)


register("slim", slim, _decode_slim)
