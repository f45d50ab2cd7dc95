"""Scalar number formats as data."""

from .base import ScalarFormat
from .floats import FloatFormat, NanPolicy
from .ints import IntFormat
from .lookup import LogFormat, LookupFormat
from .posits import PositFormat, quire_dot
from .registry import format_names, get_format, register_format

__all__ = ["FloatFormat", "IntFormat", "LogFormat", "LookupFormat", "NanPolicy", "PositFormat", "ScalarFormat",
           "format_names", "get_format", "quire_dot", "register_format"]
