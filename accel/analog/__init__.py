"""Analog in-memory computing: resistive devices, crossbar tiles, and their cost."""

from .crossbar import Crossbar, ProgrammedMatrix, analog_matmul
from .devices import PCM, RRAM, IdealDevice, get_device

__all__ = ["PCM", "RRAM", "Crossbar", "IdealDevice", "ProgrammedMatrix", "analog_matmul", "get_device"]
