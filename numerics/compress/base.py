"""CompressedWeight: what a compression method stores (every array counted in bits) and how the
hardware decodes it; the method registry behind numerics.compress."""

import math
from dataclasses import dataclass, field

import numpy as np

_METHODS: dict = {}


def register(name: str, encode, decode) -> None:
    _METHODS[name] = (encode, decode)


def compression_methods() -> list[str]:
    """Every method name compress() accepts."""
    return list(_METHODS)


@dataclass(frozen=True)
class Stored:
    """One stored array and the bits each of its elements takes on the hardware."""

    data: np.ndarray = field(repr=False)
    bits: float

    @property
    def total_bits(self) -> float:
        return float(self.data.size * self.bits)


@dataclass(frozen=True)
class CompressedWeight:
    """A compressed weight matrix (rows = output channels, columns = input features).

    `parts` holds everything stored ({name: Stored}); `meta` the method's fixed configuration (not stored
    per matrix: the trellis shape, the codebook family...); `decode()` rebuilds the float64 matrix from
    the parts alone; `hardware` says what the hardware must store and do to decode."""

    method: str
    shape: tuple
    parts: dict = field(repr=False)
    meta: dict = field(default_factory=dict)
    hardware: dict = field(default_factory=dict)

    def decode(self) -> np.ndarray:
        return _METHODS[self.method][1](self)

    @property
    def storage_bits(self) -> dict:
        return {k: v.total_bits for k, v in self.parts.items()}

    @property
    def total_bits(self) -> float:
        return float(sum(self.storage_bits.values()))

    @property
    def bits_per_weight(self) -> float:
        """Everything stored (codes, scales, zero points, codebooks, sign vectors, masks) per weight."""
        return self.total_bits / math.prod(self.shape)

    def error(self, w, hessian=None) -> dict:
        """Relative MSE ||W_hat - W||^2 / ||W||^2 and, with a Hessian, the proxy loss
        tr((W_hat - W) H (W_hat - W)^T)."""
        w = np.asarray(w, np.float64)
        d = self.decode() - w
        out = {"rel_mse": float(np.sum(d * d) / np.sum(w * w)), "mse": float(np.mean(d * d))}
        if hessian is not None:
            out["proxy"] = float(np.einsum("ij,jk,ik->", d, np.asarray(hessian, np.float64), d))
        return out


def check_weight(w) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"w must be a 2-D (out, in) weight matrix, got shape {w.shape}")
    if w.dtype.kind not in "fiu":
        raise TypeError(f"w must be a numeric array, got dtype {w.dtype}")
    w = w.astype(np.float64)
    if not np.isfinite(w).all():
        raise ValueError("w must be finite")
    return w


def check_hessian(h, n: int) -> np.ndarray | None:
    if h is None:
        return None
    h = np.asarray(h, np.float64)
    if h.shape != (n, n):
        raise ValueError(f"hessian must be ({n}, {n}) (X^T X over the {n} input features), got {h.shape}")
    if not np.isfinite(h).all() or not np.allclose(h, h.T, rtol=1e-8, atol=1e-8 * np.abs(h).max()):
        raise ValueError("hessian must be a finite symmetric matrix")
    return h


def compress(w, method: str = "rtn", bits: float | None = None, hessian=None, seed=0, **options) -> CompressedWeight:
    """Compress the weight matrix `w` (out, in) with `method` at `bits` per weight.

    `hessian` (in x in, X^T X of calibration activations) enables the Hessian-aware methods (GPTQ,
    QuIP#'s BlockLDLQ, QTIP, SliM's allocation, Wanda, SparseGPT); without it the proxy is plain MSE.
    Options are method specific (docs/compression.md lists them); unknown options raise TypeError.
    """
    if method not in _METHODS:
        import difflib
        close = difflib.get_close_matches(str(method), _METHODS, n=3, cutoff=0.5)
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown compression method {method!r}{hint} (compression_methods() lists all)")
    w = check_weight(w)
    h = check_hessian(hessian, w.shape[1])
    return _METHODS[method][0](w, bits=bits, hessian=h, seed=seed, **options)


def fp16(x) -> np.ndarray:
    """Values as stored in fp16 (scales, codebooks), back in float64."""
    return np.asarray(x, np.float64).astype(np.float16).astype(np.float64)
