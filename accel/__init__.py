"""lowbit accel: the hardware model (design points, timing, energy, accuracy reports, sweeps) and the CLI."""

from .accuracy import AccuracyCache, error_metrics, quantized_matmul
from .analog import PCM, RRAM, SRAM, Crossbar, HermesPCM, IdealDevice, Periphery, analog_matmul, macro_report
from .design import Design, MemoryLevel, SparseTensorCore, SystolicArray, TensorCore, load_design
from .importers import from_onnx, from_scalesim_csv, from_torch, simulate_model
from .interconnect import AllReduce, Interconnect, allreduce_timing
from .network import Dense, Network, digits_mlp, linear_training, transformer_block
from .ops import Elementwise, KernelCost, elementwise_timing
from .presets import design_names, get_design
from .quantize_model import compress_model, layer_hessians, quantize_model
from .simulate import Report, simulate
from .sweep import (
    apply_point,
    grid_points,
    pareto_front,
    plot_pareto,
    read_results,
    set_field,
    set_fields,
    sweep,
    write_csv,
)
from .systolic import Dataflow
from .timing import Timing, gemm_timing
from .transformer import Layer, transformer_layer
from .workloads import Gemm, mma_formats

__all__ = [
    # designs and their parts
    "Crossbar", "Dataflow", "Design", "HermesPCM", "IdealDevice", "Interconnect", "KernelCost", "MemoryLevel", "PCM",
    "Periphery", "RRAM", "SRAM", "SparseTensorCore", "SystolicArray", "TensorCore", "design_names", "get_design",
    "load_design",
    # workloads
    "AllReduce", "Dense", "Elementwise", "Gemm", "Layer", "Network", "digits_mlp", "linear_training",
    "mma_formats", "transformer_block", "transformer_layer",
    # bring your own model
    "compress_model", "from_onnx", "from_scalesim_csv", "from_torch", "layer_hessians", "quantize_model",
    "simulate_model",
    # simulation
    "AccuracyCache", "Report", "Timing", "allreduce_timing", "analog_matmul", "elementwise_timing", "error_metrics",
    "gemm_timing", "macro_report", "quantized_matmul", "simulate",
    # sweeps
    "apply_point", "grid_points", "pareto_front", "plot_pareto", "read_results", "set_field", "set_fields", "sweep",
    "write_csv",
]
