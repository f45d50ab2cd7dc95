"""N:M structured sparsity (2:4 as in NVIDIA Ampere and later sparse tensor cores)."""

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SparseTensor:
    """At most n nonzeros in every group of m consecutive elements along `axis`, stored as the kept
    values (n per group) and their positions inside the group (ceil(log2 m)-bit indices).

    values, indices: x.shape with `axis` -> groups * n (indices ascending inside each group).
    """

    values: np.ndarray
    indices: np.ndarray
    shape: tuple
    n: int
    m: int
    axis: int

    def decompress(self) -> np.ndarray:
        """The dense array: kept values at their positions, zeros elsewhere."""
        v = np.moveaxis(self.values, self.axis, -1)
        idx = np.moveaxis(self.indices, self.axis, -1).astype(np.int64)
        lead = v.shape[:-1]
        groups = v.shape[-1] // self.n
        v = v.reshape(lead + (groups, self.n))
        idx = idx.reshape(lead + (groups, self.n))
        dense = np.zeros(lead + (groups, self.m), dtype=v.dtype)
        np.put_along_axis(dense, idx, v, axis=-1)
        k = self.shape[self.axis]
        dense = dense.reshape(lead + (groups * self.m,))[..., :k]
        return np.moveaxis(dense, -1, self.axis)

    @property
    def index_bits(self) -> int:
        return max(1, math.ceil(math.log2(self.m)))

    def metadata_bits(self) -> int:
        """Bits of position metadata stored (2 per kept value for 2:4)."""
        return int(self.indices.size) * self.index_bits


def sparse24(w, n: int = 2, m: int = 4, axis: int = -1) -> SparseTensor:
    """Compress `w` to n:m structured sparsity along `axis` (default 2:4 along the last axis, the K
    axis of a weight matrix). A group with more than n nonzeros is pruned by magnitude: the n largest
    |w| are kept (ties: the lower position). A ragged last group is padded with zeros."""
    w = np.asarray(w)
    if w.dtype.kind not in "fiu" and w.dtype.name != "bfloat16":
        raise TypeError(f"w must be a numeric array, got dtype {w.dtype}")
    if w.ndim == 0:
        raise ValueError("w must have at least one dimension")
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"{name} must be an int, got {v!r}")
    if not 1 <= n < m <= 256:
        raise ValueError(f"need 1 <= n < m <= 256 for n:m sparsity, got {n}:{m}")
    if not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {w.ndim} dimensions")
    axis %= w.ndim
    x = np.moveaxis(w, axis, -1)
    k = x.shape[-1]
    groups = -(-k // m)
    if groups * m != k:
        pad = [(0, 0)] * (x.ndim - 1) + [(0, groups * m - k)]
        x = np.pad(x, pad)
    g = x.reshape(x.shape[:-1] + (groups, m))
    mag = np.abs(g.astype(np.float64))
    # stable order of decreasing magnitude: the n largest, ties to the lower position
    order = np.argsort(-mag, axis=-1, kind="stable")[..., :n]
    keep = np.sort(order, axis=-1)
    vals = np.take_along_axis(g, keep, axis=-1)
    values = np.moveaxis(vals.reshape(vals.shape[:-2] + (groups * n,)), -1, axis)
    indices = np.moveaxis(keep.reshape(keep.shape[:-2] + (groups * n,)).astype(np.uint8), -1, axis)
    return SparseTensor(values=np.ascontiguousarray(values), indices=np.ascontiguousarray(indices),
                        shape=tuple(w.shape), n=n, m=m, axis=axis)
