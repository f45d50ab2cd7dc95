"""Scalar number formats as data."""

from .base import ScalarFormat
from .floats import FloatFormat, NanPolicy
from .ints import IntFormat
from .posits import PositFormat, quire_dot
from .registry import format_names, get_format, register_format

__all__ = ["FloatFormat", "IntFormat", "NanPolicy", "PositFormat", "ScalarFormat", "format_names", "get_format",
           "quire_dot", "register_format"]
