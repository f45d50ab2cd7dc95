"""BlockTensor: the codes, scales and zero points of a block-quantised tensor, and their bytes."""

from dataclasses import dataclass

import numpy as np

from .format import BlockFormat
from .layout import Blocking


@dataclass(frozen=True)
class Packed:
    """A BlockTensor's storage: element bytes, scale bytes, zero-point bytes, the FP32 tensor scale."""

    data: bytes
    scales: bytes
    zero_points: bytes | None
    tensor_scale: float | None

    def __post_init__(self) -> None:
        for f in ("data", "scales", "zero_points"):
            v = getattr(self, f)
            if not (isinstance(v, bytes | bytearray | memoryview) or (f == "zero_points" and v is None)):
                raise TypeError(f"Packed.{f} must be bytes{' or None' if f == 'zero_points' else ''}, "
                                f"got {type(v).__name__}")
        ts = self.tensor_scale
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, float | int | np.floating | np.integer)):
            raise TypeError(f"Packed.tensor_scale must be a float or None, got {type(ts).__name__}")


@dataclass(frozen=True, eq=False)
class BlockTensor:
    """Result of BlockFormat.encode. `codes` has the input's shape; `scales` (and `zero_points`) the
    input's shape with each blocked axis replaced by its number of blocks; `axis` None means the
    flattened tensor was blocked."""

    format: BlockFormat
    codes: np.ndarray
    scales: np.ndarray
    tensor_scale: float | None
    zero_points: np.ndarray | None
    axis: int | tuple | None
    shape: tuple

    def __post_init__(self) -> None:
        # Normalise what a caller may have built by hand (or via dataclasses.replace), then check it
        # all before any kernel indexes a table with these codes.
        fmt = self.format
        if not isinstance(fmt, BlockFormat):
            raise TypeError(f"format must be a BlockFormat, got {type(fmt).__name__}")
        object.__setattr__(self, "shape", _shape_arg(self.shape))
        for name, f in (("codes", fmt.element), ("scales", fmt.scale), ("zero_points", fmt.element)):
            arr = getattr(self, name)
            if arr is None and name == "zero_points":
                continue
            object.__setattr__(self, name, _code_array_arg(arr, name, f))
        ts = self.tensor_scale
        if ts is not None:
            if isinstance(ts, bool) or not isinstance(ts, float | int | np.floating | np.integer):
                raise TypeError(f"tensor_scale must be a float or None, got {type(ts).__name__}")
            object.__setattr__(self, "tensor_scale", float(ts))
        self.validate()

    def validate(self) -> None:
        """Check every field against the format: shapes, code dtypes and code ranges, zero points and
        tensor scale present exactly when the format has them, the tensor scale a positive finite
        float32 value. O(n) numpy (one max per code array); decode() and packed() call it, as should
        anything that hands these arrays to a kernel (the arrays are mutable, so a check at
        construction alone would not do).

        Raises:
            ValueError / TypeError naming the field.
        """
        fmt = self.format
        if not isinstance(fmt, BlockFormat):
            raise TypeError(f"format must be a BlockFormat, got {type(fmt).__name__}")
        shape = _shape_arg(self.shape)
        if self.axis is None and isinstance(fmt.block_size, tuple):
            raise ValueError(f"axis=None (flattened) does not go with the tile block size {fmt.block_size}")
        try:
            b = self._blocking
        except (TypeError, ValueError) as err:
            raise type(err)(f"BlockTensor.axis {self.axis!r} with shape {shape}: {err}") from None
        expect = {"codes": (shape, fmt.element), "scales": (b.scale_shape, fmt.scale),
                  "zero_points": (b.scale_shape, fmt.element)}
        for name, (want, f) in expect.items():
            arr = getattr(self, name)
            if name == "zero_points":
                if (arr is None) != (not fmt.zero_point):
                    raise ValueError(f"{fmt.name} {'stores' if fmt.zero_point else 'has no'} zero points; "
                                     f"zero_points is {'None' if arr is None else 'an array'}")
                if arr is None:
                    continue
            if not isinstance(arr, np.ndarray) or arr.dtype != f.code_dtype:
                got = arr.dtype if isinstance(arr, np.ndarray) else type(arr).__name__
                raise TypeError(f"{name} must be a {f.code_dtype} array of {f.name} codes, got {got}")
            if arr.shape != want:
                raise ValueError(f"{name} has shape {arr.shape}; shape {shape} blocked along axis {self.axis!r} "
                                 f"by {fmt.block_size!r} needs {want}")
            _check_code_range(arr, name, f)
        ts = self.tensor_scale
        if (ts is None) != (not fmt.tensor_scale):
            raise ValueError(f"{fmt.name} {'has' if fmt.tensor_scale else 'has no'} FP32 tensor scale; "
                             f"tensor_scale is {ts!r}")
        if ts is not None:
            if isinstance(ts, bool) or not isinstance(ts, float | int | np.floating | np.integer):
                raise TypeError(f"tensor_scale must be a float or None, got {type(ts).__name__}")
            if not (np.isfinite(ts) and ts > 0 and float(np.float32(ts)) == ts):
                raise ValueError(f"tensor_scale must be a positive finite float32 value, got {ts!r}")

    @property
    def _blocking(self) -> Blocking:
        if self.axis is None:
            return Blocking.make((int(np.prod(self.shape)),), self.format.block_size, 0)
        return Blocking.make(self.shape, self.format.block_size, self.axis)

    def _blocks(self):
        """(element codes as blocks, padded with each block's code for 0), blocking."""
        b = self._blocking
        codes = self.codes.reshape(-1) if self.axis is None else self.codes
        fill = 0
        if b.padded:
            zero_code = self.format.element.encode(np.zeros(1))[0]
            fill = zero_code
        blocks = b.to_blocks(codes, fill=fill)
        if b.padded and self.zero_points is not None:
            zp = b.scales_to_blocks(self.zero_points)
            pad = b.to_blocks(np.ones(codes.shape, bool), fill=False)
            blocks = np.where(pad, blocks, zp[:, None]).astype(blocks.dtype)
        return blocks, b

    def decode(self) -> np.ndarray:
        """Exact float64 values: element x block scale (x tensor scale); NaN where the scale is NaN."""
        fmt = self.format
        import kernels
        self.validate()
        blocks, b = self._blocks()
        svals = fmt.scale.decode(b.scales_to_blocks(self.scales))
        if self.tensor_scale is not None:
            svals = svals * self.tensor_scale  # exact in float64: both factors are float32 values
        if self.zero_points is not None:
            vals = fmt.element.decode(blocks) - fmt.element.decode(b.scales_to_blocks(self.zero_points))[:, None]
            vals = vals * svals[:, None]
        elif fmt.element.bits <= 16:
            # validate() checked every code < 2**bits = len(table)
            vals = kernels.block_decode(fmt.element._table, np.ascontiguousarray(blocks), svals)
        else:
            vals = fmt.element.decode(blocks) * svals[:, None]
        return b.from_blocks(vals).reshape(self.shape)

    def along(self, axis: int) -> "BlockTensor":
        """The same values as a BlockTensor blocked along `axis` only: a tile-blocked tensor (e.g. a
        (16, 16) or (128, 128) weight) becomes runs of the tile's length along `axis`, each run carrying
        its tile's scale, so that `nx.matmul` (which blocks operands along K) takes it. Exact: every
        element keeps its code and its scale."""
        import dataclasses
        self.validate()
        bs = self.format.block_size
        if not isinstance(bs, tuple):
            raise ValueError(f"along() converts tile-blocked tensors; this one is blocked by {bs!r} along "
                             f"axis {self.axis!r} already")
        if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
            raise TypeError(f"axis must be an int, got {axis!r}")
        b = self._blocking
        ndim = len(self.shape)
        if not -ndim <= axis < ndim or int(axis) % ndim not in b.axes:
            raise ValueError(f"axis {axis} is not one of the tiled axes {b.axes} of shape {self.shape}")
        axis = int(axis) % ndim
        scales, zps = self.scales, self.zero_points
        for a, size in zip(b.axes, b.sizes):
            if a == axis:
                continue
            idx = np.arange(self.shape[a]) // size  # each element's tile along a
            scales = np.take(scales, idx, axis=a)
            zps = None if zps is None else np.take(zps, idx, axis=a)
        fmt = dataclasses.replace(self.format, block_size=b.sizes[b.axes.index(axis)])
        return BlockTensor(format=fmt, codes=self.codes, scales=np.ascontiguousarray(scales),
                           tensor_scale=self.tensor_scale,
                           zero_points=None if zps is None else np.ascontiguousarray(zps), axis=axis, shape=self.shape)

    @property
    def bits_per_element(self) -> float:
        """Stored bits (elements incl. padding, scales, zero points) per element of the input; the
        single FP32 tensor scale is amortised away (see `total_bits` for the exact count)."""
        n = int(np.prod(self.shape))
        if n == 0:
            raise ValueError(f"bits_per_element of an empty tensor (shape {self.shape}) is undefined; "
                             f"total_bits is {self.total_bits}")
        return (self.total_bits - (32 if self.tensor_scale is not None else 0)) / n

    @property
    def total_bits(self) -> int:
        """Every bit stored, the FP32 tensor scale included."""
        fmt = self.format
        b = self._blocking
        n_blocks = int(np.prod(b.scale_shape))
        bits = n_blocks * b.block_elems * fmt.element.bits + n_blocks * fmt.scale_storage_bits
        if self.zero_points is not None:
            bits += n_blocks * fmt.element.bits
        return bits + (32 if self.tensor_scale is not None else 0)

    def packed(self) -> Packed:
        """The bytes as stored: element codes of whole blocks (block order, padding included) as an
        LSB-first bit stream (two E2M1 per byte, low nibble first; four FP6 per 3 bytes), scales one
        code each in little-endian bytes of their width, zero points packed like elements."""
        from kernels import pack_bits
        fmt = self.format
        self.validate()
        blocks, b = self._blocks()
        data = pack_bits(np.ascontiguousarray(blocks).reshape(-1).astype(np.uint32), fmt.element.bits)
        scales = _code_bytes(b.scales_to_blocks(self.scales), fmt.scale_storage_bits)
        zps = None
        if self.zero_points is not None:
            zps = pack_bits(b.scales_to_blocks(self.zero_points).astype(np.uint32), fmt.element.bits).tobytes()
        return Packed(data.tobytes(), scales, zps, self.tensor_scale)

    @classmethod
    def from_packed(cls, fmt: BlockFormat, packed: Packed, shape, axis=-1) -> "BlockTensor":
        """Rebuild a BlockTensor from `packed()` output, the original shape and axis."""
        from kernels import unpack_bits
        if not isinstance(fmt, BlockFormat):
            raise TypeError(f"fmt must be a BlockFormat, got {type(fmt).__name__}")
        if not isinstance(packed, Packed):
            raise TypeError(f"packed must be a Packed, got {type(packed).__name__}")
        shape = _shape_arg(shape)
        if axis is None and isinstance(fmt.block_size, tuple):
            raise ValueError("tile block sizes need explicit axes, not axis=None")
        if axis is None:
            b = Blocking.make((int(np.prod(shape)),), fmt.block_size, 0)
        else:
            b = Blocking.make(shape, fmt.block_size, axis)
        n_blocks = int(np.prod(b.scale_shape))
        n_codes = n_blocks * b.block_elems
        data = np.frombuffer(packed.data, np.uint8)
        need = -(-n_codes * fmt.element.bits // 8)
        if data.size != need:
            raise ValueError(f"packed.data holds {data.size} bytes; shape {shape} needs {need}")
        codes = unpack_bits(data, fmt.element.bits, n_codes).astype(fmt.element.code_dtype)
        codes = b.from_blocks(codes.reshape(n_blocks, b.block_elems))
        scales = b.scales_from_blocks(_code_array(packed.scales, fmt.scale_storage_bits, n_blocks,
                                                   fmt.scale.code_dtype))
        zps = None
        if fmt.zero_point:
            if packed.zero_points is None:
                raise ValueError(f"{fmt.name} stores zero points; packed.zero_points is None")
            zdata = np.frombuffer(packed.zero_points, np.uint8)
            zneed = -(-n_blocks * fmt.element.bits // 8)
            if zdata.size != zneed:
                raise ValueError(f"packed.zero_points holds {zdata.size} bytes; {n_blocks} blocks need {zneed}")
            zp = unpack_bits(zdata, fmt.element.bits, n_blocks)
            zps = b.scales_from_blocks(zp.astype(fmt.element.code_dtype))
        if fmt.tensor_scale and packed.tensor_scale is None:
            raise ValueError(f"{fmt.name} has a tensor scale; packed.tensor_scale is None")
        # bytes the format has no place for mean the Packed came from another format: say so
        if not fmt.tensor_scale and packed.tensor_scale is not None:
            raise ValueError(f"{fmt.name} has no tensor scale; packed.tensor_scale is {packed.tensor_scale!r}")
        if not fmt.zero_point and packed.zero_points is not None:
            raise ValueError(f"{fmt.name} stores no zero points; packed.zero_points holds "
                             f"{len(packed.zero_points)} bytes")
        codes = codes.reshape(shape) if axis is None else codes
        return cls(format=fmt, codes=np.ascontiguousarray(codes), scales=np.ascontiguousarray(scales),
                   tensor_scale=packed.tensor_scale if fmt.tensor_scale else None, zero_points=zps,
                   axis=axis if axis is None else b.axes[0] if len(b.axes) == 1 else b.axes, shape=shape)


def _width(bits: int) -> int:
    """Bytes per stored scale code: the smallest of 1, 2, 4, 8 holding `bits`."""
    return next(w for w in (1, 2, 4, 8) if bits <= 8 * w)


def _code_bytes(codes: np.ndarray, bits: int) -> bytes:
    return codes.astype(f"<u{_width(bits)}").tobytes()


def _code_array(buf: bytes, bits: int, n: int, dtype) -> np.ndarray:
    width = _width(bits)
    if len(buf) % width:
        raise ValueError(f"packed.scales holds {len(buf)} bytes, not a whole number of {width}-byte codes")
    arr = np.frombuffer(buf, f"<u{width}")
    if arr.size != n:
        raise ValueError(f"packed.scales holds {arr.size} codes; {n} blocks need {n}")
    return arr.astype(dtype)


def _shape_arg(shape) -> tuple:
    """shape as a non-empty tuple of non-negative Python ints."""
    if not isinstance(shape, tuple | list):
        raise TypeError(f"shape must be a tuple of ints, got {type(shape).__name__}")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, int | np.integer):
            raise TypeError(f"shape must be a tuple of ints, got {shape!r}")
        if s < 0:
            raise ValueError(f"shape entries must be non-negative, got {shape!r}")
    if not shape:
        raise ValueError("shape must have at least one dimension")
    return tuple(int(s) for s in shape)


def _code_array_arg(arr, name: str, f) -> np.ndarray:
    """An integer array of codes as the format's C-contiguous code dtype (range checked by validate)."""
    arr = np.asarray(arr)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array of {f.name} codes, got dtype {arr.dtype}")
    if arr.dtype != f.code_dtype:  # check before the cast, which would wrap -1 or 2**bits + 3 into range
        if arr.size and np.issubdtype(arr.dtype, np.signedinteger) and arr.min() < 0:
            raise ValueError(f"{name} must lie in 0..{(1 << f.bits) - 1} for {f.name} ({f.bits} bits), "
                             f"got {int(arr.min())}")
        _check_code_range(arr, name, f)
        arr = arr.astype(f.code_dtype)
    return np.ascontiguousarray(arr)


def _check_code_range(arr: np.ndarray, name: str, f) -> None:
    """Every code < 2**bits (a dtype of exactly `bits` bits needs no pass over the data)."""
    if arr.size and arr.dtype.itemsize * 8 > f.bits:
        hi = int(arr.max())
        if hi >= (1 << f.bits):
            raise ValueError(f"{name} must lie in 0..{(1 << f.bits) - 1} for {f.name} ({f.bits} bits), got {hi}")
