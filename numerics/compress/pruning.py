"""N:M structured pruning of weights: by magnitude, Wanda (Sun et al., "A Simple and Effective Pruning
Approach for Large Language Models", ICLR 2024: |w| times the input's l2 norm) and SparseGPT (Frantar &
Alistarh, ICML 2023: OBS mask selection and error compensation), optionally with the kept weights
quantized in the same pass (2:4 + 4-bit)."""

import numpy as np

from .base import (
    _FMAX,
    SCALE_FORMATS,
    CompressedWeight,
    Stored,
    check_int,
    check_scale_format,
    meta,
    part,
    register,
    scale_bits,
    to_format,
)
from .obs import inverse_cholesky, obs_sequential
from .scalar import _check_bits, _check_group, grid_params, grid_quantize

CRITERIA = ("magnitude", "wanda", "sparsegpt")


def _kept_values(col, fmt):
    """Kept weights as stored unquantized (fp16 by default); past the format's largest: ValueError."""
    with np.errstate(over="ignore"):
        q = to_format(col, fmt)
    if not np.isfinite(q).all():
        fix = "pass value_format='fp32' or scale w down" if fmt != "fp32" else "scale w down"
        raise ValueError(f"w is too large for sparse24's {fmt} kept values: |w| reaches {np.abs(col).max():.4g}, "
                         f"beyond {fmt}'s largest {_FMAX[fmt]:.6g}; {fix}")
    return q


def sparse24(w, bits=None, hessian=None, seed=0, criterion: str = "sparsegpt", n_keep: int = 2, m_group: int = 4,
             group: int = 128, value_format: str = "fp16", scale_format: str = "fp16"):
    """Prune to n_keep:m_group along the input features. `criterion`: "magnitude" (largest |w| kept),
    "wanda" (largest |w_ij| ||X_j||, ||X_j||^2 = H_jj), "sparsegpt" (per group of m_group columns the
    weights with the smallest w^2 / [H^-1]_jj^2 pruned, errors spread by the OBS update; needs a Hessian
    for its advantage, H = I otherwise). `bits`: None keeps the values (in `value_format`); an int quantizes
    the kept values on the min-max grid (a scale and zero point per `group` columns of a row) in the same pass.
    Stored: kept values (`value_format` fp16, bf16 or fp32 when bits is None), ceil(log2 m_group)-bit
    positions per kept value, scales (`scale_format`)."""
    if not isinstance(criterion, str) or criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    n_keep = check_int(n_keep, "n_keep", 1, 255, "sparse24")
    m_group = check_int(m_group, "m_group", 2, 256, "sparse24")
    if not n_keep < m_group:
        raise ValueError(f"need 0 < n_keep < m_group <= 256, got {n_keep}:{m_group}")
    if bits is not None:
        bits = _check_bits(bits)
        group = _check_group(group, 0)
    if value_format not in SCALE_FORMATS:
        raise ValueError(f"value_format must be one of {SCALE_FORMATS}, got {value_format!r}")
    fmt = check_scale_format(scale_format)
    m, n = w.shape
    if n % m_group:
        raise ValueError(f"{n_keep}:{m_group} sparsity needs n = {n} (the columns of w, dimension 1) divisible by "
                         f"{m_group} (nearest valid sizes {n // m_group * m_group or m_group} and "
                         f"{n // m_group * m_group + m_group})")
    if bits is not None and (group is None or group % m_group or n % group):
        raise ValueError(f"quantization groups of {group} must be a multiple of {m_group} and divide n = {n}")
    if bits is None:
        _kept_values(w, value_format)  # before the pass: the largest weights must fit the stored format
    u = inverse_cholesky(hessian if criterion == "sparsegpt" else None, n)
    mask = np.zeros((m, n), bool)
    if criterion in ("magnitude", "wanda"):
        score = np.abs(w)
        if criterion == "wanda" and hessian is not None:
            score = score * np.sqrt(np.maximum(np.diag(hessian), 0))[None, :]
        g = score.reshape(m, n // m_group, m_group)
        keep = np.argsort(-g, axis=2, kind="stable")[:, :, :n_keep]
        mk = np.zeros_like(g, bool)
        np.put_along_axis(mk, keep, True, axis=2)
        mask = mk.reshape(m, n)
    state = {}
    codes = np.zeros((m, n))
    nq = n // group if bits is not None else 0
    scales, zeros = np.zeros((m, max(nq, 1))), np.zeros((m, max(nq, 1)))

    def fix(j, col, pending):
        if criterion == "sparsegpt" and j % m_group == 0:  # OBS mask for the next m_group columns
            sc = pending(m_group) ** 2 / np.diag(u)[j:j + m_group][None, :] ** 2
            keep = np.argsort(-sc, axis=1, kind="stable")[:, :n_keep]
            mk = np.zeros((m, m_group), bool)
            np.put_along_axis(mk, keep, True, axis=1)
            mask[:, j:j + m_group] = mk
        if bits is not None and j % group == 0:
            state["s"], state["z"] = grid_params(pending(group), bits, scale_format=fmt)
            scales[:, j // group], zeros[:, j // group] = state["s"], state["z"]
        if bits is None:
            q = _kept_values(col, value_format)
        else:
            c = grid_quantize(col, state["s"], state["z"], bits)
            codes[:, j] = c
            q = state["s"] * (c - state["z"])
        return np.where(mask[:, j], q, 0.0)

    rec = obs_sequential(w, u, fix)
    pos_bits = int(np.ceil(np.log2(m_group)))
    kept_idx = np.nonzero(mask.reshape(m, n // m_group, m_group))[2].astype(np.uint8)
    if bits is None:  # fp16 as float16; bf16 and fp32 values as float32 (exact)
        vals = rec[mask].astype(np.float16 if value_format == "fp16" else np.float32)
        parts = {"values": Stored(vals, scale_bits(value_format))}
    else:
        parts = {"codes": Stored(codes[mask].astype(np.uint16), bits), "scales": Stored(scales, scale_bits(fmt)),
                 "zeros": Stored(zeros.astype(np.uint16), bits)}
    parts["positions"] = Stored(kept_idx, pos_bits)
    hw = {"stores": f"{n_keep} of every {m_group} weights ({value_format if bits is None else f'{bits}-bit'}) and a "
                    f"{pos_bits}-bit position each",
          "decode": "the sparse tensor core selects activations by position (2x math on NVIDIA 2:4)"}
    return CompressedWeight("sparse24", (m, n), parts,
                            meta={"n_keep": n_keep, "m_group": m_group, "bits": bits, "group": group,
                                  "criterion": criterion}, hardware=hw)


def _decode_sparse24(cw) -> np.ndarray:
    m, n = cw.shape
    mg = check_int(meta(cw, "m_group"), "sparse24 meta m_group", 2, 256)
    nk = check_int(meta(cw, "n_keep"), "sparse24 meta n_keep", 1, mg - 1)
    bits = meta(cw, "bits", (None, *range(1, 17)))
    if n % mg:
        raise ValueError(f"sparse24 meta m_group = {mg} does not divide n = {n}")
    k = m * (n // mg) * nk
    pos = part(cw, "positions", (k,), 0, mg - 1, integer=True).astype(np.int64).reshape(m, n // mg, nk)
    mask = np.zeros((m, n // mg, mg), bool)
    np.put_along_axis(mask, pos, True, axis=2)
    if mask.sum() != k:
        raise ValueError("sparse24 part 'positions' repeats a position within a group")
    mask = mask.reshape(m, n)
    out = np.zeros((m, n))
    if bits is None:
        out[mask] = part(cw, "values", (k,)).astype(np.float64)
        return out
    group = check_int(meta(cw, "group"), "sparse24 meta group", 1)
    if n % group:
        raise ValueError(f"sparse24 meta group = {group} does not divide n = {n}")
    rows, cols = np.nonzero(mask)
    g = cols // group
    s = part(cw, "scales", (m, n // group), 0)
    z = part(cw, "zeros", (m, n // group), 0, 2**bits - 1, integer=True).astype(np.float64)
    out[mask] = s[rows, g] * (part(cw, "codes", (k,), 0, 2**bits - 1, integer=True) - z[rows, g])
    return out


register("sparse24", sparse24, _decode_sparse24)
