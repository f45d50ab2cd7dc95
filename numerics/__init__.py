"""lowbit numerics: bit-exact number formats."""

from .formats import (
           FloatFormat,
           IntFormat,
           NanPolicy,
           ScalarFormat,
           format_names,
           get_format,
           register_format,
)
from .rounding import RoundMode

__all__ = ["FloatFormat", "IntFormat", "NanPolicy", "RoundMode", "ScalarFormat", "format_names",
           "get_format", "register_format"]
