"""lowbit accel: the hardware model (design points, timing, energy, accuracy reports, sweeps) and the CLI."""

from .accuracy import error_metrics, quantized_matmul
from .analog import PCM, RRAM, Crossbar, IdealDevice, analog_matmul
from .design import Design, MemoryLevel, SparseTensorCore, SystolicArray, TensorCore, load_design
from .interconnect import AllReduce, Interconnect, allreduce_timing
from .network import Dense, Network, digits_mlp, linear_training, transformer_block
from .ops import Elementwise, KernelCost, elementwise_timing
from .presets import design_names, get_design
from .simulate import Report, simulate
from .sweep import apply_point, grid_points, pareto_front, plot_pareto, read_results, set_field, sweep, write_csv
from .systolic import Dataflow
from .timing import Timing, gemm_timing
from .transformer import Layer, transformer_layer
from .workloads import Gemm

__all__ = ["PCM", "RRAM", "Crossbar", "IdealDevice", "analog_matmul",
           "Dataflow", "Dense", "Design", "Gemm", "MemoryLevel", "Network", "Report", "SparseTensorCore",
           "SystolicArray", "TensorCore", "Timing", "apply_point", "design_names", "digits_mlp", "error_metrics",
           "gemm_timing", "get_design", "grid_points", "linear_training", "load_design", "pareto_front",
           "plot_pareto", "quantized_matmul", "read_results", "set_field", "simulate", "sweep", "transformer_block",
           "write_csv", "AllReduce", "Elementwise", "Interconnect", "KernelCost", "Layer", "allreduce_timing",
           "elementwise_timing", "transformer_layer"]
# compute-in-memory macros (issue #16)
from .analog import SRAM, Periphery, macro_report  # noqa: E402

__all__ += ["Periphery", "SRAM", "macro_report"]
# accuracy cache and mixed-precision pairing (issue #17)
from .accuracy import AccuracyCache  # noqa: E402
from .workloads import mma_formats  # noqa: E402

__all__ += ["AccuracyCache", "mma_formats"]
