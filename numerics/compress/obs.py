"""The column-sequential optimal-brain-surgeon update shared by GPTQ, SparseGPT, BiLLM, PB-LLM and SliM:
columns are fixed one at a time and each column's error is spread over the columns not yet fixed
through the upper Cholesky factor U of the inverse damped Hessian (H^-1 = U^T U), in lazy batches
(Frantar et al., GPTQ, ICLR 2023, Algorithm 1; Frantar & Alistarh, SparseGPT, ICML 2023)."""

import numpy as np

from .base import steps


def inverse_cholesky(h: np.ndarray | None, n: int, damp: float = 0.01) -> np.ndarray:
    """Upper Cholesky factor of (H + damp mean(diag H) I)^-1; H = I when None. Dead inputs (zero diagonal)
    get a unit diagonal."""
    h = np.eye(n) if h is None else np.array(h, dtype=np.float64, copy=True)
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    h = h + damp * np.mean(np.diag(h)) * np.eye(n)
    return upper_inverse_cholesky(h, f"damp = {damp}")


def upper_inverse_cholesky(h: np.ndarray, damping: str = "1 % of the mean diagonal") -> np.ndarray:
    """U with U^T U = h^-1 (h already damped), or ValueError when h is not positive definite or its scale
    takes the factor out of float64's range: the error feedback would otherwise spread NaN or garbage."""
    try:
        with np.errstate(all="ignore"):
            u = np.linalg.cholesky(np.linalg.inv(h)).T
    except np.linalg.LinAlgError:
        raise ValueError(f"hessian is not positive definite after damping ({damping}): pass X^T X of calibration "
                         "activations, or a larger damp") from None
    if not np.isfinite(u).all():
        raise ValueError("hessian's entries are too large or too small for float64 once inverted: rescale it")
    return u


def obs_sequential(w: np.ndarray, u: np.ndarray, fix_column, block: int = 128) -> np.ndarray:
    """Fix the columns of w (m, n) in order. `fix_column(j, col, ahead)` returns the fixed values of column
    j given its current (updated) values `col`; `ahead(width)` gives the current values of columns
    j .. j + width - 1 (for group parameters; columns past the lazy batch carry the updates of earlier
    batches, as in GPTQ's reference code); u is inverse_cholesky(H). Returns the fixed matrix."""
    w = w.copy()
    m, n = w.shape
    out = np.zeros_like(w)
    for i1 in steps(range(0, n, block), -(-n // block), "column blocks"):
        i2 = min(i1 + block, n)
        w1 = w[:, i1:i2].copy()
        err = np.zeros_like(w1)
        u1 = u[i1:i2, i1:i2]
        for i in range(i2 - i1):
            def ahead(width, i=i, w1=w1, i2=i2):
                inside = w1[:, i:i + width]
                if i + width <= w1.shape[1]:
                    return inside
                return np.concatenate([inside, w[:, i2:i2 + width - inside.shape[1]]], axis=1)

            q = fix_column(i1 + i, w1[:, i], ahead)
            out[:, i1 + i] = q
            e = (w1[:, i] - q) / u1[i, i]
            w1[:, i:] -= np.outer(e, u1[i, i:])
            err[:, i] = e
        w[:, i2:] -= err @ u[i1:i2, i2:]
    return out
