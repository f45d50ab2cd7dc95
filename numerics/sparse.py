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

    def __post_init__(self) -> None:
        # built by sparse24 or by hand / dataclasses.replace: normalise, then check everything
        _check_nm(self.n, self.m)
        if not isinstance(self.shape, tuple | list) or not self.shape or any(
                isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 0 for s in self.shape):
            raise ValueError(f"shape must be a non-empty tuple of non-negative ints, got {self.shape!r}")
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "axis", _axis_arg(self.axis, len(self.shape)))
        object.__setattr__(self, "n", int(self.n))
        object.__setattr__(self, "m", int(self.m))
        object.__setattr__(self, "values", np.asarray(self.values))
        object.__setattr__(self, "indices", np.asarray(self.indices))
        self.validate()

    def validate(self) -> None:
        """Check values and indices against shape, n, m and axis: shapes, dtypes, every index in
        0..m-1 and strictly ascending inside its group, nothing stored in the padding of a ragged last
        group. O(n) numpy; decompress() calls it (the arrays are mutable).

        Raises:
            ValueError / TypeError naming the field.
        """
        v, idx = self.values, self.indices
        if not isinstance(v, np.ndarray) or not _numeric(v.dtype):
            raise TypeError(f"values must be a numeric array, got {getattr(v, 'dtype', type(v).__name__)}")
        if not isinstance(idx, np.ndarray) or idx.dtype == np.bool_ or not np.issubdtype(idx.dtype, np.integer):
            raise TypeError(f"indices must be an integer array, got {getattr(idx, 'dtype', type(idx).__name__)}")
        k = self.shape[self.axis]
        groups = -(-k // self.m)
        want = self.shape[:self.axis] + (groups * self.n,) + self.shape[self.axis + 1:]
        for name, arr in (("values", v), ("indices", idx)):
            if arr.shape != want:
                raise ValueError(f"{name} has shape {arr.shape}; shape {self.shape} with {self.n}:{self.m} "
                                 f"sparsity along axis {self.axis} needs {want}")
        if not idx.size:
            return
        g = np.moveaxis(idx, self.axis, -1).reshape(-1, groups, self.n).astype(np.int64)
        lo, hi = int(g.min()), int(g.max())
        if lo < 0 or hi >= self.m:
            raise ValueError(f"indices must lie in 0..{self.m - 1} (positions in a group of {self.m}), "
                             f"got {lo if lo < 0 else hi}")
        if self.n > 1 and not (np.diff(g, axis=-1) > 0).all():
            raise ValueError("indices must be strictly ascending inside each group (a repeated position would "
                             "overwrite a kept value)")
        tail = k - (groups - 1) * self.m  # real positions in the last group
        if tail < self.m:
            vg = np.moveaxis(v, self.axis, -1).reshape(-1, groups, self.n)[:, -1]
            lost = (g[:, -1] >= tail) & (vg != 0)
            if lost.any():
                raise ValueError(f"values holds a nonzero at a padding position (>= {tail}) of the ragged last "
                                 f"group: it would be dropped")

    def decompress(self) -> np.ndarray:
        """The dense array: kept values at their positions, zeros elsewhere."""
        self.validate()
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
    try:
        w = np.asarray(w)
    except (TypeError, ValueError) as err:
        raise TypeError(f"w must be a numeric array, got {type(w).__name__}: {err}") from None
    if not _numeric(w.dtype):
        raise TypeError(f"w must be a numeric array (float, bfloat16 or integer), got dtype {w.dtype}")
    if w.ndim == 0:
        raise ValueError("w must have at least one dimension")
    _check_nm(n, m)
    axis = _axis_arg(axis, w.ndim)
    if w.dtype.kind == "f" or w.dtype.name == "bfloat16":
        if np.isnan(w.astype(np.float32, copy=False) if w.dtype.name == "bfloat16" else w).any():
            raise ValueError("w holds NaN: pruning by magnitude is undefined for it")
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


def _numeric(dt: np.dtype) -> bool:
    return dt.kind in "fiu" or dt.name == "bfloat16"


def _check_nm(n, m) -> None:
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise TypeError(f"{name} must be an int, got {v!r}")
    if not 1 <= n < m <= 256:
        raise ValueError(f"need 1 <= n < m <= 256 for n:m sparsity, got {n}:{m}")


def _axis_arg(axis, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {ndim} dimensions")
    return int(axis) % ndim
