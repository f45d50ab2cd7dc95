"""Block-scaled formats: OCP MX, NVFP4, group-wise / per-channel / per-tensor INT-N."""

from .format import RECIPES, BlockFormat
from .hadamard import hadamard_signs, random_hadamard
from .registry import block_format_names, get_block_format, register_block_format
from .rules import ScaleRule
from .tensor import BlockTensor, Packed

__all__ = ["RECIPES", "BlockFormat", "BlockTensor", "Packed", "ScaleRule", "block_format_names", "get_block_format",
           "hadamard_signs", "random_hadamard", "register_block_format"]
