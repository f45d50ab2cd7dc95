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
        blocks, b = self._blocks()
        svals = fmt.scale.decode(b.scales_to_blocks(self.scales))
        if self.tensor_scale is not None:
            svals = svals * self.tensor_scale  # exact in float64: both factors are float32 values
        if self.zero_points is not None:
            vals = fmt.element.decode(blocks) - fmt.element.decode(b.scales_to_blocks(self.zero_points))[:, None]
            vals = vals * svals[:, None]
        elif fmt.element.bits <= 16:
            # codes come from encode or from_packed (unpacked at the element width): always in range
            vals = kernels.block_decode(fmt.element._table, np.ascontiguousarray(blocks), svals)
        else:
            vals = fmt.element.decode(blocks) * svals[:, None]
        return b.from_blocks(vals).reshape(self.shape)

    @property
    def bits_per_element(self) -> float:
        """Stored bits (elements incl. padding, scales, zero points) per element of the input; the
        single FP32 tensor scale is amortised away (see `total_bits` for the exact count)."""
        n = int(np.prod(self.shape))
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
        if not isinstance(packed, Packed):
            raise TypeError(f"packed must be a Packed, got {type(packed).__name__}")
        shape = tuple(int(s) for s in shape)
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
            zp = unpack_bits(np.frombuffer(packed.zero_points, np.uint8), fmt.element.bits, n_blocks)
            zps = b.scales_from_blocks(zp.astype(fmt.element.code_dtype))
        if fmt.tensor_scale and packed.tensor_scale is None:
            raise ValueError(f"{fmt.name} has a tensor scale; packed.tensor_scale is None")
        codes = codes.reshape(shape) if axis is None else codes
        return cls(format=fmt, codes=np.ascontiguousarray(codes), scales=np.ascontiguousarray(scales),
                   tensor_scale=packed.tensor_scale if fmt.tensor_scale else None, zero_points=zps,
                   axis=axis if axis is None else b.axes[0] if len(b.axes) == 1 else b.axes, shape=shape)


def _code_bytes(codes: np.ndarray, bits: int) -> bytes:
    width = 1 if bits <= 8 else 2 if bits <= 16 else 4
    return codes.astype(f"<u{width}").tobytes()


def _code_array(buf: bytes, bits: int, n: int, dtype) -> np.ndarray:
    width = 1 if bits <= 8 else 2 if bits <= 16 else 4
    arr = np.frombuffer(buf, f"<u{width}")
    if arr.size != n:
        raise ValueError(f"packed.scales holds {arr.size} codes; {n} blocks need {n}")
    return arr.astype(dtype)
