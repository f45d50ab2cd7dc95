"""Block-scaled formats: OCP MX, NVFP4, group-wise / per-channel / per-tensor INT-N."""

from .format import BlockFormat
from .registry import block_format_names, get_block_format, register_block_format
from .rules import ScaleRule
from .tensor import BlockTensor, Packed

__all__ = ["BlockFormat", "BlockTensor", "Packed", "ScaleRule", "block_format_names", "get_block_format",
           "register_block_format"]
