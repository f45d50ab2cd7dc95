"""The 16-point random Hadamard transform applied to NVFP4 wgrad inputs (TransformerEngine's RHT)."""

import numpy as np

RHT_POINTS = 16


def hadamard_matrix(n: int = RHT_POINTS) -> np.ndarray:
    """The n x n Sylvester Hadamard matrix of ±1 (n a power of two)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n & (n - 1):
        raise ValueError(f"Hadamard size must be a positive power of two, got {n!r}")
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


def hadamard_signs(hadamard) -> np.ndarray:
    """The 16 random signs: drawn from `hadamard` as a seed (numpy default_rng), or given as ±1 values."""
    if isinstance(hadamard, int | np.integer) and not isinstance(hadamard, bool):
        if hadamard < 0:
            raise ValueError(f"hadamard seed must be non-negative, got {hadamard}")
        return np.random.default_rng(int(hadamard)).integers(0, 2, RHT_POINTS) * 2.0 - 1.0
    if isinstance(hadamard, np.ndarray | list | tuple):
        signs = np.asarray(hadamard)
        if signs.shape != (RHT_POINTS,) or signs.dtype.kind not in "iuf" or not np.all(np.abs(signs) == 1):
            raise ValueError(f"hadamard signs must be {RHT_POINTS} values of +1 or -1, got shape {signs.shape}")
        return signs.astype(np.float64)
    raise TypeError(f"hadamard must be an int seed or {RHT_POINTS} signs of ±1, got {type(hadamard).__name__}")


def random_hadamard(x: np.ndarray, hadamard, axis: int = -1) -> np.ndarray:
    """x with each run of 16 elements along `axis` replaced by x_g · diag(signs) · H16 / 4.

    The products are exact and the 16-term sums are formed in float64 and rounded once to x's dtype
    (float32 or float64). The transform is orthonormal, so A·B = (A·T)·(B·T)ᵀ for two operands
    transformed with the same signs along their contraction axis.
    """
    signs = hadamard_signs(hadamard)
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {x.ndim} dimensions")
    n = x.shape[axis]
    if n % RHT_POINTS:
        raise ValueError(f"the Hadamard transform works on runs of {RHT_POINTS}: axis {axis} has length {n}")
    t = signs[:, None] * hadamard_matrix(RHT_POINTS) / 4.0
    xm = np.moveaxis(x, axis, -1)
    g = xm.astype(np.float64).reshape(xm.shape[:-1] + (n // RHT_POINTS, RHT_POINTS))
    y = (g[..., :, None] * t).sum(axis=-2).reshape(xm.shape)
    return np.ascontiguousarray(np.moveaxis(y, -1, axis).astype(x.dtype))
