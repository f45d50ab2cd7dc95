"""lowbit accel: the hardware model (design points, systolic-array timing) and the CLI."""

from .design import Design, MemoryLevel, SystolicArray, TensorCore, load_design
from .presets import design_names, get_design
from .systolic import Dataflow

__all__ = ["Dataflow", "Design", "MemoryLevel", "SystolicArray", "TensorCore", "design_names", "get_design",
           "load_design"]
