"""lowbit numerics: bit-exact number formats, block formats."""

from . import ops, testing
from .accumulate import (
    AccMethod,
    Accumulator,
    accumulator_names,
    get_accumulator,
    matmul,
    register_accumulator,
)
from .blocks import (
    BlockFormat,
    BlockTensor,
    Packed,
    ScaleRule,
    block_format_names,
    get_block_format,
    register_block_format,
)
from .compress import (
    CompressedWeight,
    RandomHadamard,
    compress,
    compression_methods,
    incoherence,
    load_weights,
)
from .formats import (
    FloatFormat,
    IntFormat,
    LogFormat,
    LookupFormat,
    NanPolicy,
    PositFormat,
    ScalarFormat,
    format_names,
    get_format,
    quire_dot,
    register_format,
)
from .formats.rbits import rbits_from_ptx
from .rounding import RoundMode
from .sparse import SparseTensor, sparse24

__all__ = [
    "AccMethod", "Accumulator", "accumulator_names", "get_accumulator", "matmul", "register_accumulator",
    "BlockFormat", "BlockTensor", "FloatFormat", "IntFormat", "LogFormat", "LookupFormat", "NanPolicy", "Packed",
    "PositFormat", "RoundMode", "rbits_from_ptx", "ScalarFormat", "ScaleRule", "block_format_names", "format_names",
    "get_block_format", "get_format", "quire_dot", "register_block_format", "register_format", "SparseTensor",
    "sparse24", "CompressedWeight", "RandomHadamard", "compress", "compression_methods", "incoherence",
    "load_weights", "ops", "testing",
]
from .fake_quant import fake_quant, fake_quant_matmul  # noqa: E402  (torch/jax imported lazily, only when a tensor arrives)

__all__ += ["fake_quant", "fake_quant_matmul"]
