"""Scalar number formats as data."""

from .base import ScalarFormat
from .floats import FloatFormat, NanPolicy
from .ints import IntFormat
from .registry import format_names, get_format, register_format

__all__ = ["FloatFormat", "IntFormat", "NanPolicy", "ScalarFormat", "format_names", "get_format",
           "register_format"]
