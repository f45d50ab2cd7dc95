"""Randomized Hadamard incoherence processing (QuIP, Chee et al. 2023 §3; QuIP#, Tseng et al. 2024 §3):
W -> U W V^T with U = H_m diag(s_u) / sqrt(m), V = H_n diag(s_v) / sqrt(n), s random signs. Sizes that are
not powers of two use H_K (x) H_(2^j) with K from Sloane's library (numerics/data/hadamard.npz), as QuIP#
does. The transform is orthogonal, so the inverse is the transpose."""

from functools import cache
from importlib import resources

import numpy as np

from kernels import fwht


@cache
def _had_library() -> dict:
    with (resources.files("numerics") / "data" / "hadamard.npz").open("rb") as fh, np.load(fh) as z:
        return {int(k[3:]): z[k].astype(np.float64) for k in z}


def _factor(n: int) -> tuple[int, int] | None:
    for k in [1, *sorted(_had_library())]:
        if n % k == 0:
            p = n // k
            if p & (p - 1) == 0:
                return k, p
    return None


def factor(n: int, what: str = "") -> tuple[int, int]:
    """(K, 2^j) with K * 2^j = n, K = 1 or a library order. `what` names the dimension in the error."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"Hadamard size must be a positive int, got {n!r}")
    n = int(n)
    kp = _factor(n)
    if kp is not None:
        return kp
    orders = ", ".join(map(str, sorted(_had_library())))
    below = next(m for m in range(n - 1, 0, -1) if _factor(m))
    above = next(m for m in range(n + 1, 2 * n + 2) if _factor(m))
    who = f"{what} = {n}: " if what else ""
    raise ValueError(f"{who}no Hadamard matrix of order {n}: the size must be K * 2^j with K in {{1, {orders}}} "
                     f"(nearest valid sizes {below} and {above}; pad the matrix)")


def hadamard_rows(x: np.ndarray, transpose: bool = False) -> np.ndarray:
    """x @ H_n^T / sqrt(n) (x @ H_n / sqrt(n) with transpose=True) for every row of x (n = x.shape[-1])."""
    x = np.array(x, dtype=np.float64, copy=True)
    n = x.shape[-1]
    k, p = factor(n)
    lead = x.shape[:-1]
    y = x.reshape(-1, k, p)
    flat = y.reshape(-1, p)
    fwht(flat)
    y = flat.reshape(-1, k, p)
    if k > 1:
        hk = _had_library()[k]
        y = np.einsum("ab,rbp->rap", hk.T if transpose else hk, y)
    return (y.reshape(*lead, n)) / np.sqrt(n)


def hadamard_matrix(n: int) -> np.ndarray:
    """The orthonormal H_n the transform uses (for tests and small sizes)."""
    return hadamard_rows(np.eye(n)).T


class RandomHadamard:
    """The two-sided randomized Hadamard transform of an (m, n) matrix, seeded."""

    def __init__(self, m: int, n: int, seed=0):
        factor(m, "m (the rows of w, dimension 0)")
        factor(n, "n (the columns of w, dimension 1)")
        rng = np.random.default_rng(seed)
        self.su = rng.choice([-1.0, 1.0], m)
        self.sv = rng.choice([-1.0, 1.0], n)

    def forward(self, w: np.ndarray) -> np.ndarray:
        """U W V^T. ValueError when the sums overflow float64 (|w| near 1e308)."""
        with np.errstate(over="ignore", invalid="ignore"):
            t = hadamard_rows(w * self.sv)                 # W V^T = W diag(sv) H_n^T / sqrt(n)
            out = hadamard_rows(t.T * self.su).T         # U (.) = H_m diag(su) (.) / sqrt(m)
        if not np.isfinite(out).all():
            raise ValueError(f"w is too large for the Hadamard transform in float64 (max |w| = "
                             f"{np.abs(w).max():.4g}: its sums overflow); scale w down")
        return out

    def inverse(self, w: np.ndarray) -> np.ndarray:
        """U^T W V."""
        t = hadamard_rows(w.T, transpose=True).T * self.su[:, None]   # U^T W = diag(su) H_m^T W / sqrt(m)
        return hadamard_rows(t, transpose=True) * self.sv              # (.) V = (.) H_n diag(sv) / sqrt(n)

    def hessian(self, h: np.ndarray) -> np.ndarray:
        """The proxy Hessian in the rotated space: V H V^T."""
        t = hadamard_rows(h * self.sv)
        return hadamard_rows(t.T * self.sv).T


def incoherence(w) -> float:
    """QuIP's weight incoherence mu = max |W_ij| sqrt(m n) / ||W||_F = max |W_ij| / rms(W) (w: a finite,
    non-zero 2-D matrix; ValueError otherwise)."""
    from .base import check_weight, rms
    w = check_weight(w)
    if not w.any():
        raise ValueError("incoherence of an all-zero matrix is undefined (0 / 0)")
    return float(np.abs(w).max() / rms(w))
