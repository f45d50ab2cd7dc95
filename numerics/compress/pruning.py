"""N:M structured pruning of weights: by magnitude, Wanda (Sun et al., "A Simple and Effective Pruning
Approach for Large Language Models", ICLR 2024: |w| times the input's l2 norm) and SparseGPT (Frantar &
Alistarh, ICML 2023: OBS mask selection and error compensation), optionally with the kept weights
quantized in the same pass (2:4 + 4-bit)."""

import numpy as np

from .base import CompressedWeight, Stored, fp16, register
from .obs import inverse_cholesky, obs_sequential
from .scalar import grid_params, grid_quantize

CRITERIA = ("magnitude", "wanda", "sparsegpt")


def sparse24(w, bits=None, hessian=None, seed=0, criterion: str = "sparsegpt", n_keep: int = 2, m_group: int = 4,
             group: int = 128):
    """Prune to n_keep:m_group along the input features. `criterion`: "magnitude" (largest |w| kept),
    "wanda" (largest |w_ij| ||X_j||, ||X_j||^2 = H_jj), "sparsegpt" (per group of m_group columns the
    weights with the smallest w^2 / [H^-1]_jj^2 pruned, errors spread by the OBS update; needs a Hessian
    for its advantage, H = I otherwise). `bits`: None keeps fp16 values; an int quantizes the kept values
    on the min-max grid (fp16 scale and zero point per `group` columns of a row) in the same pass.
    Stored: kept values, ceil(log2 m_group)-bit positions per kept value, scales."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")
    if not 0 < n_keep < m_group:
        raise ValueError(f"need 0 < n_keep < m_group, got {n_keep}:{m_group}")
    m, n = w.shape
    if n % m_group:
        raise ValueError(f"{n_keep}:{m_group} sparsity needs n = {n} divisible by {m_group}")
    if bits is not None and (group % m_group or n % group):
        raise ValueError(f"quantization groups of {group} must be a multiple of {m_group} and divide n = {n}")
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
            state["s"], state["z"] = grid_params(pending(group), bits)
            scales[:, j // group], zeros[:, j // group] = state["s"], state["z"]
        if bits is None:
            q = fp16(col)
        else:
            c = grid_quantize(col, state["s"], state["z"], bits)
            codes[:, j] = c
            q = state["s"] * (c - state["z"])
        return np.where(mask[:, j], q, 0.0)

    rec = obs_sequential(w, u, fix)
    pos_bits = int(np.ceil(np.log2(m_group)))
    kept_idx = np.nonzero(mask.reshape(m, n // m_group, m_group))[2].astype(np.uint8)
    if bits is None:
        parts = {"values": Stored(rec[mask].astype(np.float16), 16)}
    else:
        parts = {"codes": Stored(codes[mask].astype(np.uint16), bits), "scales": Stored(scales, 16),
                 "zeros": Stored(zeros.astype(np.uint16), bits)}
    parts["positions"] = Stored(kept_idx, pos_bits)
    hw = {"stores": f"{n_keep} of every {m_group} weights ({'fp16' if bits is None else f'{bits}-bit'}) and a "
                    f"{pos_bits}-bit position each",
          "decode": "the sparse tensor core selects activations by position (2x math on NVIDIA 2:4)"}
    return CompressedWeight("sparse24", (m, n), parts,
                            meta={"n_keep": n_keep, "m_group": m_group, "bits": bits, "group": group,
                                  "criterion": criterion}, hardware=hw)


def _decode_sparse24(cw) -> np.ndarray:
    m, n = cw.shape
    md = cw.meta
    pos = cw.parts["positions"].data.astype(np.int64).reshape(m, n // md["m_group"], md["n_keep"])
    mask = np.zeros((m, n // md["m_group"], md["m_group"]), bool)
    np.put_along_axis(mask, pos, True, axis=2)
    mask = mask.reshape(m, n)
    out = np.zeros((m, n))
    if md["bits"] is None:
        out[mask] = cw.parts["values"].data.astype(np.float64)
        return out
    rows, cols = np.nonzero(mask)
    g = cols // md["group"]
    s, z = cw.parts["scales"].data, cw.parts["zeros"].data.astype(np.float64)
    out[mask] = s[rows, g] * (cw.parts["codes"].data - z[rows, g])
    return out


register("sparse24", sparse24, _decode_sparse24)
