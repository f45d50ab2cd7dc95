"""Bring your own model: PyTorch modules (torch.export), ONNX files and SCALE-Sim topology CSVs as lowbit
workloads (accel.transformer.Layer: GEMMs plus element-wise ops), and their per-op simulation.
torch and onnx are optional extras, imported only when used."""

from .scalesim import from_scalesim_csv
from .simulate_model import load_model, plot_model_rows, simulate_model, write_jsonl


def from_torch(model, example_inputs, format: str = "fp16", act_format: str = "fp16", strict: bool = True,
               name: str | None = None):
    from .torch_import import from_torch as _f
    return _f(model, example_inputs, format, act_format, strict, name)


def from_onnx(path, format: str = "fp16", act_format: str = "fp16", input_shapes: dict | None = None,
              strict: bool = True, name: str | None = None):
    from .onnx_import import from_onnx as _f
    return _f(path, format, act_format, input_shapes, strict, name)


from_torch.__doc__ = "See accel.importers.torch_import.from_torch (imports torch when called)."
from_onnx.__doc__ = "See accel.importers.onnx_import.from_onnx (imports onnx when called)."

__all__ = ["from_onnx", "from_scalesim_csv", "from_torch", "load_model", "plot_model_rows", "simulate_model",
           "write_jsonl"]
