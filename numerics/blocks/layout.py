"""Cutting a tensor into blocks (1-D runs along an axis, or N-D tiles) and putting it back."""

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Blocking:
    """How a tensor of `shape` is cut: `axes` (distinct, non-negative) each cut into runs of `sizes`.

    The blocked view is a 2-D array (n_blocks, block_elems) whose rows are blocks in C order of the
    scale array; inside a block, elements are in C order of the tile. Ragged edges are padded.
    """

    shape: tuple[int, ...]
    axes: tuple[int, ...]
    sizes: tuple[int, ...]

    @classmethod
    def make(cls, shape: tuple[int, ...], block_size, axis) -> "Blocking":
        ndim = len(shape)
        if not (axis is None or isinstance(axis, int | np.integer | tuple)) or isinstance(axis, bool):
            raise TypeError(f"axis must be an int, a tuple of ints or None, got {axis!r}")
        if block_size is None or isinstance(block_size, int | np.integer):
            sizes_in = (block_size,)
            if axis is None:
                raise ValueError("axis=None is handled by flattening first")
            axes_in = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
        else:
            sizes_in = tuple(block_size)
            axes_in = tuple(range(-len(sizes_in), 0)) if axis == -1 else (
                (axis,) if isinstance(axis, int | np.integer) else tuple(axis))
        if len(axes_in) != len(sizes_in):
            raise ValueError(f"axis {axis!r} must name one axis per block dimension {block_size!r}")
        axes = []
        for a in axes_in:
            if not isinstance(a, int | np.integer) or isinstance(a, bool):
                raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
            if not -ndim <= a < ndim:
                raise ValueError(f"axis {a} is out of range for an array of {ndim} dimensions")
            axes.append(int(a) % ndim)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {axis!r} repeats an axis")
        sizes = tuple(shape[a] if s is None else int(s) for a, s in zip(axes, sizes_in))
        sizes = tuple(max(s, 1) for s in sizes)
        return cls(tuple(shape), tuple(axes), sizes)

    @cached_property
    def counts(self) -> tuple[int, ...]:
        """Blocks along each blocked axis."""
        return tuple(-(-self.shape[a] // s) for a, s in zip(self.axes, self.sizes))

    @cached_property
    def scale_shape(self) -> tuple[int, ...]:
        """The input shape with each blocked axis replaced by its number of blocks."""
        shape = list(self.shape)
        for a, c in zip(self.axes, self.counts):
            shape[a] = c
        return tuple(shape)

    @property
    def block_elems(self) -> int:
        return math.prod(self.sizes)

    @cached_property
    def _other_axes(self) -> tuple[int, ...]:
        return tuple(a for a in range(len(self.shape)) if a not in self.axes)

    @property
    def padded(self) -> bool:
        return any(self.shape[a] % s for a, s in zip(self.axes, self.sizes))

    def to_blocks(self, x: np.ndarray, fill=0) -> np.ndarray:
        """(n_blocks, block_elems) view or copy of x, ragged edges padded with `fill`."""
        k = len(self.axes)
        xm = np.moveaxis(x, self.axes, range(-k, 0))
        if self.padded:
            pad = [(0, 0)] * (xm.ndim - k) + [(0, c * s - xm.shape[xm.ndim - k + i])
                                              for i, (c, s) in enumerate(zip(self.counts, self.sizes))]
            xm = np.pad(xm, pad, constant_values=fill)
        lead = xm.shape[:xm.ndim - k]
        split = lead + tuple(v for c, s in zip(self.counts, self.sizes) for v in (c, s))
        xm = xm.reshape(split)
        nl = len(lead)
        order = tuple(range(nl)) + tuple(nl + 2 * i for i in range(k)) + tuple(nl + 2 * i + 1 for i in range(k))
        xm = xm.transpose(order)
        return xm.reshape(-1, self.block_elems)

    def from_blocks(self, blocks: np.ndarray) -> np.ndarray:
        """Inverse of to_blocks: (n_blocks, block_elems) back to `shape` (padding dropped)."""
        k = len(self.axes)
        lead = tuple(self.shape[a] for a in self._other_axes)
        nl = len(lead)
        xm = blocks.reshape(lead + self.counts + self.sizes)
        order = list(range(nl))
        for i in range(k):
            order += [nl + i, nl + k + i]
        xm = xm.transpose(order).reshape(lead + tuple(c * s for c, s in zip(self.counts, self.sizes)))
        xm = xm[(slice(None),) * nl + tuple(slice(0, self.shape[a]) for a in self.axes)]
        return np.moveaxis(xm, range(-k, 0), self.axes)

    def scales_to_blocks(self, scales: np.ndarray) -> np.ndarray:
        """Scale array (scale_shape) as a 1-D array in block order."""
        k = len(self.axes)
        return np.moveaxis(scales, self.axes, range(-k, 0)).reshape(-1)

    def scales_from_blocks(self, flat: np.ndarray) -> np.ndarray:
        k = len(self.axes)
        lead = tuple(self.shape[a] for a in self._other_axes)
        return np.moveaxis(flat.reshape(lead + self.counts), range(-k, 0), self.axes)
