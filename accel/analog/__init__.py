"""Analog in-memory computing: resistive devices, crossbar tiles, and their cost; compute-in-memory macros as
sums of components (ADCs, drivers, cells, integrators, shift-add), analog and SRAM."""

from .crossbar import Crossbar, ProgrammedMatrix, analog_matmul
from .devices import PCM, RRAM, SRAM, HermesPCM, IdealDevice, get_device
from .macros import PERIPHERIES, Periphery, mvm_cost, mvm_cost_grid
from .report import macro_report

__all__ = ["PCM", "PERIPHERIES", "RRAM", "SRAM", "Crossbar", "HermesPCM", "IdealDevice", "Periphery",
           "ProgrammedMatrix", "analog_matmul", "get_device", "macro_report", "mvm_cost", "mvm_cost_grid"]
